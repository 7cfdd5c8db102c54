"""Loaders on fixture files the tests create, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docqa.errors import CorruptDocument, DocumentError, EmptyDocument, UnsupportedFile
from docqa.ingest.discover import discover
from docqa.ingest.loaders import load_document


def test_txt_utf8_and_gb18030(tmp_path):
    (tmp_path / "a.txt").write_text("累计**36**家。", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("上海科技创新。".encode("gb18030"))
    assert load_document(tmp_path / "a.txt").text == "累计36家。"
    assert load_document(tmp_path / "b.txt").text == "上海科技创新。"


def test_sidecar_metadata_gives_title(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text("正文。", encoding="utf-8")
    (tmp_path / "r.txt.meta.json").write_text(json.dumps({"title": "报告标题", "source": "x"}), encoding="utf-8")
    doc = load_document(f)
    assert doc.title == "报告标题" and doc.meta["source"] == "x" and doc.meta["format"] == "txt"


def test_a_plain_texts_first_line_is_its_title_when_it_reads_as_one(tmp_path):
    """A title line heads every passage, as a markdown title does: a question
    naming the document (「员工手册规定的…」) finds its words there."""
    cases = {
        "handbook.txt": (
            "澄川智联科技股份有限公司员工手册（节选）\n\n第一章 总则\n\n第一条 目的。为规范管理，制定本手册。",
            "澄川智联科技股份有限公司员工手册（节选）",
        ),
        "notes.txt": ("本手册自2024年3月1日起施行。\n\n第一章 总则", "notes"),  # a sentence, not a title
        "one.txt": ("只有一行标题", "one"),  # nothing follows it
        "long.txt": ("关" * 41 + "\n\n正文。", "long"),
        "spec.txt": ("产品型号：CJ-T8P\n额定功率：45W\n\n产品说明。", "spec"),  # a value under a label, not a title
    }
    for name, (text, title) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert load_document(tmp_path / name).title == title, name


def test_markdown_title_from_first_heading(tmp_path):
    f = tmp_path / "m.md"
    f.write_text("# 年度报告\n\n正文**12**项。", encoding="utf-8")
    doc = load_document(f)
    assert doc.title == "年度报告" and "正文12项。" in doc.text


def test_html_main_text_only(tmp_path):
    f = tmp_path / "p.html"
    f.write_text(
        "<html><head><title>页面</title><script>var secret=1;</script></head><body>"
        "<nav><a href='/'>首页</a> | <a href='/x'>导航菜单</a></nav>"
        "<main><h1>上海科技</h1><p>第二批<b>12</b>家长三角创新联合体成立。</p>"
        "<h2>研发机构</h2><p>累计备案上海市新型研发机构36家。</p></main>"
        "<footer>版权所有</footer></body></html>",
        encoding="utf-8",
    )
    doc = load_document(f)
    assert "第二批12家长三角创新联合体成立。" in doc.text
    assert "累计备案上海市新型研发机构36家。" in doc.text
    assert "secret" not in doc.text and "导航菜单" not in doc.text and "版权所有" not in doc.text
    assert doc.kind == "md"  # headings are kept as markdown


def _make_pdf(path: Path, pages: list[str]) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    for text in pages:
        c.setFont("STSong-Light", 12)
        for i, line in enumerate(text.split("\n")):
            c.drawString(72, 750 - 18 * i, line)
        c.showPage()
    c.save()


def test_pdf_keeps_page_numbers(tmp_path):
    f = tmp_path / "r.pdf"
    _make_pdf(f, ["第一页：累计备案新型研发机构36家。", "第二页：蜘蛛系统完成海试。"])
    doc = load_document(f)
    assert doc.kind == "pdf" and doc.page_starts and len(doc.page_starts) == 2
    assert doc.page_at(doc.text.index("36家")) == 1
    assert doc.page_at(doc.text.index("蜘蛛系统")) == 2


def test_docx_headings_and_tables(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "测试文档"
    d.add_heading("研发机构", level=1)
    d.add_paragraph("累计备案**36**家。")
    t = d.add_table(rows=1, cols=2)
    t.rows[0].cells[0].text = "指标"
    t.rows[0].cells[1].text = "134个"
    f = tmp_path / "d.docx"
    d.save(str(f))
    doc = load_document(f)
    assert doc.title == "测试文档"
    # a one-row table has no header row: its cells are joined (tests/test_markdown.py has header rows)
    assert "# 研发机构" in doc.text and "累计备案36家。" in doc.text and "指标，134个" in doc.text


@pytest.mark.parametrize(
    "name, content, error, message",
    [
        ("missing.txt", None, DocumentError, "no such file"),
        ("x.xlsx", b"PK", UnsupportedFile, "unsupported file type '.xlsx'"),
        ("empty.txt", b"", EmptyDocument, "the file is empty"),
        ("blank.md", b"\n  \n\t", EmptyDocument, "no text found"),
        ("bad.pdf", b"%PDF-1.4 this is not really a pdf", CorruptDocument, "cannot read this PDF"),
        ("bad.docx", b"not a zip", CorruptDocument, "cannot read this .docx"),
        ("bin.txt", b"\x00\x01\x02binary", CorruptDocument, "binary file"),
    ],
)
def test_bad_input_gets_one_clear_error(tmp_path, name, content, error, message):
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(error) as exc:
        load_document(f)
    assert message in str(exc.value) and name in str(exc.value)


def test_discover_walks_directories(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("一", encoding="utf-8")
    (tmp_path / "a" / "b" / "two.md").write_text("二", encoding="utf-8")
    (tmp_path / "a" / "b" / "skip.xlsx").write_bytes(b"x")
    (tmp_path / "a" / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "a" / "one.txt.meta.json").write_text("{}", encoding="utf-8")
    found = discover([tmp_path / "a"])
    assert sorted(p.name for p in found.files) == ["one.txt", "two.md"]
    assert [p.name for p in found.unsupported] == ["skip.xlsx"]
    with pytest.raises(UnsupportedFile):
        discover([tmp_path / "a" / "b" / "skip.xlsx"])
    with pytest.raises(DocumentError, match="no paths given"):
        discover([])


def test_cli_reports_a_corrupt_file_in_one_line_and_keeps_the_index(settings, tmp_path, monkeypatch, capsys, caplog):
    from docqa.cli import main
    from docqa.factory import make_ingestor
    from tests.fakes import FakeEmbedder, use_embedder

    good = tmp_path / "good.txt"
    good.write_text("上海累计备案新型研发机构36家。", encoding="utf-8")
    emb = FakeEmbedder()
    make_ingestor(settings, emb).ingest([good])
    use_embedder(monkeypatch, emb)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")

    def run(*args) -> int:
        monkeypatch.setattr("sys.argv", ["docqa", *args])
        try:
            main()
        except SystemExit as exit_:
            return exit_.code or 0
        return 0

    capsys.readouterr()
    assert run("ingest", str(bad)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("docqa: error: ") and "cannot read this PDF" in err[0]
    # pypdf's own warnings (EOF marker not found) would print beside it outside pytest
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []
    assert run("docs") == 0
    listed = capsys.readouterr().out
    assert "good.txt" in listed and "bad.pdf" not in listed
