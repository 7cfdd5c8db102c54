"""Ruled tables on a PDF page, one line per row with its column names.

``find_tables`` asks pdfplumber for the tables its default ("lines") strategy
finds — cells bounded by drawn rules — and reads each cell's characters with
``pdf_lines`` (a cell's wrapped lines joined as in a paragraph).  A "table" of
one column is a frame around text, not a table, and is left to the text flow.

``Table.lines`` writes each data row as ``名称：值，名称：值`` with the header
row's names (``markdown.row_line``, the form every reader uses), so a figure
keeps what it describes; rows above the header with a single filled cell are
captions, on a line of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from docqa.ingest.markdown import looks_like_header, row_line
from docqa.ingest.pdf_lines import Rect, join_lines, page_lines


@dataclass
class TableRow:
    cells: list[str]
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass
class Table:
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    rows: list[TableRow] = field(default_factory=list)

    def lines(self) -> list[tuple[str, TableRow]]:
        """The text lines of the table, each with the row it comes from."""
        rows = [r for r in self.rows if any(c for c in r.cells)]
        out: list[tuple[str, TableRow]] = []
        width = max((len(r.cells) for r in rows), default=0)
        while len(rows) > 1 and width > 1 and sum(1 for c in rows[0].cells if c) == 1:
            out.append((row_line(rows[0].cells), rows.pop(0)))
        header: list[str] = []
        if len(rows) >= 2 and looks_like_header(rows[0].cells):
            header = rows.pop(0).cells
        out.extend((row_line(r.cells, header), r) for r in rows)
        return [(text, row) for text, row in out if text]


def _inside(ch: dict, box: Rect) -> bool:
    cx, cy = (ch["x0"] + ch["x1"]) / 2, (ch["top"] + ch["bottom"]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _cell_text(chars: Sequence[dict], box: Rect, page: int, stroked: Sequence[Rect]) -> str:
    inside = [c for c in chars if _inside(c, box)]
    return join_lines([line.text for line in page_lines(inside, page, stroked)])


def find_tables(page: Any, number: int, chars: Sequence[dict], stroked: Sequence[Rect] = ()) -> list[Table]:
    """The ruled tables of pdfplumber page ``page`` (page ``number``), with their cells'
    text read from ``chars``."""
    if not page.edges:
        return []
    tables = []
    for found in page.find_tables():
        if max((len(r.cells) for r in found.rows), default=0) < 2:
            continue
        x0, top, x1, bottom = found.bbox
        in_table = [c for c in chars if _inside(c, found.bbox)]
        table = Table(number, x0, top, x1, bottom)
        for row in found.rows:
            cells = [_cell_text(in_table, cell, number, stroked) if cell is not None else "" for cell in row.cells]
            table.rows.append(TableRow(cells, *row.bbox))
        if any(any(r.cells) for r in table.rows):
            tables.append(table)
    return tables


def outside_tables(chars: Sequence[dict], tables: Sequence[Table]) -> list[dict]:
    """``chars`` that are in none of ``tables``."""
    boxes = [(t.x0, t.top, t.x1, t.bottom) for t in tables]
    return [c for c in chars if not any(_inside(c, b) for b in boxes)]
