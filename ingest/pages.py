"""What a laid-out page reader hands to ``load_document``.

A PDF page is read as ``PageLine`` records (from its text layer, or by OCR
when it has none); ``assemble`` (in ``pdf.py``) turns them into reading-order
text.  ``RawText`` is what every reader returns: the raw text, where each
page starts in it, and for laid-out documents the ``Box`` each run of that
text occupies on its page, so a citation can be shown on the page image.
Coordinates are PDF points from the page's top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# OCR'd text recognised with less confidence than this is marked in citations (chosen with
# bench/bench_ocr.py --degrade: see the comment above its import in ingest/ocr.py).
LOW_CONFIDENCE = 0.9


@dataclass
class PageLine:
    """One line of text on a page, as read."""

    text: str
    page: int  # 1-based
    x0: float
    top: float
    x1: float
    bottom: float
    size: float = 0.0  # font size (text layer) or line height (OCR), in points
    bold: bool = False
    confidence: float = 1.0  # OCR recognition confidence; 1.0 for a text layer
    char_x: list[float] | None = None  # left edge of each character, when known (text layer)


@dataclass
class Box:
    """Where ``text[start:end]`` of the raw text sits on page ``page``."""

    start: int
    end: int
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float = 1.0


@dataclass
class RawText:
    text: str
    page_starts: list[int] | None = None  # offset in ``text`` where each page begins
    boxes: list[Box] = field(default_factory=list)
    page_sizes: list[tuple[float, float]] = field(default_factory=list)  # (width, height) per page
    meta: dict = field(default_factory=dict)
