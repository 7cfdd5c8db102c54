"""Layout-aware PDF reading (ingest/pdf*.py) on PDFs typeset here with reportlab:
columns, running headers and footers, paragraphs, headings, tables, boxes, OCR'd pages."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from docqa.errors import CorruptDocument, EmptyDocument, ModelUnavailable
from docqa.ingest.layout import LIST_ITEM
from docqa.ingest.loaders import load_document
from docqa.ingest.pages import PageLine, RawText
from docqa.ingest.pdf import LaidOutPage, assemble, read_pdf
from docqa.ingest.pdf_lines import join, join_lines
from docqa.ingest.pdf_paragraphs import SECTION_NUMBER
from docqa.ingest.pdf_running import is_page_number, running_lines
from docqa.ingest.structure import parse_blocks

A4 = (595.28, 841.89)
CJK_FONT, LATIN_FONT = "STSong-Light", "Helvetica"
BODY, LEADING = 10.5, 15.75
LEFT, COLUMN, GUTTER = 56.0, 231.0, 21.0  # two columns of 22 CJK characters
HEADER = "上海科技进步报告（2023）"
CJK_SPACE = re.compile(r"[\u4e00-\u9fff，。；：、（）][ \t\u3000]+[\u4e00-\u9fff，。；：、（）]")

_PHRASES = [
    "聚焦人工智能、集成电路和生物医药三大先导产业",
    "新型研发机构累计备案达到三十六家",
    "长三角创新联合体在关键核心技术攻关中发挥作用",
    "基础研究经费占全社会研发经费的比重持续提高",
    "科技成果转化率稳步上升并带动产业升级",
    "国际科技合作项目覆盖四十多个国家和地区",
    "高新技术企业数量较上年增长百分之十二",
    "一批青年科学家在国际一流期刊发表成果",
]


def _para(k: int, n: int) -> str:
    """A deterministic paragraph of ``n`` clauses, the ``k``-th of the document."""
    clauses = [f"第{k}段{_PHRASES[(k + i) % len(_PHRASES)]}" for i in range(n)]
    return "，".join(clauses) + "。"


@dataclass
class Block:
    kind: str  # "para", "bullet", "heading", "bold", "latin"
    text: str


@dataclass
class Typeset:
    """Where the test document's blocks went (for the assertions)."""

    blocks: list[Block] = field(default_factory=list)
    pages: list[list[str]] = field(default_factory=list)  # the block texts begun on each page


def _register_cjk_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _wrap_cjk(text: str, width: float, first_indent: float, size: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    _register_cjk_font()

    lines, line, avail = [], "", width - first_indent
    for ch in text:
        if stringWidth(line + ch, CJK_FONT, size) > avail + 0.01:
            lines.append(line)
            line, avail = "", width
        line += ch
    return [*lines, line] if line else lines


def _wrap_latin(text: str, width: float, size: float) -> list[str]:
    """Greedy word wrap; a word with "~" may break there with a hyphen."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    fits = lambda s: stringWidth(s, LATIN_FONT, size) <= width
    lines, line = [], ""
    for word in text.split():
        cand = (line + " " + word.replace("~", "")).strip()
        if fits(cand):
            line = cand
            continue
        if "~" in word:
            head, tail = word.split("~", 1)
            if fits(line + " " + head + "-"):
                lines.append(line + " " + head + "-")
                line = tail.replace("~", "")
                continue
        lines.append(line)
        line = word.replace("~", "")
    return [*lines, line]


def make_report(path: Path, pages: int = 3) -> Typeset:
    """A two-column A4 report: a running header, a "- n -" footer, a title across the
    columns, headings, wrapped paragraphs (one across the column break), a bulleted
    list, a ruled table across the page and an English paragraph with a hyphen."""
    from reportlab.lib import colors
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Table, TableStyle

    _register_cjk_font()
    flow = [
        Block("heading", "1 科技创新总体情况"),
        Block("para", _para(1, 4)),
        Block("para", _para(2, 3)),
        Block("bullet", "新型研发机构累计备案三十六家。"),
        Block("bullet", "第二批十二家长三角创新联合体成立，覆盖集成电路、生物医药和人工智能领域。"),
        Block("para", _para(3, 9)),  # crosses into the right column
        Block("para", _para(4, 3)),
        Block("heading", "2 重点领域进展"),
        Block("para", _para(5, 5)),  # crosses the page break, around the table
        Block("para", _para(6, 8)),
        Block("para", _para(7, 10)),
        Block("para", _para(8, 8)),  # crosses the page break
        Block("bold", "上海期智研究院"),
        Block("para", _para(9, 5)),
        Block(
            "latin",
            "DocQA reads laid-out reports in two col~umns and answers questions with cited passages from the original pages of each report.",
        ),
        Block("para", _para(10, 6)),
        Block("para", _para(11, 3)),
    ]
    # per page: (column top, column bottom) in points from the top; what spans the columns above
    areas = [(150.0, 420.0), (260.0, 520.0), (90.0, 520.0)][:pages]
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("")
    out = Typeset(blocks=[Block("title", "2023年上海科技进步报告"), *flow], pages=[[] for _ in areas])
    y_of = lambda top, size: A4[1] - top - size * 0.88  # baseline for a line whose box starts at ``top``

    def chrome(n: int) -> None:
        c.setFont(CJK_FONT, 9)
        c.drawString(LEFT, y_of(40, 9), HEADER)
        c.drawCentredString(A4[0] / 2, y_of(800, 9), f"- {n} -")
        if n == 1:
            c.setFont(CJK_FONT, 20)
            c.drawCentredString(A4[0] / 2, y_of(95, 20), "2023年上海科技进步报告")
            out.pages[0].append("2023年上海科技进步报告")
        if n == 2:
            data = [
                ["机构类型", "数量", "说明"],
                ["新型研发机构", "36家", "累计备案"],
                ["长三角创新联合体", "12家", "第二批成立"],
                ["全国重点实验室", "5个", "含两家\n新建"],
            ]
            t = Table(data, colWidths=[200, 100, 183])
            t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), CJK_FONT, BODY), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
            _, h = t.wrapOn(c, 483, 300)
            t.drawOn(c, LEFT, A4[1] - 90 - h)
            out.pages[1].append("table")

    page, col = 0, 0
    chrome(1)
    y = areas[0][0]

    def advance(height: float) -> None:
        nonlocal page, col, y
        if y + height <= areas[page][1]:
            return
        if col == 0:
            col, y = 1, areas[page][0]
        else:
            c.showPage()
            page, col = page + 1, 0
            chrome(page + 1)
            y = areas[page][0]

    for block in flow:
        x = LEFT + col * (COLUMN + GUTTER)
        if block.kind in ("heading", "bold"):
            size = 14.0 if block.kind == "heading" else BODY
            y += 0.5 * LEADING
            advance(size * 1.5)
            out.pages[page].append(block.text)
            x = LEFT + col * (COLUMN + GUTTER)
            t = c.beginText(x, y_of(y, size))
            t.setFont(CJK_FONT, size)
            t.setTextRenderMode(2 if block.kind == "bold" else 0)
            t.textLine(block.text)
            t.setTextRenderMode(0)
            c.drawText(t)
            y += size * 1.5
            continue
        if block.kind == "latin":
            lines, font, indents = _wrap_latin(block.text, COLUMN, BODY), LATIN_FONT, None
        elif block.kind == "bullet":
            bullet = 1.5 * BODY
            lines, font = _wrap_cjk(block.text, COLUMN - bullet, 0, BODY), CJK_FONT
            indents = [bullet] * len(lines)
        else:
            lines, font = _wrap_cjk(block.text, COLUMN, 2 * BODY, BODY), CJK_FONT
            indents = [2 * BODY] + [0.0] * (len(lines) - 1)
        for i, line in enumerate(lines):
            advance(LEADING)
            if i == 0:
                out.pages[page].append(block.text)
            x = LEFT + col * (COLUMN + GUTTER)
            c.setFont(font, BODY)
            if block.kind == "bullet" and i == 0:
                c.drawString(x, y_of(y, BODY), "●")
            c.drawString(x + (indents[i] if indents else 0.0), y_of(y, BODY), line)
            y += LEADING
    c.showPage()
    c.save()
    return out


# -- helpers -------------------------------------------------------------------
def _page_of(raw: RawText, offset: int) -> int:
    assert raw.page_starts is not None
    return max(i + 1 for i, start in enumerate(raw.page_starts) if start <= offset)


def _chars_in(page, rect: tuple[float, float, float, float]) -> str:
    x0, top, x1, bottom = rect
    inside = [
        c
        for c in page.chars
        if x0 - 0.5 <= (c["x0"] + c["x1"]) / 2 <= x1 + 0.5 and top - 0.5 <= (c["top"] + c["bottom"]) / 2 <= bottom + 0.5
    ]
    return "".join(c["text"] for c in sorted(inside, key=lambda c: (round(c["top"]), c["x0"])) if not c["text"].isspace())


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Typeset, RawText]:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    typeset = make_report(path)
    return path, typeset, read_pdf(path)


# -- the two-column report -------------------------------------------------------
def test_running_header_footer_and_page_numbers_are_left_out(report):
    _, _, raw = report
    assert HEADER not in raw.text and "上海科技进步报告（" not in raw.text
    assert not [line for line in raw.text.split("\n") if is_page_number(line)]
    assert not re.search(r"- \d -", raw.text)


def test_paragraphs_are_whole_and_in_reading_order(report):
    _, typeset, raw = report
    lines = raw.text.split("\n")
    expected = []
    for block in typeset.blocks[1:]:
        text = block.text.replace("~", "")
        expected.append({"bullet": "● " + text, "heading": "## " + text, "bold": "### " + text}.get(block.kind, text))
    # each block is exactly one line of the text (a wrapped paragraph is one paragraph) …
    assert [line for line in lines if line in expected] == expected
    # … with no stray space between CJK characters and no line-end hyphen left
    assert not CJK_SPACE.search(raw.text)
    assert "two columns and answers" in raw.text
    # the paragraph typeset across the column break, and the one across the page break
    # that a table interrupts, are each one paragraph
    assert _para(3, 9) in lines and _para(5, 5) in lines and _para(8, 8) in lines


def test_headings_become_markdown_headings_ranked_by_size_then_weight(report):
    _, _, raw = report
    headings = [line for line in raw.text.split("\n") if line.startswith("#")]
    assert headings == ["# 2023年上海科技进步报告", "## 1 科技创新总体情况", "## 2 重点领域进展", "### 上海期智研究院"]
    assert raw.meta["structure"] == "md"


def test_table_rows_are_named_by_the_header_row(report):
    _, _, raw = report
    rows = [
        "机构类型：新型研发机构，数量：36家，说明：累计备案",
        "机构类型：长三角创新联合体，数量：12家，说明：第二批成立",
        "机构类型：全国重点实验室，数量：5个，说明：含两家新建",  # a cell's two lines joined
    ]
    assert "\n".join(rows) in raw.text
    assert "机构类型\n" not in raw.text and "数量 说明" not in raw.text  # the header row is not text of its own
    # the table interrupts paragraph 5 on the page; it follows that paragraph in the text
    assert raw.text.index(_para(5, 5)) < raw.text.index(rows[0]) < raw.text.index(_para(6, 8))


def test_page_starts(report):
    _, typeset, raw = report
    assert raw.page_starts is not None and len(raw.page_starts) == 3 and raw.page_starts[0] == 0
    assert raw.page_sizes == [A4, A4, A4]
    for page, texts in enumerate(typeset.pages, 1):
        for text in texts:
            if text == "table":
                text = "机构类型：新型研发机构"
            assert _page_of(raw, raw.text.index(text.replace("~", ""))) == page, text
    # page 2 begins inside paragraph 5, where its second half is on the page
    p5 = raw.text.index(_para(5, 5))
    assert p5 < raw.page_starts[1] < p5 + len(_para(5, 5))
    assert raw.text[raw.page_starts[1]] in _para(5, 5)


def test_every_box_covers_exactly_its_characters_on_the_page(report):
    import pdfplumber

    path, _, raw = report
    assert raw.boxes
    covered = bytearray(len(raw.text))
    with pdfplumber.open(path) as pdf:
        for box in raw.boxes:
            text = raw.text[box.start : box.end]
            assert text and "\n" not in text and box.confidence == 1.0
            assert not any(covered[box.start : box.end])
            covered[box.start : box.end] = b"\x01" * (box.end - box.start)
            found = _chars_in(pdf.pages[box.page - 1], (box.x0, box.top, box.x1, box.bottom))
            if text.startswith("机构类型："):  # a table row: its cells' text, named by the header
                assert sorted(_squash(found)) == sorted("".join(re.findall(r"：([^，]+)", text)))
            else:
                assert _squash(text) in (found, found.rstrip("-")), (text, found)
    # every character of the text is in a box, but the separators and the heading marks
    assert {ch for ch, c in zip(raw.text, covered) if not c} == {"\n", " ", "#"}


def test_load_document_keeps_boxes_and_reads_sections_from_the_headings(report):
    path, _, _ = report
    doc = load_document(path)
    assert doc.kind == "md" and "structure" not in doc.meta and doc.meta["format"] == "pdf"
    assert doc.title == "2023年上海科技进步报告"  # the PDF has no title: its first heading
    assert doc.page_sizes == [[595.3, 841.9]] * 3 and doc.boxes
    start = doc.text.index("第二批十二家长三角创新联合体成立")
    boxes, confidence = doc.boxes_for(start, start + 16)
    assert confidence == 1.0 and boxes and all(b[0] == 1 for b in boxes)
    assert doc.page_at(doc.text.index("第9段")) == 3
    paths = {}
    for block in parse_blocks(doc.text, doc.kind):
        for unit in block.units:
            paths.setdefault(doc.text[unit.start : unit.end][:3], tuple(block.path))
    title = "2023年上海科技进步报告"
    assert paths["第1段"] == (title, "1 科技创新总体情况")
    assert paths["第5段"] == (title, "2 重点领域进展")
    assert paths["机构类"] == (title, "2 重点领域进展")
    assert paths["第9段"] == (title, "2 重点领域进展", "上海期智研究院")


def test_reading_takes_well_under_a_second_a_page(report):
    path, _, _ = report
    start = time.perf_counter()
    read_pdf(path)
    assert (time.perf_counter() - start) / 3 < 1.0


# -- other layouts -----------------------------------------------------------------
_WORDS = "the index keeps every passage beside its vector so that answers can cite where they were found on the page".split()


def _english(k: int, n: int) -> str:
    words = [_WORDS[(k * 7 + i) % len(_WORDS)] for i in range(n)]
    return f"Paragraph {k} says " + " ".join(words) + "."


def test_three_english_columns_under_a_full_width_title(tmp_path):
    """Three columns of ragged-right English, read column by column; a bold font and an
    overprinted (fake bold) line at the body size are the same heading level, below the title."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    path, size, leading = tmp_path / "three.pdf", 9.0, 11.0
    width, gutter, left = 150.0, 16.0, 56.0
    paras = [_english(k, 30 + 7 * (k % 3)) for k in range(1, 10)]
    headings = {2: ("Sources", "Helvetica-Bold"), 6: ("Checks", "overprint")}
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(left, A4[1] - 80, "Where Answers Come From")
    col, y = 0, 120.0
    expected = ["# Where Answers Come From"]
    for k, para in enumerate(paras):
        if k in headings:
            text, how = headings[k]
            c.setFont("Helvetica-Bold" if how == "Helvetica-Bold" else LATIN_FONT, size)
            for dx in (0.0, 0.3) if how == "overprint" else (0.0,):
                c.drawString(left + col * (width + gutter) + dx, A4[1] - y, text)
            y += leading
            expected.append("## " + text)
        line, lines = "", []
        for word in para.split():
            if stringWidth((line + " " + word).strip(), LATIN_FONT, size) > width - (0 if lines else size):
                lines.append(line)
                line = word
            else:
                line = (line + " " + word).strip()
        for i, text in enumerate([*lines, line]):
            if y > 420:
                col, y = col + 1, 120.0
            c.setFont(LATIN_FONT, size)
            c.drawString(left + col * (width + gutter) + (size if i == 0 else 0), A4[1] - y, text)
            y += leading
        y += leading
        expected.append(para)
    c.save()
    assert col == 2  # three columns were filled
    assert read_pdf(path).text.split("\n\n") == expected


def test_table_without_a_header_row_and_a_framed_paragraph(tmp_path):
    from reportlab.lib import colors
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Table, TableStyle

    _register_cjk_font()
    path = tmp_path / "t.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(CJK_FONT, BODY)
    c.drawString(72, A4[1] - 100, "下表列出两年的数字。")
    t = Table([["2023", "36家"], ["2024", "41家"]], colWidths=[100, 100])
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), CJK_FONT, BODY), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    t.wrapOn(c, 200, 100)
    t.drawOn(c, 72, A4[1] - 160)
    c.rect(66, A4[1] - 250, 300, 40)  # a frame around a note: one cell, not a table
    c.drawString(72, A4[1] - 235, "注：数字为年末累计。")
    c.save()
    raw = read_pdf(path)
    # no "#" headings: structure.py reads the text as plain, where rows need a blank line between them
    assert raw.text == "下表列出两年的数字。\n\n2023，36家\n\n2024，41家\n\n注：数字为年末累计。"
    assert [raw.text[b.start : b.end] for b in raw.boxes][1:3] == ["2023，36家", "2024，41家"]


def _lines(page: int, rows: list[tuple[str, float, float, float]], **kw) -> list[PageLine]:
    """PageLines (text, x0, top, size) of CJK text, each character ``size`` wide."""
    return [
        PageLine(t, page, x, top, x + size * len(t), top + size, size, char_x=[x + size * i for i in range(len(t))], **kw)
        for t, x, top, size in rows
    ]


def test_paragraph_rules_on_plain_lines():
    col = 22 * 10.0  # a column of 22 characters from x=50
    full = "这是一行排满整个栏宽的中文正文内容示例文字"  # 21 characters + 1 below
    rows = [
        ("一级标题", 50, 50, 16.0),
        (full + "甲", 50, 80, 10.0),
        ("短行结束。", 50, 95, 10.0),  # a short line ends the paragraph
        (full + "乙", 50, 110, 10.0),
        (full + "丙", 50, 140, 10.0),  # a gap of two lines ends it
        (full + "丁", 50, 155, 10.0),
        ("  缩进开始的新段落，", 70, 170, 10.0),  # indented: a new paragraph
        (full + "戊", 50, 185, 10.0),
        ("1. 列表项", 50, 200, 10.0),
    ]
    page = LaidOutPage(1, 400, 600, _lines(1, [(t.strip(), x, top, s) for t, x, top, s in rows]))
    assert page.lines[1].x1 == 50 + col
    raw = assemble([page])
    assert raw.text.split("\n\n") == [
        "# 一级标题",
        full + "甲短行结束。",
        full + "乙",
        full + "丙" + full + "丁",
        "缩进开始的新段落，",
        full + "戊",
        "1. 列表项",
    ]


def _scanned(rows: list[tuple[str, float, float]], size: float = 10.0) -> list[PageLine]:
    """OCR'd lines (no character positions) of CJK text ``size`` wide a character: (text, x0, top)."""
    return [PageLine(t, 1, x, top, x + size * len(t), top + size, size, confidence=0.98) for t, x, top in rows]


@pytest.mark.parametrize("opening, joined", [("上海合成生物学创新中心", False), ("都在这里结束。", True)])
def test_a_scan_s_heading_opening_a_column_is_not_joined_to_the_paragraph_before(opening, joined):
    """A scan shows no font: a short unpunctuated line opening a column, well short of its
    edge, is a heading, even after a full line; a short line that ends a sentence ends the
    paragraph it continues."""
    full = "这是一行排满整个栏宽的中文正文内容示例文字甲"  # 22 characters: the column's width
    left = [(full, 50, 100 + 15 * i) for i in range(6)]
    right = [(opening, 300, 100)] + [(full, 300, 115 + 15 * i) for i in range(4)] + [("新段落在此结束。", 300, 175)]
    raw = assemble([LaidOutPage(1, 600, 800, _scanned(left + right))])
    body = full * 6
    if joined:
        assert raw.text.split("\n\n") == [body + opening, full * 4 + "新段落在此结束。"]
    else:
        assert raw.text.split("\n\n") == [body, opening, full * 4 + "新段落在此结束。"]


# -- pages without text: OCR ---------------------------------------------------------
def _blank_pdf(path: Path, pages: int = 1, text_on_first: bool = False) -> None:
    from reportlab.pdfgen import canvas

    _register_cjk_font()
    c = canvas.Canvas(str(path), pagesize=A4)
    for n in range(pages):
        if n == 0 and text_on_first:
            c.setFont(CJK_FONT, 16)
            c.drawString(LEFT, A4[1] - 100, "文字层标题")
            c.setFont(CJK_FONT, BODY)
            c.drawString(LEFT, A4[1] - 130, "第一页的正文有文字层。")
        c.rect(LEFT, 300, 100, 100)  # something drawn, but no text
        c.showPage()
    c.save()


def _ocr_page(page: int, skew: float = 0.008, confidence: float = 0.93) -> tuple[list[PageLine], list[str]]:
    """What OCR reads on a scanned two-column page: a heading, four paragraphs (one
    across the column break), a page number; boxes as measured on a page
    turned ``skew`` radians, ``size`` the line height.  Also the paragraphs' texts."""
    _register_cjk_font()
    height, pitch = 13.0, 15.75
    paras = [_para(20 + page, 10), _para(30 + page, 16), _para(40 + page, 16), _para(50 + page, 6)]
    out: list[PageLine] = []

    def add(text: str, x: float, top: float, h: float, size: float = BODY) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        width = stringWidth(text, CJK_FONT, size)
        jitter = 0.8 * math.sin(len(out))  # measured boxes are a little uneven
        x0, y0 = x + skew * top, top - skew * x  # turned: a line's box is also taller by its slant
        out.append(PageLine(text, page, x0, y0 - 1, x0 + width + jitter, y0 - 1 + h + skew * width, h, confidence=confidence))

    add("扫描页标题", LEFT, 80, 20.0, 18.0)
    col, top = 0, 120.0
    for text in paras:
        lines = _wrap_cjk(text, COLUMN, 2 * BODY, BODY)
        for i, line in enumerate(lines):
            if top > 740:
                col, top = 1, 120.0
            add(line, LEFT + col * (COLUMN + GUTTER) + (2 * BODY if i == 0 else 0), top, height)
            top += pitch
        top += pitch / 2
    add("— 7 —", A4[0] / 2 - 20, 800, height)
    return out, paras


@pytest.fixture
def fake_ocr(monkeypatch):
    """``docqa.ingest.ocr.ocr_pages`` replaced by a reader of ``_ocr_page``; records its calls."""
    calls: list[list[int]] = []

    def ocr_pages(path, pages, progress=None):
        calls.append(list(pages))
        return {p: _ocr_page(p)[0] for p in pages}

    monkeypatch.setattr("docqa.ingest.ocr.ocr_pages", ocr_pages)
    return calls


@pytest.mark.parametrize("skew", [0.0, 0.0087, -0.02, 0.03])  # radians: up to 1.7 degrees either way
def test_a_scanned_page_is_read_by_ocr_through_the_same_assembly(tmp_path, monkeypatch, skew):
    path = tmp_path / "scan.pdf"
    _blank_pdf(path)
    lines, paras = _ocr_page(1, skew=skew)
    calls = []
    monkeypatch.setattr("docqa.ingest.ocr.ocr_pages", lambda path, pages, progress=None: calls.append(pages) or {1: lines})
    raw = read_pdf(path)
    assert calls == [[1]]
    # straightened, the columns are found and full lines reach their column's edge:
    # paragraphs are whole, across the column break; the page number is left out; line
    # heights cannot rank headings, so the title is a plain line (structure.py finds it)
    assert raw.text.split("\n\n") == ["扫描页标题", *paras]
    assert "structure" not in raw.meta
    assert {b.confidence for b in raw.boxes} == {0.93} and raw.page_starts == [0]
    # boxes are where OCR found the lines, not where they were straightened to
    by_text = {ln.text: ln for ln in lines}
    for box in raw.boxes:
        text = raw.text[box.start : box.end]
        line = by_text[text]
        assert (box.x0, box.top, box.x1, box.bottom) == (line.x0, line.top, line.x1, line.bottom)


def test_ocr_only_for_the_pages_without_text(tmp_path, fake_ocr):
    path = tmp_path / "mixed.pdf"
    _blank_pdf(path, pages=2, text_on_first=True)
    doc = load_document(path)
    assert fake_ocr == [[2]]
    # a document with OCR'd pages gets no "#" lines (see the test above), the text layer's page neither
    assert doc.text.startswith("文字层标题\n\n第一页的正文有文字层。\n\n扫描页标题\n\n")
    assert doc.page_starts == [0, doc.text.index("扫描页标题")]
    assert {b[7] for b in doc.boxes if b[2] == 1} == {1.0} and {b[7] for b in doc.boxes if b[2] == 2} == {0.93}
    assert _ocr_page(2)[1][1] in doc.text and doc.kind == "pdf"


def test_no_text_and_no_ocr_result_is_an_empty_document(tmp_path, monkeypatch):
    path = tmp_path / "blank.pdf"
    _blank_pdf(path)
    monkeypatch.setattr("docqa.ingest.ocr.ocr_pages", lambda path, pages, progress=None: {p: [] for p in pages})
    with pytest.raises(EmptyDocument, match="no text found"):
        load_document(path)

    def unavailable(path, pages, progress=None):
        raise ModelUnavailable("OCR needs rapidocr-onnxruntime; install it with `pip install rapidocr-onnxruntime==1.4.4`")

    monkeypatch.setattr("docqa.ingest.ocr.ocr_pages", unavailable)
    with pytest.raises(EmptyDocument, match="OCR is not available.*pip install rapidocr") as exc:
        load_document(path)
    assert "blank.pdf" in str(exc.value)


# -- encryption, rules as data ---------------------------------------------------------
def test_encrypted_pdf_is_refused_unless_it_opens_without_a_password(tmp_path):
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    locked, owner_only = tmp_path / "locked.pdf", tmp_path / "owner.pdf"
    for path, enc in ((locked, "secret"), (owner_only, StandardEncryption("", ownerPassword="owner", canPrint=0))):
        c = canvas.Canvas(str(path), encrypt=enc)
        c.drawString(72, 700, "Restricted but readable.")
        c.save()
    with pytest.raises(CorruptDocument, match="the PDF is encrypted; save an unprotected copy") as exc:
        load_document(locked)
    assert "locked.pdf" in str(exc.value)
    assert load_document(owner_only).text == "Restricted but readable."


@pytest.mark.parametrize(
    "text",
    [
        "3",
        "12",
        "- 3 -",
        "— 3 —",
        "–3–",
        "第 3 页",
        "第3页 共12页",
        "共12页 第3页",
        "3 / 12",
        "3/12",
        "Page 3",
        "page 3 of 12",
        "p. 7",
        "iv",
    ],
)
def test_page_numbers(text):
    assert is_page_number(text)


@pytest.mark.parametrize("text", ["2023年", "36家", "3.5%", "第三章", "Page", "第3节", "1.5 新型研发机构", "Vision"])
def test_not_page_numbers(text):
    assert not is_page_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "● 新型研发机构",
        "• item",
        "- 完成验收",
        "1. 第一项",
        "2、第二项",
        "(3) 第三项",
        "（一）总体要求",
        "一、总体要求",
        "① 第一",
        "a) first",
    ],
)
def test_list_items(text):
    assert LIST_ITEM.match(text)


@pytest.mark.parametrize("text", ["1.5 新型研发机构高质量发展", "2.5倍", "36家", "2023年", "“伏羲”在", "Apple pie"])
def test_not_list_items(text):
    assert not LIST_ITEM.match(text)


@pytest.mark.parametrize(
    "text, starts",
    [
        ("1.5 新型研发机构高质量发展", True),
        ("1.6世界级重大科技基础设施", True),
        ("2.1.3 研究方法", True),
        ("1.5倍", False),
        ("2.5亿元投资规模", False),
        ("1.5 million", False),
        ("3 个", False),
    ],
)
def test_section_numbers(text, starts):
    assert bool(SECTION_NUMBER.match(text)) is starts


@pytest.mark.parametrize(
    "prev, nxt, joined",
    [
        ("集成电路和", "生物医药", "集成电路和生物医药"),
        ("累计备案", "36家", "累计备案36家"),
        ("形成体系化", "AI4S布局", "形成体系化AI4S布局"),
        ("answers with cited", "passages", "answers with cited passages"),
        ("two col-", "umns", "two columns"),
        ("COVID-", "19", "COVID-19"),
        ("state-of-the-", "Art", "state-of-the-Art"),
        ("JUST启动建设；硼-", "8中微子", "JUST启动建设；硼-8中微子"),
    ],
)
def test_join(prev, nxt, joined):
    drop, sep = join(prev, nxt)
    assert prev[: len(prev) - drop] + sep + nxt == joined == join_lines([prev, nxt])


def test_running_lines_repeat_in_a_margin_band_on_half_the_pages():
    def page(n: int, extra: list[PageLine]) -> list[PageLine]:
        return [
            *_lines(n, [(f"年度报告（{2023}）第{n}期", 50, 30, 9.0)]),  # top band, digits vary
            *_lines(n, [("正文内容每页都一样", 50, 300, 10.0)]),  # repeated, but in the body
            *_lines(n, [(str(n), 290, 800, 9.0)]),  # a page number
            *extra,
        ]

    odd = _lines(1, [("单页眉", 50, 40, 9.0)])
    pages = [page(1, odd), page(2, []), page(3, _lines(3, [("单页眉", 50, 40, 9.0)])), page(4, [])]
    running = running_lines(pages, [842.0] * 4)
    left = [ln.text for p in pages for ln in p if id(ln) not in running]
    assert left == ["正文内容每页都一样"] * 4  # the odd pages' header is on half the pages: running too
    single = [_lines(1, [("只有一页的页眉", 50, 30, 9.0), ("正文", 50, 300, 10.0), ("- 1 -", 290, 800, 9.0)])]
    assert [ln.text for ln in single[0] if id(ln) not in running_lines(single, [842.0])] == ["只有一页的页眉", "正文"]


class _FontlessText:
    """A pdfium text object whose font is missing: its box is the baseline, one glyph short."""

    raw = None

    def get_bounds(self):
        return 50.8, 705.5, 177.7, 705.9

    def get_matrix(self):
        class Matrix:
            def get(self):
                return 1.0, 0.0, 0.0, 1.0, 51.0, 705.7

        return Matrix()


class _Pdfium:
    @staticmethod
    def FPDFTextObj_GetFontSize(raw, size):
        size._obj.value = 11.5
        return True


def test_a_stroked_heading_whose_font_is_missing_keeps_a_box_its_characters_fall_in():
    from docqa.ingest.pdf_lines import _text_bounds

    x0, y0, x1, y1 = _text_bounds(_FontlessText(), _Pdfium)
    assert (x0, x1) == (50.8, 177.7 + 11.5)
    assert y0 <= 705.7 - 2 and y1 >= 705.7 + 11  # the glyphs' middle, 5.75 pt above the baseline, is inside
