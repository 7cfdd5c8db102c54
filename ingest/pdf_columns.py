"""Reading order on a laid-out page: columns found from their gutters.

A gutter is a vertical strip of white space that runs through at least
``MIN_GUTTER_LINES`` lines' height with text beside it on both sides, side
by side, and columns at least ``MIN_COLUMN_WIDTH`` sizes (and
``MIN_COLUMN_SHARE`` of the text width) wide on either side.  Items (line
pieces and tables) are read region by region, split at the tallest gutter
first: what lies above its strip (a full-width title), then the column left
of it, then the one right of it (each searched again for gutters: three
columns are two), then what lies below (a full-width table, the next band of
columns).  A column
with no gutter is a ``Leaf``: its items top to bottom, the pieces of one line
joined into one line.

Works on any ``PageLine``, from a text layer or from OCR (whose lines may be
slightly skewed: only the boxes' extents are used).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from docqa.ingest.pages import PageLine

MIN_GUTTER_LINES = 3.0  # a gutter is at least this many lines (of 1.3 sizes) high
MIN_GUTTER_WIDTH = 0.8  # … and this many sizes wide
MIN_COLUMN_WIDTH = 4.0  # a column is at least this many sizes wide …
MIN_COLUMN_SHARE = 0.12  # … and this share of the page's text width
SAME_LINE = 0.5  # two pieces overlapping by this share of the lower one's height are on one line


@dataclass
class Gutter:
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class Leaf:
    """Items of one column (or full-width band) in reading order; ``x0``, ``x1``: the column's edges."""

    x0: float
    x1: float
    items: list[Any] = field(default_factory=list)  # PageLine or pdf_tables.Table


def _mid(item: Any) -> float:
    return (item.top + item.bottom) / 2


def find_gutters(items: Sequence[Any], size: float) -> list[Gutter]:
    """The column gutters among ``items`` (anything with ``x0``, ``top``, ``x1``, ``bottom``)."""
    if len(items) < 4:
        return []
    x0 = np.array([i.x0 for i in items])
    x1 = np.array([i.x1 for i in items])
    top = np.array([i.top for i in items])
    bottom = np.array([i.bottom for i in items])
    ox, oy = math.floor(x0.min()), math.floor(top.min())
    width, height = math.ceil(x1.max()) - ox + 1, math.ceil(bottom.max()) - oy + 1
    occupied = np.zeros((height + 2, width), dtype=np.int8)  # a filled row above and below
    occupied[0, :] = occupied[-1, :] = 1
    for i in items:
        occupied[math.floor(i.top) - oy + 1 : math.ceil(i.bottom) - oy + 1, math.floor(i.x0) - ox : math.ceil(i.x1) - ox] = 1
    # runs of free cells down each column of the grid: +1 where one starts, -1 after it ends
    edges = np.diff(1 - occupied, axis=0).T
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)
    tall = (ends[:, 1] - starts[:, 1] >= MIN_GUTTER_LINES * 1.3 * size) & (starts[:, 0] > 0) & (starts[:, 0] < width - 1)
    runs: dict[tuple[int, int], list[int]] = {}
    for x, ya, yb in zip(starts[tall, 0].tolist(), starts[tall, 1].tolist(), ends[tall, 1].tolist()):
        runs.setdefault((ya, yb), []).append(x)
    candidates = []
    for (ya, yb), xs in runs.items():
        first = prev = xs[0]
        for x in [*xs[1:], None]:
            if x is not None and x == prev + 1:
                prev = x
                continue
            candidates.append(Gutter(ox + first, ox + prev + 1, oy + ya, oy + yb))
            if x is not None:
                first = prev = x
    text_width = float(x1.max() - x0.min())
    gutters: list[Gutter] = []
    for g in sorted(candidates, key=lambda g: (g.bottom - g.top, g.x1 - g.x0), reverse=True):
        if any(g.x0 <= a.x1 + 2 and a.x0 <= g.x1 + 2 and g.top < a.bottom and a.top < g.bottom for a in gutters):
            continue
        if g.x1 - g.x0 >= MIN_GUTTER_WIDTH * size and _columns_beside(g, x0, top, x1, bottom, size, text_width):
            gutters.append(g)
    return gutters


def _columns_beside(
    g: Gutter, x0: np.ndarray, top: np.ndarray, x1: np.ndarray, bottom: np.ndarray, size: float, text_width: float
) -> bool:
    mid = (top + bottom) / 2
    beside = (mid >= g.top) & (mid <= g.bottom)
    left, right = beside & (x1 <= g.x0 + 1), beside & (x0 >= g.x1 - 1)
    if left.sum() < 2 or right.sum() < 2:
        return False
    need = max(MIN_COLUMN_WIDTH * size, MIN_COLUMN_SHARE * text_width)
    if x1[left].max() - x0[left].min() < need or x1[right].max() - x0[right].min() < need:
        return False
    # side by side, not one above the other: some left item level with some right item
    lt, lb, rt, rb = top[left][:, None], bottom[left][:, None], top[right][None, :], bottom[right][None, :]
    return bool(np.any((lt < rb) & (rt < lb)))


def _splits(g: Gutter, items: Sequence[Any]) -> bool:
    beside = [i for i in items if g.top <= _mid(i) <= g.bottom]
    return any(i.x1 <= g.x0 + 1 for i in beside) and any(i.x0 >= g.x1 - 1 for i in beside)


def _order(items: list[Any], gutters: list[Gutter], frame: tuple[float, float]) -> list[Leaf]:
    if not items:
        return []
    usable = [g for g in gutters if _splits(g, items)]
    if not usable:
        return [Leaf(frame[0], frame[1], merge_rows(items))]
    # the tallest first: then a short strip of ragged line ends cannot split a column
    g = min(usable, key=lambda g: (g.top - g.bottom, g.x0))
    rest = [o for o in gutters if o is not g]
    centre = (g.x0 + g.x1) / 2
    before = [i for i in items if _mid(i) < g.top]
    after = [i for i in items if _mid(i) > g.bottom]
    beside = [i for i in items if g.top <= _mid(i) <= g.bottom]
    left = [i for i in beside if (i.x0 + i.x1) / 2 < centre]
    right = [i for i in beside if (i.x0 + i.x1) / 2 >= centre]
    return (
        _order(before, rest, frame)
        + _order(left, rest, (frame[0], g.x0))
        + _order(right, rest, (g.x1, frame[1]))
        + _order(after, rest, frame)
    )


def reading_order(items: Sequence[Any], frame: tuple[float, float], size: float) -> list[Leaf]:
    """``items`` of one page as leaves (columns and full-width bands) in reading order;
    ``frame``: the left and right edges of the page's text; ``size``: its body font size."""
    return _order(list(items), find_gutters(items, size), frame)


def merge_rows(items: Sequence[Any]) -> list[Any]:
    """Items top to bottom; ``PageLine`` pieces level with each other joined into one line."""
    rows: list[list[Any]] = []
    for item in sorted(items, key=lambda i: (i.top, i.x0)):
        if rows and isinstance(item, PageLine) and isinstance(rows[-1][0], PageLine):
            first = rows[-1][0]
            overlap = min(first.bottom, item.bottom) - max(first.top, item.top)
            if overlap >= SAME_LINE * min(first.bottom - first.top, item.bottom - item.top):
                rows[-1].append(item)
                continue
        rows.append([item])
    return [_merge(r) if len(r) > 1 else r[0] for r in rows]


def _merge(pieces: list[PageLine]) -> PageLine:
    pieces = sorted(pieces, key=lambda p: p.x0)
    text, xs = pieces[0].text, list(pieces[0].char_x) if pieces[0].char_x is not None else None
    for prev, p in zip(pieces, pieces[1:]):
        xs = xs + [prev.x1] + list(p.char_x) if xs is not None and p.char_x is not None else None
        text += " " + p.text
    main = max(pieces, key=lambda p: len(p.text))
    return PageLine(
        text=text,
        page=main.page,
        x0=min(p.x0 for p in pieces),
        top=min(p.top for p in pieces),
        x1=max(p.x1 for p in pieces),
        bottom=max(p.bottom for p in pieces),
        size=main.size,
        bold=all(p.bold for p in pieces),
        confidence=min(p.confidence for p in pieces),
        char_x=xs,
    )
