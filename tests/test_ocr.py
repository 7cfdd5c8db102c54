"""OCR of pages without a text layer (docqa.ingest.ocr).

Pages of report text are typeset in two columns with reportlab (pdfium draws
STSong-Light with the system's Noto CJK), rasterised at 200 dpi turned 0.5
degrees (an imitation scan) into an image-only PDF and read with the real
engine: once for the module (two pages) and once for the narrow gutter, a few
seconds in all.  The other tests use a fake engine or none.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from docqa.errors import CorruptDocument, DocumentError, ModelUnavailable
from docqa.ingest import ocr
from docqa.ingest.pages import PageLine

pytestmark = pytest.mark.timeout(300)

A4 = (595.28, 841.89)
SIZE = 10.5
DPI = 200
ANGLE = 0.5  # degrees, anticlockwise (as PIL turns it)
LEFT, RIGHT = 56.7, 310.0  # the columns' left edges, points
PAGES = {
    1: [
        "上海科技创新报告节选第一页",
        "第二批12家长三角创新联合体成立",
        "长三角大飞机产业集群合作共建框架协议签署",
        "静安区发布链主企业创新伙伴计划",
        "宝山区发布创新联合体备案工作指引",
        "企业科技创新主体作用不断彰显",
        "2024年度上海市科学技术奖获奖名单显示",
        "由企业主导的产学研合作模式加快应用",
    ],
    2: [
        "新型研发机构高质量发展",
        "围绕数理化生等基础学科发展和人工智能",
        "开展体系化布局加快建设一批新型研发机构",
        "累计备案上海市新型研发机构36家",
        "上海科学智能研究院",
        "围绕气象生命物质科学等领域形成体系化布局",
        "在中国气象局人工智能天气预报大模型示范计划中",
        "发布城市多灾种早期预警智能体",
    ],
}


def _layout(texts: list[str]) -> list[tuple[str, float, float]]:
    """(text, x, top) of each line: the first half in the left column, the rest in the right."""
    half = len(texts) // 2
    return [(t, LEFT if i < half else RIGHT, 80.0 + 30.0 * (i % half)) for i, t in enumerate(texts)]


def _width(text: str) -> float:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return pdfmetrics.stringWidth(text, "STSong-Light", SIZE)


def _expected_box(text: str, x: float, top: float) -> tuple[float, float, float, float]:
    """Where the typeset line's em box lands on the scan: its corners turned by
    ANGLE about the page centre, as a bounding rectangle (points)."""
    width = _width(text)
    a = math.radians(ANGLE)
    cx, cy = A4[0] / 2, A4[1] / 2
    xs, ys = [], []
    for px, py in ((x, top), (x + width, top), (x + width, top + SIZE), (x, top + SIZE)):
        dx, dy = px - cx, py - cy
        xs.append(cx + dx * math.cos(a) + dy * math.sin(a))
        ys.append(cy - dx * math.sin(a) + dy * math.cos(a))
    return min(xs), min(ys), max(xs), max(ys)


def _typeset(target: Path, pages: dict[int, list[tuple[str, float, float]]]) -> None:
    """Each page's (text, x, top) lines, 10.5 pt; x and top in points from the top-left."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(target), pagesize=A4)
    for number in sorted(pages):
        c.setFont("STSong-Light", SIZE)
        for text, x, top in pages[number]:
            c.drawString(x, A4[1] - top - 0.88 * SIZE, text)  # baseline: 0.88 em below the em box's top
        c.showPage()
    c.save()


def _scan(source: Path, target: Path) -> None:
    """An image-only copy of ``source``: greyscale at DPI, turned ANGLE degrees."""
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument(source)
    images = [
        doc[i].render(scale=DPI / 72).to_pil().convert("L").rotate(ANGLE, resample=Image.Resampling.BICUBIC, fillcolor=255)
        for i in range(len(doc))
    ]
    doc.close()
    images[0].save(target, "PDF", resolution=DPI, save_all=True, append_images=images[1:])


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _nearest(lines: list[PageLine], x: float, top: float) -> PageLine:
    return min(lines, key=lambda ln: abs(ln.x0 - x) + abs(ln.top - top))


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("ocr")
    _typeset(d / "typeset.pdf", {n: _layout(texts) for n, texts in PAGES.items()})
    _scan(d / "typeset.pdf", d / "scan.pdf")
    return d / "scan.pdf"


@pytest.fixture(scope="module")
def read(scan) -> tuple[dict[int, list[PageLine]], list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    found = ocr.ocr_pages(scan, [1, 2], progress=lambda done, total: calls.append((done, total)))
    return found, calls


def test_reads_the_lines_of_each_page(read):
    found, _ = read
    assert sorted(found) == [1, 2]
    for number, texts in PAGES.items():
        assert all(ln.page == number for ln in found[number])
        assert len(found[number]) == len(texts)
        errors = sum(_edit_distance(t, _nearest(found[number], x, top).text) for t, x, top in _layout(texts))
        assert 1 - errors / sum(map(len, texts)) >= 0.95, [ln.text for ln in found[number]]


def test_boxes_are_where_the_text_was_typeset(read):
    found, _ = read
    for number, texts in PAGES.items():
        for text, x, top in _layout(texts):
            line = _nearest(found[number], x, top)
            want = _expected_box(text, x, top)
            got = (line.x0, line.top, line.x1, line.bottom)
            assert all(abs(g - w) <= 3.0 for g, w in zip(got, want)), (text, got, want)
            assert 0.8 * SIZE <= line.size <= 1.4 * SIZE  # the line's height, about the font size


def test_lines_are_recognition_records(read):
    found, _ = read
    lines = [ln for page in found.values() for ln in page]
    assert all(ln.text.strip() == ln.text and ln.text for ln in lines)
    assert all(ln.char_x is None and not ln.bold for ln in lines)  # an OCR'd line, not a text layer
    assert all(ocr.LOW_CONFIDENCE <= ln.confidence <= 1.0 for ln in lines)  # a clean scan is not marked


def test_progress_after_each_page(read):
    _, calls = read
    assert calls == [(1, 2), (2, 2)]


def test_no_line_spans_a_narrow_gutter(tmp_path):
    """The detector reads some lines of two columns 9 pt apart as one (where both
    reach the gutter); they come back as two."""
    full = ["围绕数理化生等基础学科发展和人工智能区块链", "前沿领域开展体系化布局加快建设一批具有战略"]
    short = "新型研发机构"
    width = max(map(_width, full))
    right = LEFT + width + 9.0
    left_column = [0, 0, None, 0, 0, None, 0, None, 1, 1]  # full[i], or short for None
    right_column = [1, None, 1, 1, None, 0, None, 0, 1, None]  # full[i], or nothing for None
    lines = []
    for row, (a, b) in enumerate(zip(left_column, right_column)):
        top = 80.0 + 14.0 * row
        lines.append((full[a] if a is not None else short, LEFT, top))
        if b is not None:
            lines.append((full[b], right, top))
    _typeset(tmp_path / "narrow.pdf", {1: lines})
    _scan(tmp_path / "narrow.pdf", tmp_path / "narrow-scan.pdf")
    found = ocr.ocr_pages(tmp_path / "narrow-scan.pdf", [1])[1]
    middle = LEFT + width + 4.5
    assert [ln.text for ln in found if ln.x0 < middle < ln.x1] == []
    errors = sum(_edit_distance(t, _nearest(found, x, top).text) for t, x, top in lines)
    assert 1 - errors / sum(len(t) for t, _, _ in lines) >= 0.95, [ln.text for ln in found]


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.pdf"
    with pytest.raises(DocumentError, match="no such file; check the path") as err:
        ocr.ocr_pages(missing, [1])
    assert str(missing) in str(err.value)


def test_corrupt_file(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really a PDF")
    with pytest.raises(CorruptDocument, match="complete, valid PDF") as err:
        ocr.ocr_pages(bad, [1])
    assert str(bad) in str(err.value)


def test_page_out_of_range(scan):
    with pytest.raises(CorruptDocument, match="has 2 pages, no page 3"):
        ocr.ocr_pages(scan, [3])


class FakeEngine:
    """Stands in for RapidOCR: returns ``result`` (pixel quads) or raises ``error``."""

    def __init__(self, result=None, error: Exception | None = None):
        self.result, self.error = result, error

    def __call__(self, image, **options):
        if self.error is not None:
            raise self.error
        return self.result, [0.1, 0.0, 0.2]


def test_a_page_the_engine_cannot_read(scan, monkeypatch):
    monkeypatch.setattr(ocr, "ocr_engine", lambda: FakeEngine(error=ValueError("img is None")))
    with pytest.raises(CorruptDocument) as err:
        ocr.ocr_pages(scan, [1, 2])
    message = str(err.value)
    assert str(scan) in message and "page 1" in message and "re-scan it" in message


def test_only_the_pages_asked_for(scan, monkeypatch):
    quad = [[40, 80], [240, 80], [240, 110], [40, 110]]
    monkeypatch.setattr(ocr, "ocr_engine", lambda: FakeEngine([[quad, "上海科技", 0.97]]))
    found = ocr.ocr_pages(scan, [2])
    assert list(found) == [2]
    assert [(ln.page, ln.text) for ln in found[2]] == [(2, "上海科技")]


def test_pixel_quads_become_point_rectangles(scan, monkeypatch):
    s = ocr.RENDER_SCALE
    straight = [[20 * s, 40 * s], [120 * s, 40 * s], [120 * s, 55 * s], [20 * s, 55 * s]]
    skewed = [[20 * s, 82 * s], [220 * s, 80 * s], [220 * s, 95 * s], [20 * s, 97 * s]]  # clockwise from top-left
    fake = FakeEngine([[straight, "上海科技", 0.97], [skewed, "创新报告", 0.62], [straight, "  ", 0.9], [straight, "", 0.9]])
    monkeypatch.setattr(ocr, "ocr_engine", lambda: fake)
    lines = ocr.ocr_pages(scan, [1])[1]
    assert lines == [
        PageLine("上海科技", 1, 20.0, 40.0, 120.0, 55.0, size=15.0, bold=False, confidence=0.97, char_x=None),
        PageLine("创新报告", 1, 20.0, 80.0, 220.0, 97.0, size=15.0, bold=False, confidence=0.62, char_x=None),
    ]
    assert lines[1].confidence < ocr.LOW_CONFIDENCE <= lines[0].confidence


def test_column_cut_needs_a_gutter_at_a_column_edge():
    """A blank band splits a line only where it ends at a column's left edge; the
    blank half of a full-width comma elsewhere does not."""
    import numpy as np

    em = 20.0
    ink = np.zeros((40, 700), dtype=bool)
    ink[10:30, 10:300] = True  # left column text
    ink[10:30, 140:152] = False  # a comma's blank: 0.6 em, not at an edge
    ink[10:30, 330:690] = True  # right column text, after a 1.5 em gutter
    quad = [[8, 8], [692, 8], [692, 32], [8, 32]]
    assert ocr._cut(ink, quad, edges=[330.0], em=em) == [(10, 300), (330, 690)]
    assert ocr._cut(ink, quad, edges=[152.0], em=em) == [(10, 140), (152, 690)]  # (were an edge there)
    assert ocr._cut(ink, quad, edges=[500.0], em=em) == []


def test_without_rapidocr_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import fails
    with pytest.raises(ModelUnavailable, match=r"pip install rapidocr-onnxruntime==1\.4\.4"):
        ocr.ocr_engine.__wrapped__()  # the uncached factory


def test_engine_is_lazy_and_built_once():
    code = "import sys, docqa.ingest.ocr; print('onnxruntime' in sys.modules or 'rapidocr_onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert ocr.ocr_engine() is ocr.ocr_engine()
