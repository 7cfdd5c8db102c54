"""A PDF page as a PNG image, with a cited span highlighted where it is on the page.

Rendered with pypdfium2 (Apache-2.0/BSD) and cached; the highlight (a
citation's boxes, fractions of the page size) is drawn on a copy with Pillow,
so any client can show it as a plain image.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from docqa.errors import CorruptDocument, NotFound

log = logging.getLogger(__name__)
MAX_SCALE = 4.0
MAX_BOXES = 64
HIGHLIGHT = (253, 224, 71, 96)  # translucent yellow, as the quote is marked in the text
OUTLINE = (202, 138, 4, 255)


def highlight(png: bytes, boxes: list[tuple[float, float, float, float]]) -> bytes:
    """``png`` with each (left, top, right, bottom) box — fractions of the
    image's width and height — filled translucent yellow and outlined."""
    from PIL import Image, ImageDraw

    if not boxes:
        return png
    base = Image.open(io.BytesIO(png)).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    w, h = base.size
    for left, top, right, bottom in boxes[:MAX_BOXES]:
        rect = (left * w - 2, top * h - 2, right * w + 2, bottom * h + 2)
        draw.rectangle(rect, fill=HIGHLIGHT, outline=OUTLINE, width=2)
    buf = io.BytesIO()
    Image.alpha_composite(base, layer).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def render_page(path: Path, page: int, scale: float = 1.5) -> bytes:
    """Page ``page`` (1-based) of the PDF at ``path`` as PNG bytes, ``scale`` × 72 dpi."""
    import pypdfium2 as pdfium

    if not 0.25 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be from 0.25 to {MAX_SCALE}, got {scale}")
    from docqa.ingest.ocr import PDFIUM_LOCK

    with PDFIUM_LOCK:  # pdfium is not thread-safe; the server renders in worker threads
        try:
            pdf = pdfium.PdfDocument(str(path))
        except (pdfium.PdfiumError, OSError) as exc:
            raise CorruptDocument(f"{path}: cannot open this PDF to show the page ({exc}); re-ingest the file") from exc
        try:
            if not 1 <= page <= len(pdf):
                raise NotFound(f"{path.name} has pages 1 to {len(pdf)}, not {page}")
            image = pdf[page - 1].render(scale=scale).to_pil()
        finally:
            pdf.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


class PageImages:
    """Rendered pages of indexed PDFs, cached (the newest ``size`` pages).

    A page is rendered only from the file the index was built from: when the
    file is gone or its content changed since ingest, the boxes would point at
    the wrong place, so that is an error saying to re-ingest."""

    def __init__(self, size: int = 64, scale: float = 1.5):
        from collections import OrderedDict

        self.size = size
        self.scale = scale
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()

    def png(self, path: Path, sha256: str, page: int) -> bytes:
        from docqa.ingest.loaders import file_sha256

        try:
            st = path.stat()
        except OSError as exc:
            raise NotFound(f"{path}: the source file is gone; put it back or re-ingest the folder") from exc
        key = (str(path), st.st_mtime_ns, st.st_size, page)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if file_sha256(path) != sha256:
            raise NotFound(f"{path}: the file changed since it was indexed; re-ingest it to show its pages")
        data = render_page(path, page, self.scale)
        self._cache[key] = data
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return data
