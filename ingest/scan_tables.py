"""Ruled tables on scanned pages: the grid found in the page image, filled with the OCR'd lines.

A scan has no drawing commands for pdfplumber to find rules in, so the rules
are found in the image: dark pixels opened with a long thin horizontal (and
vertical) kernel leave only the rules.  A group of crossing rules at least
``MIN_ROWS`` rows high and two columns wide is a table; the horizontal rules'
positions are its row boundaries, the vertical rules' its column boundaries,
and each OCR'd line inside goes to the cell holding its centre (a line that
crosses a column rule is cut there, by its characters' estimated widths).  The
result is the same ``Table`` pdfplumber's rules give, so it is written as
``名称：值`` rows like any other table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from docqa.ingest.pages import PageLine
from docqa.ingest.pdf_lines import join_lines
from docqa.ingest.pdf_tables import Table, TableRow

DARK = 160  # grey level below which a pixel is ink
RULE_SHARE = 0.5  # a rule runs along at least this share of the table's width (height)
MIN_ROWS = 2
MIN_WIDTH = 0.15  # of the page's width
SKEW_PX = 11  # rules are thickened this much (a 0.5 degree skew over 1,200 pixels drifts 10)


def _rules(profile: np.ndarray, span: int) -> list[int]:
    """Centres of runs of ``profile`` (ink per pixel row or column) above ``RULE_SHARE * span``."""
    on = profile >= RULE_SHARE * span
    out, start = [], None
    for i, v in enumerate([*on, False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start + i - 1) // 2)
            start = None
    return out


def find_grids(grey: np.ndarray) -> list[tuple[list[int], list[int]]]:
    """Ruled grids in a greyscale page image: (row rule y's, column rule x's) in pixels."""
    import cv2

    ink = (grey < DARK).astype(np.uint8) * 255
    h, w = ink.shape
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, w // 30), 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, h // 80))))
    grid = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    # a slightly skewed rule drifts across pixel rows: thicken the rules before measuring their length
    horizontal = cv2.dilate(horizontal, np.ones((SKEW_PX, 1), np.uint8))
    vertical = cv2.dilate(vertical, np.ones((1, SKEW_PX), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(grid)
    grids = []
    for x, y, bw, bh, _ in stats[1:count]:
        if bw < MIN_WIDTH * w or bh < 10:
            continue
        rows = _rules((horizontal[y : y + bh, x : x + bw] > 0).sum(axis=1), bw)
        cols = _rules((vertical[y : y + bh, x : x + bw] > 0).sum(axis=0), bh)
        if len(rows) >= MIN_ROWS + 1 and len(cols) >= 3:
            grids.append(([y + r for r in rows], [x + c for c in cols]))
    return grids


def _cells_of(line: PageLine, cols: Sequence[float]) -> list[tuple[int, str]]:
    """(column, text) pieces of ``line``, cut where it crosses column rules (the
    characters' positions estimated from their widths: Latin letters and digits
    about half a CJK character)."""
    widths = np.array([0.55 if ord(ch) < 0x2E80 else 1.0 for ch in line.text])
    edges = line.x0 + (line.x1 - line.x0) * np.concatenate([[0.0], np.cumsum(widths)]) / max(widths.sum(), 1e-6)
    centres = (edges[:-1] + edges[1:]) / 2
    pieces = []
    for c in range(len(cols) - 1):
        text = "".join(ch for ch, x in zip(line.text, centres) if cols[c] <= x < cols[c + 1]).strip()
        if text:
            pieces.append((c, text))
    return pieces


def scanned_tables(grey: np.ndarray, scale: float, page: int, lines: list[PageLine]) -> tuple[list[Table], list[PageLine]]:
    """The ruled tables of a scanned page (``grey``, rendered at ``scale`` pixels per
    point) filled with its OCR'd ``lines``, and the lines left outside them."""
    tables, rest = [], list(lines)
    for row_px, col_px in find_grids(grey):
        rows = [float(y) / scale for y in row_px]
        cols = [float(x) / scale for x in col_px]
        inside = [
            ln for ln in rest if cols[0] <= (ln.x0 + ln.x1) / 2 <= cols[-1] and rows[0] <= (ln.top + ln.bottom) / 2 <= rows[-1]
        ]
        if not inside:
            continue
        cells: list[list[list[str]]] = [[[] for _ in cols[:-1]] for _ in rows[:-1]]
        for ln in sorted(inside, key=lambda ln: (ln.top, ln.x0)):
            r = next(i for i in range(len(rows) - 1) if (ln.top + ln.bottom) / 2 <= rows[i + 1])
            for c, text in _cells_of(ln, cols):
                cells[r][c].append(text)
        table = Table(page, cols[0], rows[0], cols[-1], rows[-1])
        for r, row in enumerate(cells):
            table.rows.append(TableRow([join_lines(texts) for texts in row], cols[0], rows[r], cols[-1], rows[r + 1]))
        tables.append(table)
        rest = [ln for ln in rest if ln not in inside]
    return tables, rest
