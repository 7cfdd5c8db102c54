"""Citations from PDFs: where the quote is on its page (``boxes``), the page
image with the quote highlighted (``GET /api/page``), and the Sources panel
and widget pointing at it."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from docqa.records import Citation, Document
from docqa.settings import Settings
from docqa.web.render import page_images, source_html
from tests.fakes import FakeEmbedder

FACT = "园区累计备案新型研发机构42家，2024年新增9家。"
QUESTION = "园区累计备案了多少家新型研发机构？"


def _doc(**kw) -> Document:
    text = "甲" * 10 + "乙" * 10
    return Document("d", "/x/d.pdf", "D", text, "0", "pdf", page_starts=[0, 10], **kw)


def test_boxes_for_cuts_a_line_box_in_proportion_and_gives_fractions_of_the_page():
    doc = _doc(
        boxes=[[0, 10, 1, 100, 200, 300, 212, 1.0], [10, 20, 2, 50, 100, 150, 110, 0.6]],
        page_sizes=[[400, 800], [400, 800]],
    )
    boxes, confidence = doc.boxes_for(5, 10)
    assert boxes == [[1, 0.5, 0.25, 0.75, 0.265]]  # x 200..300 of 400 wide, y 200..212 of 800 high
    assert confidence == 1.0
    boxes, confidence = doc.boxes_for(8, 12)
    assert [b[0] for b in boxes] == [1, 2] and confidence == 0.6
    assert doc.boxes_for(20, 25) == ([], 1.0)
    assert _doc().boxes_for(0, 5) == ([], 1.0)  # plain text: no boxes


def test_the_sources_panel_links_the_highlighted_page_image():
    c = Citation(
        1, "/x/a b.pdf", "A", ("S",), 0, 5, 2, "甲甲甲甲甲", boxes=[[2, 0.1, 0.2, 0.3, 0.25], [3, 0.1, 0.0, 0.2, 0.05]]
    )
    [(p2, url2), (p3, _)] = page_images(c)
    assert (p2, p3) == (2, 3)
    assert url2.startswith("api/page?doc=%2Fx%2Fa+b.pdf&page=2&boxes=0.1000%2C0.2000%2C0.3000%2C0.2500")
    html = source_html(c, [], "zh")
    assert html.count('<img class="dq-page"') == 2 and "&amp;page=2" in html and "识别" not in html
    c.low_confidence = True
    assert "置信度较低" in source_html(c, [], "zh")
    c.boxes = []
    assert "dq-page" not in source_html(c, [], "zh")


def _park_pdf(path: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setFont("STSong-Light", 18)
    c.drawString(72, 760, "星河科技园年度报告")
    c.setFont("STSong-Light", 11)
    c.drawString(72, 720, "星河科技园位于示例市东部，占地面积120公顷。")
    c.showPage()
    c.setFont("STSong-Light", 11)
    c.drawString(72, 760, FACT)
    c.showPage()
    c.save()
    return path


def build_pdf_engine(root: Path):
    """An engine (fake embedder) over a two-page PDF whose page 2 holds FACT; and the PDF."""
    from docqa.factory import make_engine, make_ingestor

    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    pdf = _park_pdf(corpus / "park.pdf")
    settings = Settings(home=root / "home", min_confidence=0.0)  # the fake embedder's scores are not calibrated
    embedder = FakeEmbedder()
    make_ingestor(settings, embedder).ingest([corpus])
    return make_engine(settings, embedder), pdf


@pytest.fixture
def pdf_server(tmp_path):
    from docqa.web.server import BackgroundServer, create_server

    engine, pdf = build_pdf_engine(tmp_path)
    settings = Settings(home=tmp_path / "home")
    with BackgroundServer(create_server(engine, settings), settings) as url:
        yield url, engine, pdf


def test_a_pdf_citation_carries_its_page_and_boxes_and_the_page_image_highlights_them(pdf_server):
    url, engine, pdf = pdf_server
    answer = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=60).json()
    assert not answer["refused"], answer
    c = answer["citations"][0]
    assert "42家" in c["quote"] and c["page"] == 2 and c["low_confidence"] is False
    [[page, left, top, right, bottom]] = c["boxes"]
    assert page == 2 and 0 < left < right < 1 and 0 < top < bottom < 0.2  # near the top of page 2
    boxes = f"{left},{top},{right},{bottom}"
    r = httpx.get(f"{url}/api/page", params={"doc": c["doc"], "page": 2, "boxes": boxes}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    w, h = image.size
    assert w / h == pytest.approx(595 / 842, rel=0.01)
    plain = Image.open(io.BytesIO(httpx.get(f"{url}/api/page", params={"doc": c["doc"], "page": 2}, timeout=60).content))
    region = (int(left * w), int(top * h), int(right * w), int(bottom * h))

    def mean(img, band):  # mean of one colour band over the quote's box
        values = list(img.convert("RGB").crop(region).getdata(band))
        return sum(values) / len(values)

    assert mean(image, 2) < mean(plain, 2) - 40  # yellow: much less blue over the quote
    assert abs(mean(image, 0) - mean(plain, 0)) < 25  # red about the same
    outside = (region[0], region[3] + 40, region[2], region[3] + 60)
    assert image.crop(outside).tobytes() == plain.convert("RGB").crop(outside).tobytes()


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"doc": "nope.pdf", "page": "1"}, 404, "no indexed document"),
        ({"page": "1"}, 422, "give a citation's doc and page"),
        ({"doc": "DOC", "page": "x"}, 422, "give a citation's doc and page"),
        ({"doc": "DOC", "page": "9"}, 404, "pages 1 to 2"),
        ({"doc": "DOC", "page": "1", "boxes": "1,2"}, 422, "not four numbers"),
        ({"doc": "DOC", "page": "1", "boxes": "0,0,2,nan"}, 422, "four fractions"),
    ],
)
def test_bad_page_requests_get_one_clear_error(pdf_server, params, status, words):
    url, engine, pdf = pdf_server
    params = {k: (str(pdf.resolve()) if v == "DOC" else v) for k, v in params.items()}
    r = httpx.get(f"{url}/api/page", params=params, timeout=60)
    assert r.status_code == status and words in r.json()["error"], r.text


def test_a_changed_or_missing_source_file_is_an_error_not_a_wrong_page(pdf_server):
    url, engine, pdf = pdf_server
    doc = str(pdf.resolve())
    pdf.write_bytes(pdf.read_bytes() + b"\n% edited\n")
    r = httpx.get(f"{url}/api/page", params={"doc": doc, "page": 1}, timeout=60)
    assert r.status_code == 404 and "re-ingest" in r.json()["error"]
    pdf.unlink()
    r = httpx.get(f"{url}/api/page", params={"doc": doc, "page": 1}, timeout=60)
    assert r.status_code == 404 and "gone" in r.json()["error"]
