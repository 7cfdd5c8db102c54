"""Ruled tables found in the image of a scanned page and filled with its OCR'd lines."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from docqa.ingest.pages import PageLine
from docqa.ingest.scan_tables import find_grids, scanned_tables

SCALE = 2.0  # pixels per point


def _page(angle: float = 0.0) -> np.ndarray:
    """A white page (300 x 400 pt at 2 px/pt) with a 3-row, 2-column ruled table."""
    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    for y in (200, 240, 280, 320):  # row rules, pixels
        draw.line([(100, y), (500, y)], fill=0, width=2)
    for x in (100, 260, 500):  # column rules
        draw.line([(x, 200), (x, 320)], fill=0, width=2)
    draw.rectangle([110, 500, 400, 520], fill=0)  # a black bar below: not a table
    return np.asarray(image.rotate(angle, fillcolor=255))


def _line(text: str, x0: float, top: float, x1: float) -> PageLine:
    return PageLine(text, 1, x0, top, x1, top + 8, size=8, confidence=0.99)


def test_the_grid_of_a_ruled_table_is_found_even_slightly_skewed():
    for angle in (0.0, 0.4):
        [(rows, cols)] = find_grids(_page(angle))
        assert len(rows) == 4 and len(cols) == 3
        assert abs(rows[0] - 200) <= 6 and abs(cols[-1] - 500) <= 6


def test_ocr_lines_go_to_their_cells_and_rows_get_their_header():
    lines = [
        _line("项目", 60, 106, 80),
        _line("数据", 140, 106, 160),
        _line("多单位合作项目", 60, 126, 120),
        _line("134个", 140, 126, 165),
        _line("企业项目111个", 60, 146, 170),  # one OCR line across the column rule at x = 130 pt
        _line("正文不在表格里。", 50, 300, 150),
    ]
    [table], rest = scanned_tables(_page(), SCALE, 1, lines)
    assert [ln.text for ln in rest] == ["正文不在表格里。"]
    assert (table.x0, table.top, table.x1, table.bottom) == pytest.approx((50, 100, 250, 160), abs=1.0)
    assert [text for text, _ in table.lines()] == ["项目：多单位合作项目，数据：134个", "项目：企业项目，数据：111个"]


def test_a_page_without_rules_has_no_table():
    blank = np.full((800, 600), 255, np.uint8)
    lines = [_line("只有正文。", 50, 50, 150)]
    assert scanned_tables(blank, SCALE, 1, lines) == ([], lines)
