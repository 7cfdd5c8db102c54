"""Chinese-aware sentence and clause splitting with character offsets."""
from __future__ import annotations

import re

from docqa.records import Unit

# A sentence ends after 。！？；!?; (and an ellipsis), plus any closing quotes or brackets.
_SENT_END = re.compile(r"(?:[。！？；!?;]|…{1,2}|\.(?=\s|$))[”’」』）)\]】》]*")
# Clause boundaries inside a sentence.
_CLAUSE_END = re.compile(r"[，,：:][”’」』）)\]】》]*")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
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


def _split(doc: str, start: int, end: int, boundary: re.Pattern, hard_newlines: bool) -> list[tuple[int, int]]:
    spans, s = [], start
    depth = _bracket_depth(doc, start, end)
    for m in boundary.finditer(doc, start, end):
        if depth[m.start() - start]:
            continue  # a comma inside （…） or “…” does not end a clause or sentence
        spans.append((s, m.end()))
        s = m.end()
    spans.append((s, end))
    if hard_newlines:
        split = []
        for s, e in spans:
            pos = s
            for i in range(s, e):
                if doc[i] == "\n":
                    split.append((pos, i))
                    pos = i + 1
            split.append((pos, e))
        spans = split
    out = []
    for s, e in spans:
        s, e = _trimmed(doc, s, e)
        if e > s:
            out.append((s, e))
    return out


_OPEN = "（(「『“《【"
_CLOSE = "）)」』”》】"


def _bracket_depth(doc: str, start: int, end: int) -> list[int]:
    """Nesting depth of brackets and quotes at each position (unbalanced ones
    are forgotten at the end of a line, so a stray bracket cannot swallow text)."""
    depth, d = [], 0
    for ch in doc[start:end]:
        if ch in _OPEN:
            d += 1
        elif ch in _CLOSE and d:
            d -= 1
        elif ch == "\n":
            d = 0
        depth.append(d)
    return depth


def _limit(doc: str, spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Split over-long sentences at clause boundaries so no unit is huge."""
    out = []
    for s, e in spans:
        if e - s <= limit:
            out.append((s, e))
            continue
        pos = s
        for cs, ce in _split(doc, s, e, _CLAUSE_END, False):
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
    for s, e in _limit(doc, _split(doc, start, end, _SENT_END, hard_newlines), MAX_SENTENCE_CHARS):
        for cs, ce in _limit(doc, _split(doc, s, e, _CLAUSE_END, False), MAX_UNIT_CHARS):
            units.append(Unit(cs, ce, display(doc[cs:ce]), s))
    return units


def split_clauses(doc: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clause spans (offsets into ``doc``) of one sentence."""
    return _split(doc, start, end, _CLAUSE_END, False)
