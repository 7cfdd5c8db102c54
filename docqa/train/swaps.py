"""Unanswerable questions made by swapping a place (training only).

An answerable question that names a place the documents mention is asked
again with that place replaced by a well-known one they never mention
(``docqa/train/places.toml``): 「北京累计备案了多少家…」 over
documents about Shanghai.  The passages still answer the same question for
another place, so nothing may answer it — the hardest kind of negative, and
the one a portal meets when someone asks about a city, country or province
its documents do not cover.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

from docqa.api import Engine
from docqa.eval.questions import EvalQuestion
from docqa.question import Question

_PLACES = sorted(set(tomllib.loads((Path(__file__).parent / "places.toml").read_text("utf-8"))["places"].split()))
TRIES = 4


def _order(key: str) -> list[str]:
    """The places in an order fixed by ``key`` (deterministic, spread out)."""
    return sorted(_PLACES, key=lambda p: hashlib.sha256(f"{key}\t{p}".encode()).hexdigest())


def swapped(engine: Engine, q: EvalQuestion, analysed: Question, top_k: int):
    """``(question, analysis, passages)`` for ``q`` (analysed as ``analysed``)
    with its weightiest place swapped for one the documents never mention, or
    None when it names no place they mention (or no swap leaves the documents
    without it)."""
    places = sorted((t for t in analysed.terms if t.entity and t.seen and t.text in q.question), key=lambda t: -t.weight)
    if not places:
        return None
    place = places[0].text
    for other in [p for p in _order(q.id) if p not in place and place not in p][:TRIES]:
        text = q.question.replace(place, other)
        asked, hits = engine.inspect(text, top_k)
        if other in asked.missing_entities:
            return text, asked, hits
    return None
