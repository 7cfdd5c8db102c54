"""Cleaning that keeps the source recoverable.

Cleaning only deletes characters or replaces one character by one character,
so every character of the cleaned text maps back to exactly one character of
the raw text.  ``CleanText.raw_offset(i)`` gives that position; the mapping is
stored compactly as runs ``[clean_start, raw_start, length]``.

What is removed: carriage returns, zero-width and control characters,
markdown emphasis markers around text (``**12**`` -> ``12``), indentation and
trailing spaces on each line, and blank lines beyond one in a row.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_CONTROL = "".join(chr(c) for c in range(32) if chr(c) not in "\n\t") + "\x7f"
_DROP_CHARS = re.compile(f"[{re.escape(_ZERO_WIDTH + _CONTROL)}]")
# Paired emphasis markers: **bold**, __bold__ (content must not start/end with a space).
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_LEADING_WS = re.compile(r"^[ \t\u3000\u00a0]+", re.M)
_TRAILING_WS = re.compile(r"[ \t\u3000\u00a0]+$", re.M)
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass
class CleanText:
    text: str
    runs: list[list[int]]  # [clean_start, raw_start, length], sorted by clean_start

    def raw_offset(self, i: int) -> int:
        """Position in the raw text of cleaned character ``i``."""
        if not self.runs:
            return i
        k = bisect.bisect_right([r[0] for r in self.runs], i) - 1
        k = max(k, 0)
        cs, rs, _ = self.runs[k]
        return rs + (i - cs)


def _delete(text: str, index: list[int], spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """Remove ``spans`` (start, end) from ``text``; keep ``index`` (raw position per char) aligned."""
    if not spans:
        return text, index
    out, idx, pos = [], [], 0
    for s, e in spans:
        out.append(text[pos:s])
        idx.extend(index[pos:s])
        pos = e
    out.append(text[pos:])
    idx.extend(index[pos:])
    return "".join(out), idx


def _spans(pattern: re.Pattern, text: str, group: int | None = None) -> list[tuple[int, int]]:
    if group is None:
        return [m.span() for m in pattern.finditer(text)]
    return [m.span(group) for m in pattern.finditer(text)]


def _runs(index: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for ci, ri in enumerate(index):
        if runs and runs[-1][1] + runs[-1][2] == ri and runs[-1][0] + runs[-1][2] == ci:
            runs[-1][2] += 1
        else:
            runs.append([ci, ri, 1])
    return runs


def clean(raw: str) -> CleanText:
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    # "\r\n" -> "\n" removed one char per pair; rebuild the index on the original.
    index: list[int] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\r" and i + 1 < len(raw) and raw[i + 1] == "\n":
            i += 1
            continue
        index.append(i)
        i += 1
    text, index = _delete(text, index, _spans(_DROP_CHARS, text))
    emphasis = []
    for m in _EMPHASIS.finditer(text):
        emphasis.append((m.start(1), m.end(1)))
        emphasis.append((m.end(2), m.end()))
    text, index = _delete(text, index, emphasis)
    text, index = _delete(text, index, _spans(_LEADING_WS, text))
    text, index = _delete(text, index, _spans(_TRAILING_WS, text))
    blank = [(m.start() + 2, m.end()) for m in _EXTRA_BLANK_LINES.finditer(text)]
    text, index = _delete(text, index, blank)
    body = text.strip("\n")
    if not body:
        return CleanText("", [])
    lead = len(text) - len(text.lstrip("\n"))
    text, index = text[lead : lead + len(body)], index[lead : lead + len(body)]
    return CleanText(text, _runs(index))
