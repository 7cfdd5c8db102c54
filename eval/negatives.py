"""Negatives: a question asked of the corpus without its evidence must be refused.

Instead of re-indexing the corpus without a question's evidence, the passages
holding it are left out at search time (``Engine.ask(exclude=…)``), which is
equivalent and costs nothing: every passage containing an evidence string
(compared as the metrics compare text) and, when the question names the
document it was written on (``source``), every passage of that document.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from docqa.api import Chunk, Engine
from docqa.eval.metrics import normalize
from docqa.eval.questions import EvalQuestion


class Exclusions:
    """What to leave out for each question, over one engine's passages."""

    def __init__(self, passages: Iterable[tuple[int, Chunk]]):
        self._passages = [(cid, normalize(c.text), Path(c.doc).name) for cid, c in passages]

    @classmethod
    def of(cls, engine: Engine) -> Exclusions:
        return cls(engine.passages())

    def for_question(self, q: EvalQuestion) -> frozenset[int]:
        if not q.negative:
            return frozenset()
        evidence = [e for e in (normalize(x) for x in q.evidence) if e]
        return frozenset(cid for cid, text, doc in self._passages if doc == q.source or any(e in text for e in evidence))
