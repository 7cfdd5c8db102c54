"""A PDF as a scanner would return it: every page an image, no text layer.

Pages are rendered with pypdfium2 at ``dpi``, turned greyscale, rotated by a
small fixed angle (a sheet fed slightly askew) and given a little seeded noise,
then saved as an image-only PDF with Pillow.  The same input, dpi, angle and
seed give the same file.
"""

from __future__ import annotations

import time
from pathlib import Path

from docqa.errors import DocumentError

ANGLE = 0.4  # degrees, anticlockwise
NOISE = 6.0  # standard deviation of the grey-level noise
SEED = 20240601
FIXED_DATE = time.gmtime(946684800)  # 2000-01-01: Pillow would otherwise stamp the current time
INK = 160  # a pixel darker than this is ink
# Ink pixels per character of the text layer at 150 dpi below which the glyphs were
# not drawn: ~125 with a CJK font, 3-8 without one (only rules and page numbers drawn).
INK_PER_CHAR = 20


def _page_image(page, dpi: int, rng, angle: float, noise: float):
    import numpy as np
    from PIL import Image

    img = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    grey = np.asarray(img, dtype=np.float32) + rng.normal(0.0, noise, (img.height, img.width))
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), mode="L")


def _characters(page) -> int:
    """How many visible characters the page's text layer holds."""
    text = page.get_textpage().get_text_range()
    return sum(1 for ch in text if not ch.isspace())


def scan_pdf(pdf: Path, out: Path, dpi: int = 150, angle: float = ANGLE, noise: float = NOISE, seed: int = SEED) -> Path:
    """Write ``out``, an image-only copy of ``pdf``; return its path."""
    import numpy as np

    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # a dependency of pdfplumber; named here in case it is missing
        raise DocumentError("scanning needs pypdfium2; install it with `pip install pypdfium2`") from exc
    doc = pdfium.PdfDocument(str(pdf))
    try:
        title = doc.get_metadata_dict().get("Title") or Path(pdf).stem
        rng = np.random.default_rng(seed)
        pages = [_page_image(doc[i], dpi, rng, angle, noise) for i in range(len(doc))]
        chars = sum(_characters(doc[i]) for i in range(len(doc)))
    finally:
        doc.close()
    if not pages:
        raise DocumentError(f"{pdf}: no pages to scan")
    inked = [np.count_nonzero(np.asarray(p) < INK) for p in pages]  # ink pixels per page
    if not any(n > p.width for n, p in zip(inked, pages)) or sum(inked) * (150 / dpi) ** 2 < INK_PER_CHAR * chars:
        raise DocumentError(
            f"{pdf}: the pages rendered blank; pdfium found no font for the text (install a CJK font, e.g. fonts-noto-cjk)"
        )
    pages[0].save(
        out, "PDF", resolution=float(dpi), save_all=True, append_images=pages[1:], title=title,
        creationDate=FIXED_DATE, modDate=FIXED_DATE,
    )  # fmt: skip
    return out
