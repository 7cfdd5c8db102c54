"""Lines of laid-out pages into paragraphs, headings and tables, in reading order.

Each page is read column by column (``pdf_columns.reading_order``).  A line
continues the paragraph above it — in the same column, or across a column or
page break — unless

* the line above stops short of its column's right edge: the first word of
  this line (one CJK character, or Latin letters up to a space) would have
  fitted after it — or, in text whose paragraphs begin with a first-line
  indent (as Chinese paragraphs do), set ragged right, it stops more than
  ``RAGGED`` characters short;
* the gap between them is more than ``PARA_GAP`` line pitches;
* the font size or weight changes;
* this line is indented (``INDENT``), starts a list item (``LIST_ITEM``) or
  a numbered section (``SECTION_NUMBER``);
* on a scan, this line opens a column or page and looks like a heading: short
  and unpunctuated, it stops well short of its own column's edge
  (``SHORT_TOP``).  A scan cannot show a heading's font, and a section opening
  a column is more common than a paragraph's last few characters spilling over
  without punctuation.

A table met while a paragraph may still go on is held back until that
paragraph ends, so a table set between its halves does not cut it.

A paragraph is a heading when it is short (``structure.MAX_HEADING``), ends
without punctuation, is not a figure (``36家``) or a list item, and is set
clearly larger than the body text (``HEADING_SIZE``) or bold where the body
is not.  Heading styles are ranked, larger first and bold before regular:
rank 1 is ``#``.  A heading-like line directly above a table is the table's
caption: it stays text, in the section it is in.

OCR'd lines (``char_x`` is None) have a line height for a size and measured,
possibly skewed boxes: their sizes are scaled to the text layer's, their
tolerances are wider, a scanned page's lines are turned straight
(``_skew``) before columns, edges and indents are looked at, and a column's
right edge is where most of its lines end, not the farthest.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from docqa.ingest.layout import LIST_ITEM, Line, is_figure, reads_as_heading
from docqa.ingest.pages import PageLine
from docqa.ingest.pdf_columns import reading_order
from docqa.ingest.pdf_lines import is_cjk, join_lines
from docqa.ingest.pdf_tables import Table
from docqa.ingest.structure import MAX_HEADING, MAX_UNNUMBERED_HEADING
from docqa.text import HAN

FIGURE_UNITS = "个家项名支亿万千百元件篇人所座台套次倍余多年月日"  # 1.5倍, 2.5亿元: figures, not section numbers
PARA_GAP = 1.5  # a gap of more than this many line pitches ends a paragraph
INDENT = 0.8  # a line starting this many sizes right of the line above (or its column) starts a paragraph
HEADING_SIZE = 1.15  # a heading's font is at least this much larger than the body's …
HEADING_SIZE_OCR = 1.3  # … or, for OCR'd lines (whose size is the line's height), this much
SAME_SIZE, SAME_SIZE_OCR = 0.06, 0.2  # sizes this close (relative) are one style
SHORT_TOP = 3.0  # on a scan, a heading-like line opening a column stops this many sizes short of its edge
RAGGED = 3.0  # indented paragraphs, ragged right: a line this many sizes short of the edge ends a paragraph
FIRST_LINE_INDENT = (1.5, 2.6)  # a first-line indent, in sizes from the column's left edge (two CJK characters)
INDENTED_SHARE = 0.08  # text whose lines start indented this often marks its paragraphs by indent
MAX_LEVELS = 6
FRAME_LINES = 8  # lines enough to tell where a page's text ends
MAX_SKEW = 0.035  # radians (2 degrees): the steepest skew looked for on a scanned page
SKEW_STEPS = 141  # slopes tried, 0.03 degrees apart
# A line that starts with a section number before Chinese text (``1.5 新型研发机构``) starts a paragraph.
# (OCR may drop the space: ``1.6世界级…`` — then four Chinese characters, not a unit like ``1.5倍``, follow)
SECTION_NUMBER = re.compile(rf"^\d{{1,2}}(?:\.\d{{1,2}})+(?:\s+(?=[{HAN}])|(?=[^{FIGURE_UNITS}\W\d][{HAN}]{{3}}))")
_NOT_HEADING_END = set("。！？!?；;，,、：:")


@dataclass
class LaidOutPage:
    number: int  # 1-based
    width: float
    height: float
    lines: list[PageLine] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Paragraph:
    lines: list[PageLine] = field(default_factory=list)
    table: Table | None = None
    level: int = 0  # heading level, 0 for text


def is_ocr(line: PageLine) -> bool:
    return line.char_x is None


@dataclass
class Style:
    """The body text's font size (text layer and OCR separately), weight, line pitch and edges."""

    size: float = 10.0
    ocr_size: float = 10.0
    bold: bool = False
    pitch: float = 12.0
    frame: tuple[float, float] | None = None  # the text's edges, when there are lines enough to tell
    indented: bool = False  # paragraphs begin with a first-line indent

    @classmethod
    def of(cls, lines: Sequence[PageLine]) -> Style:
        s = cls()
        for ocr in (False, True):
            sizes: Counter[float] = Counter()
            for ln in lines:
                if is_ocr(ln) == ocr:
                    sizes[round(ln.size * 2) / 2] += len(ln.text)
            if sizes:
                setattr(s, "ocr_size" if ocr else "size", sizes.most_common(1)[0][0] or 10.0)
        if all(is_ocr(ln) for ln in lines):
            s.size = s.ocr_size  # no text layer: sizes stay as measured
        body = [ln for ln in lines if abs(s.norm_size(ln) - s.size) <= 0.5 + (SAME_SIZE_OCR * s.size if is_ocr(ln) else 0)]
        s.bold = sum(len(ln.text) for ln in body if ln.bold) > 0.5 * sum(len(ln.text) for ln in body)
        s.pitch = _pitch(body or lines, s.size)
        if len(lines) >= FRAME_LINES:
            s.frame = frame_of(lines)
        return s

    def norm_size(self, line: PageLine) -> float:
        """The line's size on the text layer's scale (an OCR'd line's height scaled to a font size)."""
        return line.size * self.size / self.ocr_size if is_ocr(line) else line.size


def _pitch(lines: Sequence[PageLine], size: float) -> float:
    """The usual distance from one line's top to the next's (the nearest line below, overlapping it)."""
    steps = []
    ordered = sorted(lines, key=lambda ln: (ln.page, ln.top))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 : i + 40]:
            if b.page != a.page or b.top - a.top > 3 * size:
                break
            if b.top - a.top > 0.5 * size and b.x0 < a.x1 and a.x0 < b.x1:
                steps.append(b.top - a.top)
                break
    return statistics.median(steps) if steps else 1.2 * size


def frame_of(lines: Sequence[PageLine]) -> tuple[float, float]:
    """The left and right edges of the text: low and high percentiles, so a stray note does not widen them."""
    x0s, x1s = sorted(ln.x0 for ln in lines), sorted(ln.x1 for ln in lines)
    k = len(lines) // 10
    return x0s[k], x1s[-1 - k]


def _page_frame(page: LaidOutPage, s: Style) -> tuple[float, float]:
    """The edges of a page's text: its own when it has lines enough, else the document's,
    else (a page or two of a few lines) its left margin mirrored on the right."""
    if len(page.lines) >= FRAME_LINES:
        return frame_of(page.lines)
    if s.frame is not None:
        return s.frame
    items: list[PageLine | Table] = [*page.lines, *page.tables]
    if not items:
        return 0.0, page.width
    left = min(i.x0 for i in items)
    return left, max(max(i.x1 for i in items), page.width - left)


def _skew(lines: Sequence[PageLine]) -> float:
    """The slope (radians, small) of a scanned page's text: the one that lines up most
    lines' left edges (a Hough transform over ``SKEW_STEPS`` slopes up to ``MAX_SKEW``)."""
    tops, lefts = np.array([ln.top for ln in lines]), np.array([ln.x0 for ln in lines])
    slopes = np.linspace(-MAX_SKEW, MAX_SKEW, SKEW_STEPS)
    edges = np.round(lefts[None, :] - slopes[:, None] * tops[None, :]).astype(int)  # a left edge per slope, 1 pt bins
    votes = [np.bincount(row - row.min()).max() for row in edges]
    best = int(np.argmax(votes))
    return float(slopes[best]) if votes[best] > votes[SKEW_STEPS // 2] else 0.0


def _turned(line: PageLine, slope: float) -> PageLine:
    """``line``'s box turned by ``slope`` radians about the page's corner (small angles)."""
    return replace(
        line,
        x0=line.x0 - slope * line.top,
        x1=line.x1 - slope * line.top,
        top=line.top + slope * line.x0,
        bottom=line.bottom + slope * line.x0,
    )


def _on_page(line: PageLine, source: dict[int, PageLine], slope: float) -> PageLine:
    """``line`` as it is on the page: the line it was straightened from, or (joined from
    pieces by ``reading_order``) turned back."""
    return source.get(id(line)) or (_turned(line, -slope) if slope and is_ocr(line) else line)


def _same_style(a: PageLine, b: PageLine, s: Style) -> bool:
    tol = SAME_SIZE_OCR if is_ocr(a) or is_ocr(b) else SAME_SIZE
    sa, sb = s.norm_size(a), s.norm_size(b)
    return a.bold == b.bold and abs(sa - sb) <= max(0.5, tol * max(sa, sb))


def _first_word_width(line: PageLine) -> float:
    """The width of ``line``'s first word: its first CJK character, or its Latin letters up to a space or CJK."""
    n = 1 if is_cjk(line.text[0]) else next((i for i, c in enumerate(line.text) if c == " " or is_cjk(c)), len(line.text))
    if line.char_x is not None and n < len(line.text):
        return line.char_x[n] - line.char_x[0]
    return (line.x1 - line.x0) * n / len(line.text)  # OCR: the line's average character width


def _full(prev: PageLine, edge: float, nxt: PageLine) -> bool:
    """``prev`` reaches its column's right ``edge``: the first word of ``nxt`` would not have fitted after it."""
    room = edge - prev.x1
    space = 0.0 if is_cjk(nxt.text[0]) else 0.3 * prev.size
    if is_ocr(prev) or is_ocr(nxt):  # measured boxes, a point or two either way
        return room < 0.9 * _first_word_width(nxt) + space
    return room < _first_word_width(nxt) + space - (0.1 if is_cjk(nxt.text[0]) else 0.0)


def _heading_on_top(line: PageLine, right: float, s: Style) -> bool:
    """An OCR'd line opening a column or page that reads as a heading: short, unpunctuated,
    ending ``SHORT_TOP`` characters or more before its column's right edge."""
    text = Line(0, len(line.text), line.text)
    short = right - line.x1 >= SHORT_TOP * s.norm_size(line)
    return short and reads_as_heading(text, MAX_UNNUMBERED_HEADING)


def _continues(
    para: Paragraph, prev: PageLine, edge: float, nxt: PageLine, column: tuple[float, float], level: bool, s: Style
) -> bool:
    """``nxt`` continues ``para``, whose last line is ``prev`` (both as deskewed); ``edge``:
    the right edge of ``prev``'s column; ``column``: the left and right edges of ``nxt``'s;
    ``level``: the two are consecutive lines of one column (not across a column or page break)."""
    if not _same_style(prev, nxt, s) or LIST_ITEM.match(nxt.text) or SECTION_NUMBER.match(nxt.text):
        return False
    left, right = column
    if not level and is_ocr(nxt) and _heading_on_top(nxt, right, s):
        return False
    if level:
        if nxt.top <= prev.top or nxt.top - prev.top > PARA_GAP * s.pitch * s.norm_size(prev) / s.size:
            return False
        left = prev.x0
    first = para.lines[0]
    item = LIST_ITEM.match(first.text)
    if item and first.char_x is not None and item.end() < len(first.char_x):
        left = max(left, first.char_x[item.end()])  # a list item's wrapped lines may align with its text
    if nxt.x0 > left + INDENT * s.norm_size(nxt):
        return False
    if s.indented and _same_style(prev, nxt, s) and not is_ocr(prev):
        if edge - prev.x1 < RAGGED * s.norm_size(prev):  # the indent, not the line's end, marks a paragraph
            return True
    return _full(prev, edge, nxt)


def _indented(pages: Sequence[LaidOutPage], s: Style) -> bool:
    """Whether the body text marks paragraphs with a first-line indent: enough of
    its lines start about two characters right of their column's left edge."""
    lo, hi = FIRST_LINE_INDENT
    indented = total = 0
    for page in pages:
        for leaf in reading_order([*page.lines, *page.tables], _page_frame(page, s), s.size):
            for item in leaf.items:
                if isinstance(item, PageLine) and not is_ocr(item) and abs(item.size - s.size) <= 0.5:
                    total += 1
                    indented += lo * s.size <= item.x0 - leaf.x0 <= hi * s.size
    return indented >= 3 and indented >= INDENTED_SHARE * total


def paragraphs(pages: Sequence[LaidOutPage], s: Style) -> list[Paragraph]:
    """The paragraphs (headings marked) and tables of ``pages`` in reading order."""
    paras: list[Paragraph] = []
    held: list[Paragraph] = []
    para: Paragraph | None = None
    prev: PageLine | None = None
    edge = 0.0
    s = replace(s, indented=_indented(pages, s))
    for page in pages:
        scanned = [ln for ln in page.lines if is_ocr(ln)]
        slope = _skew(scanned) if len(scanned) >= 4 else 0.0
        lines = [_turned(ln, slope) if slope and is_ocr(ln) else ln for ln in page.lines]  # straightened
        source = {id(new): old for new, old in zip(lines, page.lines)}
        for leaf in reading_order([*lines, *page.tables], _page_frame(page, s), s.size):
            left, right = leaf.x0, leaf.x1
            measured = [i for i in leaf.items if isinstance(i, PageLine) and is_ocr(i)]
            if len(measured) >= 4:  # measured boxes: the edge most lines reach, not the farthest one
                left, right = min(ln.x0 for ln in measured), float(np.percentile([ln.x1 for ln in measured], 75))
            for k, item in enumerate(leaf.items):
                if isinstance(item, Table):
                    if prev is not None and edge - prev.x1 < prev.size:
                        held.append(Paragraph(table=item))
                    else:
                        paras.append(Paragraph(table=item))
                        para = prev = None
                    continue
                level = k > 0 and not held
                if para is not None and prev is not None and _continues(para, prev, edge, item, (left, right), level, s):
                    para.lines.append(_on_page(item, source, slope))
                else:
                    paras.extend(held)
                    held.clear()
                    para = Paragraph([_on_page(item, source, slope)])
                    paras.append(para)
                prev, edge = item, right
    paras += held
    _mark_headings(paras, s)
    return paras


def _mark_headings(paras: list[Paragraph], s: Style) -> None:
    styles: dict[int, tuple[float, bool]] = {}
    for i, p in enumerate(paras):
        if p.table is not None:
            continue
        text = join_lines([ln.text for ln in p.lines])
        first = p.lines[0]
        size = s.norm_size(first)
        larger = size >= (HEADING_SIZE_OCR if is_ocr(first) else HEADING_SIZE) * s.size and size - s.size >= 1.0
        bolder = first.bold and not s.bold and size >= s.size - 0.5
        if (
            (larger or bolder)
            and len(text) <= MAX_HEADING
            and text[-1] not in _NOT_HEADING_END
            and any(c.isalpha() for c in text)
            and not is_figure(Line(0, len(text), text))
            and not LIST_ITEM.match(text)
        ):
            styles[i] = (round(size * 2) / 2, first.bold)
    for i in list(styles):  # a heading-like line directly above a table is its caption, not a section
        below = paras[i + 1].table if i + 1 < len(paras) else None
        if below is not None and below.page == paras[i].lines[-1].page:
            del styles[i]
    ranks = sorted(set(styles.values()), reverse=True)
    for i, key in styles.items():
        paras[i].level = min(ranks.index(key) + 1, MAX_LEVELS)
