"""Running headers and footers of a laid-out document, to be left out of its text.

A line in the top or bottom ``MARGIN_BAND`` of its page is running when the
same text, digits aside (``第 3 页`` = ``第 4 页``), appears in that band on
at least half the pages (rounded down, at least 2: odd and even pages often
carry different headers), or when it is a page number alone
(``PAGE_NUMBERS``: ``3``, ``- 3 -``, ``第 3 页``, ``3 / 12``, ``Page 3``).
Lines of a band on one baseline are compared as one row (OCR may read a
header as two pieces), after NFKC (full- and half-width forms alike).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from docqa.ingest.pages import PageLine

MARGIN_BAND = 0.1  # the top and bottom tenth of a page
# A page number standing alone (full match; tests/test_pdf_layout.py checks each).
PAGE_NUMBERS = (
    r"\d{1,4}",
    r"[-–—~·•]+\s*\d{1,4}\s*[-–—~·•]+",
    r"第\s*\d{1,4}\s*页(?:\s*[,，/／]?\s*共\s*\d{1,4}\s*页)?",
    r"共\s*\d{1,4}\s*页\s*[,，/／]?\s*第\s*\d{1,4}\s*页",
    r"\d{1,4}\s*[/／]\s*\d{1,4}",
    r"(?i:page|p\.)\s*\d{1,4}(?:\s*(?i:of|/)\s*\d{1,4})?",
    r"[ivxlc]{1,7}",  # front matter, lower-case roman
)
_PAGE_NUMBER = re.compile("|".join(f"(?:{p})" for p in PAGE_NUMBERS))
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.fullmatch(text.strip()))


def _band(line: PageLine, height: float) -> str | None:
    if line.bottom <= MARGIN_BAND * height:
        return "top"
    if line.top >= (1 - MARGIN_BAND) * height:
        return "bottom"
    return None


def _key(text: str) -> str:
    return _SPACE.sub("", _DIGITS.sub("0", unicodedata.normalize("NFKC", text))).casefold()


def _rows(lines: Sequence[PageLine], height: float) -> list[tuple[str, list[PageLine]]]:
    """The margin-band lines of a page grouped into rows (one baseline: OCR may cut a
    header in two where a column gutter runs below it), each with its band."""
    rows: list[tuple[str, list[PageLine]]] = []
    for line in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        band = _band(line, height)
        if band is None:
            continue
        last = rows[-1][1][-1] if rows else None
        if last is not None and rows[-1][0] == band and abs(line.top - last.top) <= 0.5 * max(line.size, 1.0):
            rows[-1][1].append(line)
        else:
            rows.append((band, [line]))
    return [(band, sorted(row, key=lambda ln: ln.x0)) for band, row in rows]


def running_lines(pages: Sequence[Sequence[PageLine]], heights: Sequence[float]) -> set[int]:
    """The ``id()`` of every running header, footer and page number among the lines of ``pages``."""
    rows = [_rows(lines, height) for lines, height in zip(pages, heights)]
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    for number, page_rows in enumerate(rows):
        for band, row in page_rows:
            seen[band, _key("".join(ln.text for ln in row))].add(number)
    need = max(2, sum(1 for lines in pages if lines) // 2)
    out: set[int] = set()
    for page_rows in rows:
        for band, row in page_rows:
            text = "".join(ln.text for ln in row)
            if len(seen[band, _key(text)]) >= need or is_page_number(text):
                out.update(id(ln) for ln in row)
            else:
                out.update(id(ln) for ln in row if is_page_number(ln.text))
    return out
