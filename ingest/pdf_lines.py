"""A PDF page's characters as lines: the geometry under ``pdf.py``.

``page_lines`` groups pdfplumber's characters (dicts with ``text``, ``x0``,
``x1``, ``top``, ``bottom``, ``size``, ``fontname``) into ``PageLine``
pieces: characters on one baseline, split where a gap is wide enough to be a
column gutter (``pdf_columns.py`` decides which gaps are; pieces of one line
in one column are joined again there).  Spaces come from the PDF's own space
characters or from gaps between Latin characters; between CJK characters only
a visible gap (``CJK_SPACE``) is a space, never a space character set in the
text for spacing.  A character is bold when its font name says so
(``Bold``, ``Heavy``, ``Black``, ``Semibold``), when it is drawn twice over
itself (a common fake bold), or when it is stroked (``stroked_text_boxes``:
text render modes 1, 2, 5 and 6, read with pypdfium2, as pdfminer drops them).

``join`` is the one rule for joining two lines of running text, used for
paragraphs and for the lines of a table cell alike.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from docqa.ingest.pages import PageLine
from docqa.text import CJK_TEXT

# A gap wider than this (in font sizes) between two characters of one line splits
# the line into pieces (a possible column gutter; typographic gutters are >= 1 em).
PIECE_GAP = 0.9
# A space between two Latin characters: a gap wider than this many font sizes
# (letters are set about 0 apart, words about 0.25 em).
LATIN_SPACE = 0.15
# A space next to a CJK character only for a visible gap (Word's 1/4 em
# spacing between Han and Latin is not a space).
CJK_SPACE = 0.8
# A line is bold when at least this share of its characters is.
BOLD_SHARE = 0.9
STROKED_MODES = (1, 2, 5, 6)  # PDF text render modes that stroke the glyph outlines

_BOLD_FONT = re.compile(r"bold|heavy|black", re.I)
_CJK = re.compile(f"[{CJK_TEXT}]")
_HYPHENATED = re.compile(r"[A-Za-z]-$")
_UNMAPPED = re.compile(r"\(cid:\d+\)")  # pdfminer's text for a glyph the font maps to no character

log = logging.getLogger(__name__)
Rect = tuple[float, float, float, float]  # x0, top, x1, bottom


def is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK.match(ch))


def join(prev: str, nxt: str) -> tuple[int, str]:
    """How to join line ``nxt`` after line ``prev`` of one paragraph: how many
    characters to drop from the end of ``prev`` and the separator.  Nothing
    next to a CJK character, a Latin hyphen before a lowercase letter removed,
    one space between Latin words."""
    if not prev or not nxt:
        return 0, ""
    if _HYPHENATED.search(prev) and nxt[0].islower():
        return 1, ""
    if is_cjk(prev[-1]) or is_cjk(nxt[0]) or prev[-1] == "-":
        return 0, ""
    return 0, " "


def join_lines(texts: Sequence[str]) -> str:
    """Lines of one paragraph (or table cell) joined by ``join``."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        drop, sep = join(out, t)
        out = (out[: len(out) - drop] if drop else out) + sep + t
    return out


def _space_between(a: dict, b: dict, explicit: bool) -> bool:
    """Whether a space goes between characters ``a`` and ``b`` of a line; ``explicit``:
    the PDF has a space character between them.  Between two CJK characters only for a
    visible gap, between CJK and a letter or digit for a wider one than Word's spacing
    of mixed text; elsewhere (Latin, a bullet before text) for a word gap."""
    ta, tb = a["text"], b["text"]
    gap = b["x0"] - a["x1"]
    size = max(a["size"], b["size"], 1.0)
    if is_cjk(ta) and is_cjk(tb):
        return gap > CJK_SPACE * size
    if (is_cjk(ta) and tb[0].isalnum()) or (is_cjk(tb) and ta[-1].isalnum()):
        return explicit or gap > CJK_SPACE * size
    return explicit or gap > LATIN_SPACE * size


def _rows(chars: list[dict]) -> list[list[dict]]:
    """Characters grouped by baseline: sorted by vertical centre, a character joins
    the current row when its centre is within a third of a line of the row's."""
    rows: list[list[dict]] = []
    ref = 0.0
    for ch in sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2):
        mid = (ch["top"] + ch["bottom"]) / 2
        height = max(ch["bottom"] - ch["top"], 1.0)
        if rows and abs(mid - ref) <= 0.35 * max(height, rows[-1][0]["bottom"] - rows[-1][0]["top"]):
            rows[-1].append(ch)
        else:
            rows.append([ch])
            ref = mid
    return rows


def _pieces(row: list[dict]) -> list[list[dict]]:
    """A row's characters left to right, overprinted duplicates dropped (and the kept
    character marked bold), split at gaps wider than ``PIECE_GAP``."""
    pieces: list[list[dict]] = []
    last: dict | None = None
    for ch in sorted(row, key=lambda c: c["x0"]):
        if (
            last is not None
            and ch["text"] == last["text"]
            and abs(ch["x0"] - last["x0"]) < 0.3 * max(last["x1"] - last["x0"], 1.0)
            and abs(ch["top"] - last["top"]) < 0.3 * max(last["size"], 1.0)
        ):
            last["bold"] = True
            continue
        if last is not None and ch["x0"] - last["x1"] > PIECE_GAP * max(ch["size"], last["size"], 1.0):
            pieces.append([])
        if not pieces:
            pieces.append([])
        pieces[-1].append(ch)
        if not ch["text"].isspace():
            last = ch
    return [p for p in pieces if any(not c["text"].isspace() for c in p)]


def _line(piece: list[dict], page: int) -> PageLine:
    text: list[str] = []
    xs: list[float] = []
    prev: dict | None = None
    explicit = False
    for ch in piece:
        if ch["text"].isspace():
            explicit = prev is not None
            continue
        if prev is not None and _space_between(prev, ch, explicit):
            text.append(" ")
            xs.append(prev["x1"])
        text.append(ch["text"])
        xs.extend([ch["x0"]] * len(ch["text"]))  # a ligature is one char of several letters
        prev, explicit = ch, False
    ink = [c for c in piece if not c["text"].isspace()]
    sizes = Counter(round(c["size"], 1) for c in ink)
    bold = sum(1 for c in ink if c.get("bold") or _BOLD_FONT.search(c.get("fontname") or "")) >= BOLD_SHARE * len(ink)
    return PageLine(
        text="".join(text),
        page=page,
        x0=min(c["x0"] for c in ink),
        top=min(c["top"] for c in ink),
        x1=max(c["x1"] for c in ink),
        bottom=max(c["bottom"] for c in ink),
        size=sizes.most_common(1)[0][0],
        bold=bold,
        char_x=xs,
    )


def page_lines(chars: Sequence[dict], page: int, stroked: Sequence[Rect] = ()) -> list[PageLine]:
    """The upright characters of one page as line pieces, top to bottom.  ``stroked``:
    rectangles of stroked text (``stroked_text_boxes``); characters inside are bold."""
    upright = [dict(c) for c in chars if c.get("upright", True) and c["text"] and not _UNMAPPED.fullmatch(c["text"])]
    if len(upright) < len(chars):
        log.debug("page %d: %d rotated or unmapped characters left out", page, len(chars) - len(upright))
    for c in upright:
        if stroked and not c["text"].isspace():
            cx, cy = (c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2
            c["bold"] = any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in stroked)
    return [_line(p, page) for row in _rows(upright) for p in _pieces(row)]


def stroked_text_boxes(path: Path, n_pages: int) -> dict[int, list[Rect]]:
    """Per page (1-based), the rectangles of text objects drawn with a stroke, in
    points from the page's top-left corner.  Empty when pdfium cannot read the file."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from docqa.ingest.ocr import PDFIUM_LOCK

    out: dict[int, list[Rect]] = {}
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            log.debug("%s: pdfium cannot open it (%s); bold is read from font names only", path, exc)
            return out
        try:
            for i in range(min(len(doc), n_pages)):
                page = doc[i]
                if page.get_rotation() == 0:
                    left, _bottom, _right, top = page.get_mediabox()
                    rects = []
                    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
                        if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) in STROKED_MODES:
                            x0, y0, x1, y1 = _text_bounds(obj, pdfium_c)
                            rects.append((x0 - left - 0.5, top - y1 - 0.5, x1 - left + 0.5, top - y0 + 0.5))
                    if rects:
                        out[i + 1] = rects
                page.close()
        finally:
            doc.close()
    return out


def _text_bounds(obj, pdfium_c) -> Rect:
    """A text object's box in PDF points (x0, y0, x1, y1, y upwards).  When the
    font is neither embedded nor installed (reportlab's STSong-Light on a machine
    without a CJK font), pdfium measures the glyphs as nothing: the box is a
    line on the baseline, one glyph short.  It is then rebuilt from the font size:
    a quarter of it below the baseline, all of it above, one glyph more."""
    import ctypes

    x0, y0, x1, y1 = obj.get_bounds()
    size = ctypes.c_float(0.0)
    if not pdfium_c.FPDFTextObj_GetFontSize(obj.raw, ctypes.byref(size)) or y1 - y0 >= 0.5 * size.value:
        return x0, y0, x1, y1
    baseline = obj.get_matrix().get()[5]
    return x0, min(y0, baseline - 0.25 * size.value), x1 + size.value, max(y1, baseline + size.value)
