"""Typesetting eval corpora: text -> blocks, the laid-out PDF, its scan, the cache."""

from __future__ import annotations

import json
import sys

import pdfplumber
import pytest

from docqa.errors import DocumentError
from docqa.eval.blocks import Block, parse
from docqa.eval.typeset import corpus_rendering, typeset, typeset_all

TITLE = "测试城市科技发展报告"
SECTION = (
    "{n}号园区围绕人工智能、生物医药和集成电路等领域加快布局，新建公共技术服务平台**{n}**个，"
    "累计服务企业超过{m}家次，带动区域研发投入持续增长，形成一批具有示范意义的创新成果。"
    "园区同时完善人才公寓、共享实验室和中试基地等配套设施，推动高校院所与龙头企业共建联合实验室，"
    "促进科技成果在本地转化落地。"
)


def synthetic_text(sections: int = 14) -> str:
    """Headings, paragraphs with **bold** figures, a numbered heading and a run of statistic pairs."""
    parts = ["2.1 区域创新体系建设", "", "全市科技创新工作稳步推进，各区结合自身产业基础形成了特色鲜明的发展格局。", ""]
    for n in range(1, sections + 1):
        parts += [f"第{n}号科技园区", "", SECTION.format(n=n, m=n * 37), "", SECTION.format(n=n + 100, m=n * 53), ""]
        if n == 2:
            parts += ["在全部参评单位中", "", "",
                      "134个，占所有获奖项目70%", "", "多单位合作项目", "",
                      "111个，占比58%", "", "企业牵头或参与项目", ""]  # fmt: skip
    parts += ["在建项目", "", "- 完成综合验收，试验台通过性能测试", "- 进入设备安装调试阶段"]
    return "\n".join(parts) + "\n"


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    doc = src / "report.txt"
    doc.write_text(synthetic_text(), encoding="utf-8")
    (src / "report.txt.meta.json").write_text(json.dumps({"title": TITLE}, ensure_ascii=False), encoding="utf-8")
    (src / "collection.toml").write_text(f'title = "{TITLE}"\n[refusal]\nzh = "报告中没有找到相关信息。"\n', encoding="utf-8")
    return doc


@pytest.fixture
def typeset_pdf(source, tmp_path):
    return typeset(source, tmp_path / "out")


def test_parse_finds_headings_paragraphs_items_and_statistic_tables():
    blocks = parse(synthetic_text(sections=2))
    assert blocks[0] == Block("heading", "2.1 区域创新体系建设")
    assert blocks[1].kind == "para" and blocks[2] == Block("subheading", "第1号科技园区")
    table = next(b for b in blocks if b.kind == "table")
    assert table.rows == (
        ("项目", "数据"),
        ("多单位合作项目", "134个，占所有获奖项目70%"),
        ("企业牵头或参与项目", "111个，占比58%"),
    )
    caption = blocks[blocks.index(table) - 1]
    assert caption == Block("subheading", "在全部参评单位中")
    assert blocks[-2:] == [Block("item", "完成综合验收，试验台通过性能测试"), Block("item", "进入设备安装调试阶段")]
    assert not any(b.text == "多单位合作项目" for b in blocks)  # the labels went into the table


def test_parse_rules_are_about_the_text_not_one_document():
    # a single figure/label pair is not a table; a long line starting with a year is a paragraph
    single = parse("36家\n\n新型研发机构\n\n2024年度上海市科学技术奖获奖名单显示，由企业主导的产学研合作模式加快应用。\n")
    assert [b.kind for b in single] == ["para", "subheading", "para"]
    # markdown: headings, a pipe table, hard-wrapped CJK lines joined without spaces
    md = parse("# 总览\n\n| 指标 | 数值 |\n|---|---|\n| 机构 | 36家 |\n\n上海累计备案\n新型研发机构。\n")
    assert md == [
        Block("heading", "总览"),
        Block("table", rows=(("指标", "数值"), ("机构", "36家"))),
        Block("para", "上海累计备案新型研发机构。"),
    ]


def _words(page, top: float, bottom: float) -> str:
    return "".join(c["text"] for c in page.chars if top <= c["top"] < bottom)


def test_pdf_has_columns_header_page_numbers_and_a_table(typeset_pdf):
    with pdfplumber.open(typeset_pdf) as pdf:
        assert len(pdf.pages) >= 2
        assert pdf.metadata.get("Title") == TITLE
        for number, page in enumerate(pdf.pages, 1):
            assert _words(page, 0, 50) == TITLE  # the running header
            assert _words(page, page.height - 40, page.height).replace(" ", "") == f"—{number}—"
            body = [c for c in page.chars if 80 < c["top"] < page.height - 80]
            mid = page.width / 2
            assert sum(c["x1"] < mid for c in body) > 100 and sum(c["x0"] > mid for c in body) > 100  # two columns
        assert "**" not in "".join(p.extract_text() for p in pdf.pages)
        tables = [t.extract() for p in pdf.pages for t in p.find_tables()]
    assert len(tables) == 1
    assert tables[0][0] == ["项目", "数据"] and tables[0][2] == ["企业牵头或参与项目", "111个，占比58%"]


def test_a_paragraph_flows_across_a_column_break(source, tmp_path):
    source.write_text("长段落\n\n" + "".join(SECTION.format(n=n, m=n) for n in range(12)) + "\n", encoding="utf-8")
    with pdfplumber.open(typeset(source, tmp_path / "long")) as pdf:
        page = pdf.pages[0]
        right = [c for c in page.chars if c["x0"] > page.width / 2 and 80 < c["top"] < page.height - 80]
        assert len(right) > 200


def test_same_input_gives_byte_identical_pdf_and_sidecars(source, typeset_pdf, tmp_path):
    again = typeset(source, tmp_path / "again")
    assert again.read_bytes() == typeset_pdf.read_bytes()
    side = typeset_pdf.with_name("report.pdf.meta.json")
    assert json.loads(side.read_text(encoding="utf-8"))["title"] == TITLE
    assert (typeset_pdf.parent / "collection.toml").read_text(encoding="utf-8").startswith(f'title = "{TITLE}"')


def test_scan_has_no_text_layer_and_the_same_pages(source, tmp_path):
    pdf, scan = typeset_all([source.parent], tmp_path / "both", dpi=72)
    assert scan.name == "report-scan.pdf" and scan.with_name("report-scan.pdf.meta.json").is_file()
    with pdfplumber.open(pdf) as a, pdfplumber.open(scan) as b:
        assert len(b.pages) == len(a.pages)
        assert all(not p.chars and len(p.images) == 1 for p in b.pages)
        assert b.metadata.get("Title") == TITLE
    again = typeset_all([source], tmp_path / "again", dpi=72)
    assert again[1].read_bytes() == scan.read_bytes()  # seeded noise, fixed dates


def test_a_scan_whose_glyphs_were_not_drawn_is_an_error_not_a_blank_corpus(source, tmp_path, monkeypatch):
    """Without a CJK font pdfium draws the rules and page numbers but no glyph: the
    scan says to install a font instead of caching pages OCR reads nothing from."""
    import numpy as np
    from PIL import Image

    from docqa.eval import scan

    def rules_only(page, dpi, rng, angle, noise):
        grey = np.full((200, 150), 255, dtype=np.uint8)
        grey[100, :] = 0  # a table rule: more ink than the page is wide
        return Image.fromarray(grey, mode="L")

    monkeypatch.setattr(scan, "_page_image", rules_only)
    with pytest.raises(DocumentError, match="fonts-noto-cjk"):
        typeset_all([source], tmp_path / "fontless", dpi=72)


def test_renderings_are_cached_by_content(source, tmp_path):
    root = tmp_path / "eval-corpora"
    pdf_dir = corpus_rendering([source.parent], root, "pdf")
    assert sorted(p.name for p in pdf_dir.iterdir()) == ["collection.toml", "report.pdf", "report.pdf.meta.json"]
    stamp = (pdf_dir / "report.pdf").stat().st_mtime_ns
    assert corpus_rendering([source.parent], root, "pdf") == pdf_dir
    assert (pdf_dir / "report.pdf").stat().st_mtime_ns == stamp
    source.write_text(synthetic_text(sections=15), encoding="utf-8")
    assert corpus_rendering([source.parent], root, "pdf") != pdf_dir
    assert not [p for p in pdf_dir.parent.parent.rglob("*.tmp")]


def test_bad_sources_say_what_to_do(tmp_path):
    (tmp_path / "a.docx").write_bytes(b"x")
    with pytest.raises(DocumentError, match=r"only \.txt and \.md files can be typeset"):
        typeset(tmp_path / "a.docx", tmp_path / "out")
    with pytest.raises(DocumentError, match="no .txt or .md files in"):
        typeset_all([tmp_path], tmp_path / "out")


def test_cli_writes_the_files_and_errors_are_one_line(monkeypatch, capsys, source, tmp_path):
    from docqa.eval.typeset import main

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["typeset", *map(str, args)])
        with pytest.raises(SystemExit) as exit_:
            main()
            raise SystemExit(0)
        return exit_.value.code, *capsys.readouterr()

    code, out, _ = run(source, "--out", tmp_path / "cli", "--no-scan", "--columns", "3")
    assert code == 0 and out.startswith(f"wrote {tmp_path / 'cli' / 'report.pdf'} (") and "pages)" in out
    assert not (tmp_path / "cli" / "report-scan.pdf").exists()
    code, _, err = run(tmp_path / "missing.txt", "--out", tmp_path / "cli")
    assert code == 2 and err == f"typeset: error: {tmp_path / 'missing.txt'}: no such file or directory; check the path\n"


def test_eval_answers_from_the_typeset_pdf(settings, typeset_pdf, tmp_path, fake_embedder):
    from docqa.eval.questions import parse_question
    from docqa.eval.runner import Source, run_eval

    q = parse_question(
        {"id": "q1", "question": "第2号科技园区新建公共技术服务平台多少个？", "answers": ["2个"],
         "evidence": ["新建公共技术服务平台2个"], "answerable": True, "type": "numeric"}, "q.jsonl:1"
    )  # fmt: skip
    result = run_eval(settings, [q], [typeset_pdf], tmp_path / "eval", Source("q"), Source("pdf"),
                      embedder=fake_embedder, show_progress=False)  # fmt: skip
    corpus = result.summary["config"]["corpus"]
    assert corpus["documents"] == 1 and corpus["chunks"] > 5
    passages = result.predictions[0].answer["passages"]
    assert passages and all("**" not in p["text"] for p in passages)
