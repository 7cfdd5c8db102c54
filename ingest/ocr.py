"""Read PDF pages that have no text layer, by OCR.

``ocr_pages`` renders each page with pypdfium2 and recognises it with
rapidocr-onnxruntime (PP-OCRv4 Chinese detection and recognition models,
shipped inside the wheel: nothing is downloaded).  Each recognised line comes
back as a ``PageLine`` in PDF points from the page's top-left corner, with its
recognition confidence; text below ``LOW_CONFIDENCE`` is to be marked as
uncertain where it is cited.

The engine is built once per process, on first use, never at import time.
PDFium is not thread-safe (not even across documents): every pdfium call here
holds ``PDFIUM_LOCK``, and other code using pdfium in this process should too.
"""

from __future__ import annotations

import functools
import logging
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docqa.errors import CorruptDocument, DocumentError, ModelUnavailable
from docqa.ingest.pages import LOW_CONFIDENCE, PageLine  # noqa: F401  (LOW_CONFIDENCE: read here by bench/bench_ocr.py)

if TYPE_CHECKING:
    from rapidocr_onnxruntime import RapidOCR

# Render scale, pixels per point: 2.0 is 144 dpi, an A4 page 1191 x 1684 px. Measured
# with bench/bench_ocr.py (two-column A4 pages of the bundled report, scanned at 300
# dpi, 0.5 degrees askew): 10.5 pt text is read 99.60% right at 1.5, 99.70-99.77% at
# 1.75, 2.0 and 2.5; 7.5 pt 99.65-99.77% at all four. The scale only changes the
# detector's share of the time (the recogniser reads every line at 48 px high),
# a few tenths of a second per page between 1.5 and 2.0.
RENDER_SCALE = 2.0
# Longest side of a rendered page, in pixels: a larger page (A3, a poster) is
# rendered at a smaller scale, so its bitmap and the detector's input stay bounded.
MAX_SIDE_PX = 2400
# Lines recognised with a lower confidence are "low confidence". From bench/bench_ocr.py
# --degrade (one page scanned ever worse: 300 dpi down to 96 dpi, blurred, noisy): no
# line of the clean scans (300, 150 dpi) is below 0.9; of all lines read right 4% are,
# of those with more than 10% of their characters wrong 85% are (at 0.8: 1% and 52%).
# The value lives in pages.py, beside the records it marks (the engine reads it there).
# Lines read with a lower confidence are dropped as noise (RapidOCR's default).
MIN_SCORE = 0.5
# onnxruntime threads for one page (the target machine has 2 cores).
OCR_THREADS = 2
# Darker than this (0-255) is ink, when looking for the blank gutter between columns.
INK_LEVEL = 128

PDFIUM_LOCK = threading.RLock()
_ENGINE_LOCK = threading.Lock()  # RapidOCR keeps per-call state on the engine object

log = logging.getLogger(__name__)

Quad = list[list[float]]  # four (x, y) corners in pixels, clockwise from the top-left


@functools.cache
def ocr_engine() -> RapidOCR:
    """The process's RapidOCR engine, built on first use (about 1 s)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise ModelUnavailable(
            f"OCR needs rapidocr-onnxruntime ({exc}); install it with `pip install rapidocr-onnxruntime==1.4.4`"
        ) from exc
    # rapidocr gives these loggers their own stderr handlers at DEBUG; only errors matter here.
    for name in ("RapidOCR", "OrtInferSession"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return RapidOCR(
        intra_op_num_threads=max(1, min(OCR_THREADS, os.cpu_count() or 1)),
        inter_op_num_threads=1,
        max_side_len=MAX_SIDE_PX,  # pages are rendered within it: no second resize
        text_score=MIN_SCORE,
        # The line direction classifier turns some upright lines upside down (those
        # with spaced quotation marks, most often), which then read as nothing:
        # 2-4 lines lost per page of 9 pt text. Scans are upright: it is not used.
        use_cls=False,
    )


def ocr_pages(
    path: Path,
    pages: list[int],
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, list[PageLine]]:
    """Recognise the text of ``pages`` (1-based) of the PDF at ``path``.

    Returns each page's lines as the engine orders them (top to bottom, then
    left to right; not re-ordered into columns), without empty ones.
    ``progress(done, total)`` is called after each page. Raises
    ``DocumentError`` when the file is missing, ``CorruptDocument`` when it
    cannot be opened or a page cannot be rendered or read.
    """
    import pypdfium2 as pdfium

    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"{path}: no such file; check the path")
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            raise CorruptDocument(f"{path}: cannot open this PDF for OCR ({exc}); check it is a complete, valid PDF") from exc
    out: dict[int, list[PageLine]] = {}
    try:
        engine = ocr_engine()
        n_pages = len(doc)
        for done, page in enumerate(pages, 1):
            if not 1 <= page <= n_pages:
                raise CorruptDocument(f"{path}: has {n_pages} pages, no page {page} to OCR; check it is a complete PDF")
            t0 = time.perf_counter()
            image, scale = _render(doc, page, path)
            out[page] = _recognise(engine, image, scale, page, path)
            seconds = time.perf_counter() - t0
            log.info("OCR %s page %d (%d/%d): %d lines in %.1f s", path.name, page, done, len(pages), len(out[page]), seconds)
            if progress is not None:
                progress(done, len(pages))
    finally:
        with PDFIUM_LOCK:
            doc.close()
    return out


def _render(doc: Any, page: int, path: Path) -> tuple[Any, float]:
    """Page ``page`` as a PIL image, and the scale it was rendered at (pixels per point)."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            p = doc[page - 1]
            width, height = p.get_size()
            scale = min(RENDER_SCALE, MAX_SIDE_PX / max(width, height, 1.0))
            image = p.render(scale=scale).to_pil()
            p.close()
        except (pdfium.PdfiumError, ValueError, MemoryError) as exc:
            raise CorruptDocument(
                f"{path}: page {page} cannot be rendered for OCR ({exc}); re-save or re-scan the PDF and ingest it again"
            ) from exc
    return image, scale


def _read(engine: RapidOCR, image: Any, page: int, path: Path, **options: bool) -> list:
    """The engine's result for ``image``: ``[quad, text, score]`` per line
    (``[text, score]`` with ``use_det=False``)."""
    import cv2
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, RuntimeException
    from rapidocr_onnxruntime.ch_ppocr_det.utils import ResizeImgError
    from rapidocr_onnxruntime.utils.load_image import LoadImageError

    try:
        with _ENGINE_LOCK:
            result, _elapse = engine(image, **options)
    except (cv2.error, LoadImageError, ResizeImgError, Fail, InvalidArgument, RuntimeException, ValueError, MemoryError) as exc:
        raise CorruptDocument(
            f"{path}: OCR failed on page {page} ({type(exc).__name__}: {exc}); "
            "check that page's image (re-scan it, or save it again as PDF) and ingest again"
        ) from exc
    return result or []


def _recognise(engine: RapidOCR, image: Any, scale: float, page: int, path: Path) -> list[PageLine]:
    found = [(quad, text, float(score)) for quad, text, score in _read(engine, image, page, path)]
    found = _split_columns(engine, image, found, page, path)
    return [_line(text.strip(), quad, score, page, scale) for quad, text, score in found if text.strip()]


def _split_columns(
    engine: RapidOCR, image: Any, found: list[tuple[Quad, str, float]], page: int, path: Path
) -> list[tuple[Quad, str, float]]:
    """Lines of neighbouring columns that the detector joined across a narrow
    gutter (and table cells across theirs), cut apart and each piece read
    again: the layout could not separate them afterwards.

    A column's left edge is where three or more lines start and three or more
    others end less than 4 characters before (so not a paragraph indent).  A
    line is cut where a blank run at least half a character wide crosses it
    and ends at such an edge (see ``_cut``).  The blank half of a full-width
    comma, or the space between closing and opening quotation marks, is no
    gutter: no column starts just after it.
    """
    import numpy as np

    if len(found) < 6:
        return found
    em = statistics.median(_height(q) for q, _, _ in found) / 1.1  # a detected box is about 1.1 characters high
    starts = [_left(q) for q, _, _ in found]
    ends = [_right(q) for q, _, _ in found]
    edges = [
        s
        for s in starts
        if sum(1 for t in starts if abs(t - s) <= em / 2) >= 3 and sum(1 for t in ends if s - 4 * em <= t <= s - em / 4) >= 3
    ]
    across = [any(_left(q) + em < e < _right(q) - em for e in edges) for q, _, _ in found]
    if not any(across):
        return found
    ink = np.asarray(image.convert("L")) < INK_LEVEL
    out: list[tuple[Quad, str, float]] = []
    for line, crossing in zip(found, across):
        pieces = _cut(ink, line[0], edges, em) if crossing else []
        if not pieces:
            out.append(line)
            continue
        top, bottom = _top(line[0]), _bottom(line[0])
        for x0, x1 in pieces:
            crop = image.crop((int(x0 - em / 4), int(top), int(x1 + em / 4) + 1, int(bottom) + 1))
            read = _read(engine, crop, page, path, use_det=False)  # [[text, score]]
            text, score = (read[0][0], float(read[0][1])) if read else ("", 0.0)
            if text.strip() and score >= MIN_SCORE:
                out.append(([[x0, top], [x1, top], [x1, bottom], [x0, bottom]], text, score))
    return out


def _cut(ink: Any, quad: Quad, edges: list[float], em: float) -> list[tuple[int, int]]:
    """The pieces (left and right pixel columns, trimmed to their ink) of the line
    in ``quad`` either side of each blank run at least ``em / 2`` wide that ends
    within ``em / 2`` of one of ``edges``; [] when there is none.  ``ink`` is the
    page image, True where dark; only the rows between the box's inner top and
    bottom edges are looked at, not its neighbours' ink."""
    import numpy as np

    left = max(0, int(_left(quad)))
    strip = ink[int(max(quad[0][1], quad[1][1])) + 1 : int(min(quad[2][1], quad[3][1])), left : int(_right(quad)) + 1]
    has_ink = strip.any(axis=0)
    cols = np.flatnonzero(has_ink)
    if len(cols) == 0:
        return []
    # blank runs [start, end) between the first and the last inked column
    change = np.flatnonzero(np.diff(has_ink[cols[0] : cols[-1] + 1].view(np.int8))) + cols[0] + 1 + left
    pieces, piece_start = [], left + int(cols[0])
    for start, end in zip(change[::2], change[1::2]):
        if end - start >= em / 2 and any(abs(end - e) <= em / 2 for e in edges):
            pieces.append((piece_start, int(start)))
            piece_start = int(end)
    pieces.append((piece_start, left + int(cols[-1]) + 1))
    return pieces if len(pieces) > 1 else []


def _left(q: Quad) -> float:
    return min(p[0] for p in q)


def _right(q: Quad) -> float:
    return max(p[0] for p in q)


def _top(q: Quad) -> float:
    return min(p[1] for p in q)


def _bottom(q: Quad) -> float:
    return max(p[1] for p in q)


def _height(q: Quad) -> float:
    """Height along the box's own sides, so a skewed line's is not inflated by its slant."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = q
    return (((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5 + ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5) / 2


def _line(text: str, quad: Quad, score: float, page: int, scale: float) -> PageLine:
    """A detected box (pixels) as its bounding rectangle in points."""
    return PageLine(
        text=text,
        page=page,
        x0=_left(quad) / scale,
        top=_top(quad) / scale,
        x1=_right(quad) / scale,
        bottom=_bottom(quad) / scale,
        size=_height(quad) / scale,
        bold=False,
        confidence=score,
        char_x=None,
    )
