"""A PDF as reading-order text: paragraphs, headings and table rows, each line with its box.

``read_pdf`` reads every page's characters (``pdf_lines.py``) and ruled tables
(``pdf_tables.py``) with pdfplumber — pages without characters (scans) by OCR,
``ocr.ocr_pages`` — and hands the pages to ``assemble``, which leaves out
running headers, footers and page numbers (``pdf_running.py``), reads each page
column by column and joins lines into paragraphs and headings
(``pdf_paragraphs.py``: nothing between CJK characters, one space between Latin
words, a line-end hyphen before a lowercase letter removed), and writes

* a heading as a Markdown heading line (``#`` for the largest heading style);
* a paragraph as one line, paragraphs separated by a blank line, across a
  column or page break too;
* a table row as a line ``名称：值，名称：值``, rows separated by a line break.

Each line's share of the text gets a ``Box`` (its characters' rectangle; a
table row's rectangle for a row), and ``page_starts`` the offset where each
page's text begins (inside a paragraph that goes on from the page before).
``meta["structure"]`` is ``"md"`` when headings were written, so
``structure.py`` reads the ``#`` lines as the sections (otherwise it finds
headings as in plain text, and table rows are set apart by blank lines).  A document with OCR'd
pages gets no ``#`` lines: line heights measured on a scan cannot rank heading
styles, and structure.py finds its headings as it does in plain text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from docqa.errors import CorruptDocument, EmptyDocument, ModelUnavailable
from docqa.ingest.pages import Box, RawText
from docqa.ingest.pdf_lines import join, page_lines, stroked_text_boxes
from docqa.ingest.pdf_paragraphs import LaidOutPage, Paragraph, Style, paragraphs
from docqa.ingest.pdf_running import running_lines
from docqa.ingest.pdf_tables import find_tables, outside_tables

__all__ = ["LaidOutPage", "assemble", "read_pdf"]

PARAGRAPH_BREAK, ROW_BREAK = "\n\n", "\n"
TABLE_SCALE = 2.0  # pixels per point of the page images searched for table rules on scanned pages
PLACEHOLDER_TITLES = {"untitled", "untitled document", "無題", "无标题", "(anonymous)", "anonymous"}

log = logging.getLogger(__name__)


def read_pdf(path: Path, progress: Callable[[int, int], None] | None = None) -> RawText:
    """The text of the PDF at ``path`` in reading order, with page starts and boxes;
    ``progress`` is passed to OCR when some pages are images."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    # pdfminer logs the damage it works around; what cannot be read becomes one CorruptDocument.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    pages: list[LaidOutPage] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            stroked = stroked_text_boxes(path, len(pdf.pages))
            for number, page in enumerate(pdf.pages, 1):
                chars = [c for c in page.chars if c.get("text")]
                tables = find_tables(page, number, chars, stroked.get(number, ()))
                lines = page_lines(outside_tables(chars, tables), number, stroked.get(number, ()))
                pages.append(LaidOutPage(number, float(page.width), float(page.height), lines, tables))
                page.close()
            title = (pdf.metadata or {}).get("Title")
    except (PdfminerException, MalformedPDFException, PSException, ValueError, KeyError, IndexError, OSError, TypeError) as exc:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, PDFEncryptionError):
            raise CorruptDocument(f"{path}: the PDF is encrypted; save an unprotected copy and ingest that") from exc
        raise CorruptDocument(f"{path}: cannot read this PDF ({cause!r}); check the file is a complete, valid PDF") from exc
    _ocr_scans(path, pages, progress)
    title = str(title).strip() if isinstance(title, (str, bytes)) else ""
    # Tools write a placeholder when the author gave none; the first heading names the document better.
    meta = {"title": title} if title and title.lower() not in PLACEHOLDER_TITLES else {}
    return assemble(pages, meta)


def _ocr_scans(path: Path, pages: list[LaidOutPage], progress: Callable[[int, int], None] | None) -> None:
    """Fill the pages that have no text layer by OCR."""
    scans = [p.number for p in pages if not p.lines and not p.tables]
    if not scans:
        return
    from docqa.ingest import ocr

    try:
        found = ocr.ocr_pages(path, scans, progress)
    except ModelUnavailable as exc:
        if len(scans) == len(pages):
            raise EmptyDocument(
                f"{path}: no text found: its pages are images and OCR is not available ({exc}); nothing to index"
            ) from exc
        log.warning("%s: pages %s are images and are left out: %s", path, ", ".join(map(str, scans)), exc)
        return
    for page in pages:
        page.lines = page.lines or list(found.get(page.number, []))
    _scanned_tables(path, [p for p in pages if p.number in scans and p.lines])


def _scanned_tables(path: Path, pages: list[LaidOutPage]) -> None:
    """Find ruled tables in the images of OCR'd pages and move their lines into them."""
    if not pages:
        return
    import pypdfium2 as pdfium

    from docqa.ingest.ocr import PDFIUM_LOCK
    from docqa.ingest.scan_tables import scanned_tables

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            for page in pages:  # one page image at a time: a long scan's images would not fit in memory at once
                grey = np.asarray(pdf[page.number - 1].render(scale=TABLE_SCALE, grayscale=True).to_pil().convert("L"))
                page.tables, page.lines = scanned_tables(grey, TABLE_SCALE, page.number, page.lines)
        finally:
            pdf.close()


def assemble(pages: Sequence[LaidOutPage], meta: dict | None = None) -> RawText:
    """The reading-order text of laid-out ``pages`` (see the module's docstring)."""
    running = running_lines([p.lines for p in pages], [p.height for p in pages])
    pages = [LaidOutPage(p.number, p.width, p.height, [ln for ln in p.lines if id(ln) not in running], p.tables) for p in pages]
    lines = [ln for p in pages for ln in p.lines]
    paras = paragraphs(pages, Style.of(lines))
    if any(ln.char_x is None for ln in lines):
        # OCR'd pages: a line's height says too little about its font to rank headings
        # (a bold 11.5 pt heading measures like 10.5 pt body text), so headings are left
        # to structure.py's reading of short unpunctuated lines, as for plain text.
        for p in paras:
            p.level = 0
    headings = any(p.level for p in paras)
    # Without "#" lines structure.py reads the text as a plain extraction, where a single line
    # break does not end a unit: table rows are then set apart by blank lines.
    raw = _write(paras, len(pages), ROW_BREAK if headings else PARAGRAPH_BREAK)
    raw.page_sizes = [(p.width, p.height) for p in pages]
    raw.meta = dict(meta or {})
    if headings:
        raw.meta["structure"] = "md"
    return raw


def _write(paras: list[Paragraph], n_pages: int, row_break: str) -> RawText:
    parts: list[str] = []
    boxes: list[Box] = []
    starts: list[int | None] = [None] * n_pages
    pos = 0

    def put(text: str, page: int = 0, rect: tuple[float, float, float, float] | None = None, confidence: float = 1.0) -> None:
        nonlocal pos
        if page:
            for k in range(page):
                if starts[k] is None:
                    starts[k] = pos
        if rect is not None and text:
            boxes.append(Box(pos, pos + len(text), page, *rect, confidence=confidence))
        parts.append(text)
        pos += len(text)

    for p in paras:
        rows = p.table.lines() if p.table is not None else []
        if p.table is not None and not rows:
            continue
        if parts:
            put(PARAGRAPH_BREAK)
        if p.table is not None:
            for j, (text, row) in enumerate(rows):
                if j:
                    put(row_break)
                put(text, p.table.page, (row.x0, row.top, row.x1, row.bottom))
            continue
        if p.level:
            put("#" * p.level + " ", p.lines[0].page)
        texts = [ln.text for ln in p.lines]
        seps = [""] * len(texts)
        for k in range(1, len(texts)):
            drop, seps[k] = join(texts[k - 1], texts[k])
            texts[k - 1] = texts[k - 1][: len(texts[k - 1]) - drop]
        for ln, text, sep in zip(p.lines, texts, seps):
            put(sep)
            put(text, ln.page, (ln.x0, ln.top, ln.x1, ln.bottom), ln.confidence)
    total = pos
    return RawText("".join(parts), [total if s is None else s for s in starts], boxes)
