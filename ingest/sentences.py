"""Chinese-aware sentence and clause splitting with character offsets."""

from __future__ import annotations

import re

from docqa.lang import load
from docqa.records import Unit
from docqa.text import CJK_TEXT, CLOSING, SENTENCE_MARKS, sentence_spans


def _full_stop() -> str:
    """A Latin full stop that ends a sentence: before a space or the end, but
    not after an initial (S.G. Tallentyre), an abbreviation (zh.toml's
    ``latin_abbreviations``: Dr. Smith) or a list number or letter at a line's
    start (1. 打开官网, which is one sentence as 1、打开官网 is)."""
    # Each is its own look-behind (a look-behind has one width); a word starts where no letter precedes it.
    line_start = [rf"(?<![^\n]){n}" for n in (r"\d", r"\d\d", r"[A-Za-z]")]
    words = ["[A-Z]", *(re.escape(w) for w in load("zh").words["latin_abbreviations"])]
    words = [rf"(?<![A-Za-z]){w}" for w in words]
    guards = "".join(f"(?<!{w})" for w in [*line_start, *words])
    return rf"{guards}\.(?=\s|$)"


# A sentence ends after 。！？；!?; (and an ellipsis), plus any closing quotes or brackets.
_SENT_END = re.compile(rf"(?:[{SENTENCE_MARKS}]|…{{1,2}}|{_full_stop()})[{CLOSING}\]】》]*")
# … or at a line break, where lines are hard (not wrapped PDF text).
_SENT_OR_LINE_END = re.compile(rf"{_SENT_END.pattern}|\n")
# Clause boundaries inside a sentence: a comma or colon, except between digits
# (14:30, 2:1, 1,000 are one number, not two clauses).
_CLAUSE_END = re.compile(rf"(?:(?<!\d)[，,：:]|[，,：:](?!\d))[{CLOSING}\]】》]*")
_CJK = re.compile(f"[{CJK_TEXT}]")
MAX_SENTENCE_CHARS = 400
MAX_UNIT_CHARS = 160


_BULLET = re.compile(r"^(?:[-*•·▪◆●■]\s+)")


def display(text: str) -> str:
    """Join soft line breaks (nothing between CJK characters, a space otherwise)
    and drop a leading bullet marker."""
    text = _BULLET.sub("", text.strip())
    if "\n" not in text:
        return text
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    out = parts[0] if parts else ""
    for p in parts[1:]:
        cjk_join = _CJK.match(out[-1:]) and _CJK.match(p[:1])
        out += p if cjk_join else " " + p
    return out


def _trimmed(doc: str, s: int, e: int) -> tuple[int, int]:
    while s < e and doc[s].isspace():
        s += 1
    while e > s and doc[e - 1].isspace():
        e -= 1
    return s, e


def _split(doc: str, start: int, end: int, boundary: re.Pattern) -> list[tuple[int, int]]:
    """Trimmed, non-empty spans; a boundary inside （…） or “…” does not end a clause or sentence."""
    out = []
    for s, e in sentence_spans(doc, boundary, start, end, nested=True):
        s, e = _trimmed(doc, s, e)
        if e > s:
            out.append((s, e))
    return out


def _limit(doc: str, spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Split over-long sentences at clause boundaries so no unit is huge."""
    out = []
    for s, e in spans:
        if e - s <= limit:
            out.append((s, e))
            continue
        pos = s
        for cs, ce in _split(doc, s, e, _CLAUSE_END):
            if ce - pos > limit and cs > pos:
                out.append(_trimmed(doc, pos, cs))
                pos = cs
        while e - pos > limit:  # no clause boundary at all: cut hard
            out.append((pos, pos + limit))
            pos += limit
        out.append(_trimmed(doc, pos, e))
    return [(s, e) for s, e in out if e > s]


def split_units(doc: str, start: int, end: int, hard_newlines: bool = True) -> list[Unit]:
    """The clauses of the sentences of ``doc[start:end]`` as units (offsets
    into ``doc``); each unit knows its sentence."""
    units = []
    for s, e in _limit(doc, _split(doc, start, end, _SENT_OR_LINE_END if hard_newlines else _SENT_END), MAX_SENTENCE_CHARS):
        for cs, ce in _limit(doc, _split(doc, s, e, _CLAUSE_END), MAX_UNIT_CHARS):
            units.append(Unit(cs, ce, display(doc[cs:ce]), s))
    return units


def split_clauses(doc: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans (offsets into ``doc``) of one sentence."""
    return _split(doc, start, end, _CLAUSE_END)
