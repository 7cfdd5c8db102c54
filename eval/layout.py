"""The page layout of a typeset document (reportlab Platypus).

A4 portrait; the title across the top of page 1, then ``columns`` frames per
page; a running header (the title, over a rule) and a centred page number
("— 3 —") on every page.  Body text is STSong-Light 10.5 pt, justified, with
CJK line breaking; headings are larger and drawn bold (the CID font has no bold
face, so its glyphs are filled and stroked, text render mode 2).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    FrameBreak,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from docqa.eval.blocks import Block, plain

FONT = "STSong-Light"  # reportlab's built-in Simplified Chinese CID font (not embedded in the PDF)

MARGIN = 18 * mm
TOP = 22 * mm  # room for the running header
BOTTOM = 20 * mm  # room for the page number
GAP = 7 * mm  # between columns
TITLE_HEIGHT = 22 * mm
CANNOT_START = "，；：！？》』"  # may not start a line (added to reportlab's list while building)
HEADING_ROOM = 3 * 16 + 8  # points below a heading: the first three lines of its text

_STYLES = {
    "title": ParagraphStyle("title", fontName=FONT, fontSize=18, leading=24, alignment=TA_CENTER, wordWrap="CJK"),
    "heading": ParagraphStyle("heading", fontName=FONT, fontSize=14, leading=20, spaceBefore=8, spaceAfter=4, wordWrap="CJK"),
    "subheading": ParagraphStyle(
        "subheading", fontName=FONT, fontSize=11.5, leading=17, spaceBefore=6, spaceAfter=2, wordWrap="CJK"
    ),
    "para": ParagraphStyle(
        "para",
        fontName=FONT,
        fontSize=10.5,
        leading=16,
        firstLineIndent=21,
        spaceAfter=4,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
    ),  # fmt: skip
    "item": ParagraphStyle(
        "item",
        fontName=FONT,
        fontSize=10.5,
        leading=16,
        leftIndent=12,
        bulletIndent=2,
        spaceAfter=2,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
    ),  # fmt: skip
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=9.5, leading=13, alignment=TA_LEFT, wordWrap="CJK"),
}


def _markup(text: str) -> str:
    """Paragraph markup.  ``**x**`` is set as plain text: the CID font has no bold face,
    and stroking the glyphs of a few figures inside a line would look like a smudge."""
    return escape(plain(text))


class BoldParagraph(Paragraph):
    """A paragraph whose glyphs are filled and stroked: bold from a font without a bold face."""

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.setLineWidth(self.style.fontSize * 0.035)
        self.canv.addLiteral("2 Tr")
        super().draw()
        self.canv.restoreState()


@contextmanager
def _chinese_line_breaking():
    """reportlab's list of characters that cannot start a line lacks the full-width
    comma, semicolon, colon, ! and ?; while building, they hang in the margin instead."""
    import reportlab.lib.textsplit as split
    import reportlab.platypus.paragraph as para

    before = split.ALL_CANNOT_START
    split.ALL_CANNOT_START = para.ALL_CANNOT_START = before + CANNOT_START
    try:
        yield
    finally:
        split.ALL_CANNOT_START = para.ALL_CANNOT_START = before


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _table(block: Block, width: float) -> Table:
    cells = [[Paragraph(_markup(c), _STYLES["cell"]) for c in row] for row in block.rows]
    n = len(block.rows[0])
    widths = [0.45 * width, 0.55 * width] if n == 2 else [width / n] * n  # label | figure
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT", spaceBefore=4, spaceAfter=8)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _flowables(blocks: list[Block], width: float) -> list:
    out: list = []
    for b in blocks:
        if b.kind == "table":
            out.append(_table(b, width))
        elif b.kind in ("heading", "subheading"):
            # a heading starts the next column rather than end this one; the paragraph
            # after it may still break across columns, as in a printed report
            heading = BoldParagraph(_markup(b.text), _STYLES[b.kind])
            out.append(CondPageBreak(heading.wrap(width, 1e6)[1] + heading.getSpaceBefore() + HEADING_ROOM))
            out.append(heading)
        elif b.kind == "item":
            out.append(Paragraph(_markup(b.text), _STYLES["item"], bulletText="•"))
        else:
            out.append(Paragraph(_markup(b.text), _STYLES["para"]))
    return out


def build_pdf(blocks: list[Block], title: str, path: Path, columns: int = 2) -> None:
    """Lay ``blocks`` out under ``title`` and write the PDF to ``path``."""
    _register_font()
    page_w, page_h = A4
    body_w = page_w - 2 * MARGIN
    col_w = (body_w - (columns - 1) * GAP) / columns
    col_h = page_h - TOP - BOTTOM

    def cols(top_offset: float, prefix: str) -> list[Frame]:
        return [
            Frame(MARGIN + i * (col_w + GAP), BOTTOM, col_w, col_h - top_offset, id=f"{prefix}{i}", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
            for i in range(columns)
        ]  # fmt: skip

    def decorate(canv, doc) -> None:
        canv.saveState()
        canv.setFont(FONT, 8.5)
        canv.setFillColor(colors.HexColor("#444444"))
        canv.drawCentredString(page_w / 2, page_h - TOP + 9 * mm, title)
        canv.setLineWidth(0.5)
        canv.line(MARGIN, page_h - TOP + 7 * mm, page_w - MARGIN, page_h - TOP + 7 * mm)
        canv.setFont(FONT, 9)
        canv.drawCentredString(page_w / 2, BOTTOM - 10 * mm, f"— {doc.page} —")
        canv.restoreState()

    title_frame = Frame(MARGIN, page_h - TOP - TITLE_HEIGHT, body_w, TITLE_HEIGHT, id="title", leftPadding=0,
                        rightPadding=0, topPadding=0, bottomPadding=0)  # fmt: skip
    doc = BaseDocTemplate(
        str(path), pagesize=A4, title=title, invariant=1, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=TOP,
        bottomMargin=BOTTOM, creator="docqa.eval.typeset", author="", subject="", keywords="",
    )  # fmt: skip
    doc.addPageTemplates(
        [
            PageTemplate("first", [title_frame, *cols(TITLE_HEIGHT, "c")], onPage=decorate),
            PageTemplate("later", cols(0, "l"), onPage=decorate),
        ]
    )
    story = [NextPageTemplate("later"), BoldParagraph(_markup(title), _STYLES["title"]), FrameBreak(), Spacer(1, 0)]
    with _chinese_line_breaking():
        doc.build(story + _flowables(blocks, col_w))


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()
