"""Cleaning, structure, layout repair and chunking (no model)."""

from __future__ import annotations

from docqa.ingest.chunker import chunk_document
from docqa.ingest.clean import clean
from docqa.ingest.sentences import split_clauses, split_units
from docqa.ingest.structure import parse_blocks
from docqa.records import Document
from tests.conftest import REPORT


def _doc(text: str, kind: str = "txt", title: str = "T") -> Document:
    c = clean(text)
    return Document("d", "/d", title, c.text, "sha", kind, raw_offsets=c.runs)


def test_clean_removes_emphasis_and_keeps_raw_offsets():
    raw = "第二批**12**家\r\n\r\n\r\n\r\n　　累计**36**家。\u200b"
    c = clean(raw)
    assert c.text == "第二批12家\n\n累计36家。"
    for i, ch in enumerate(c.text):
        assert raw[c.raw_offset(i)] == ch


def test_clean_keeps_lone_asterisks_and_empty_text():
    assert clean("3*4 = 12").text == "3*4 = 12"
    assert clean("\n \n\t\n").text == ""


def test_sentences_split_on_chinese_punctuation_with_offsets():
    doc = "围绕气象领域；开发“伏羲”等大模型。第二句！\n标题行"
    units = split_units(doc, 0, len(doc))
    assert [u.text for u in units] == ["围绕气象领域；", "开发“伏羲”等大模型。", "第二句！", "标题行"]
    for u in units:
        assert doc[u.start : u.end] == u.text


def test_units_are_clauses_that_know_their_sentence():
    doc = "上链企业超80万家，应用场景163个。第二句话。"
    units = split_units(doc, 0, len(doc))
    assert [u.text for u in units] == ["上链企业超80万家，", "应用场景163个。", "第二句话。"]
    assert units[0].sentence == units[1].sentence == 0 and units[2].sentence == doc.index("第二")


def test_a_latin_full_stop_ends_a_sentence_only_where_one_ends():
    def sentences(doc: str) -> list[str]:
        units = split_units(doc, 0, len(doc))
        return [doc[s : max(u.end for u in units if u.sentence == s)] for s in dict.fromkeys(u.sentence for u in units)]

    # an initial, an abbreviation, a list number or letter at a line's start: no sentence ends
    assert sentences("她以笔名S.G. Tallentyre出版了该书。") == ["她以笔名S.G. Tallentyre出版了该书。"]
    assert sentences("由Dr. Smith主持，e.g. 项目A。") == ["由Dr. Smith主持，e.g. 项目A。"]
    assert sentences("1. 打开官网，点击注册；\n12. 设置密码；\na. 填写名称") == [
        "1. 打开官网，点击注册；",
        "12. 设置密码；",
        "a. 填写名称",
    ]
    # a word's full stop and a number's within a line still end one
    assert sentences("He left. 他离开了。") == ["He left.", "他离开了。"]
    assert sentences("总量达到12. 第二句") == ["总量达到12.", "第二句"]


def test_clauses_do_not_split_enumerations():
    doc = "与华为、腾讯等合作，以视觉为中心"
    spans = split_clauses(doc, 0, len(doc))
    assert [doc[s:e] for s, e in spans] == ["与华为、腾讯等合作，", "以视觉为中心"]


def test_report_sections_and_layout_repair():
    doc = _doc(REPORT.read_text(encoding="utf-8"))
    blocks = parse_blocks(doc.text, "txt")
    by_text = {u.text: b.path for b in blocks for u in b.units}
    # the figure line joined with its label and the lead-in, in reading order
    stat = "在所有686家完成单位中，多单位合作项目134个，占所有获奖项目70%"
    assert by_text[stat] == ["企业科技创新主体作用不断彰显"]
    assert "企业牵头或参与项目111个，占比58%" in by_text
    # institution headings nest under their group, numbered headings are siblings
    assert by_text["首次观测到太阳硼-8中微子信号迹象"] == [
        "1.5 新型研发机构高质量发展",
        "高水平创新成果不断涌现",
        "李政道研究所",
    ]
    assert by_text["直线加速器整体工艺实现全流程验证"] == [
        "1.6 世界级重大科技基础设施集群建设不断提速",
        "在建中",
        "硬X射线自由电子激光装置",
    ]


def test_layout_repair_is_general():
    text = "在全部52家医院中\n\n30家，占比58%\n\n三级医院\n\n22家\n\n二级医院\n\n其他内容在这里结束。"
    doc = _doc(text)
    units = [u for b in parse_blocks(doc.text, "txt") for u in b.units]
    assert units[0].text == "在全部52家医院中，三级医院30家，占比58%"
    assert units[1].text == "二级医院22家"
    assert doc.text[units[0].start : units[0].end] == "在全部52家医院中\n\n30家，占比58%\n\n三级医院"


def test_chunks_carry_offsets_sections_and_stable_ids():
    doc = _doc(REPORT.read_text(encoding="utf-8"), title="报告")
    chunks = chunk_document(doc, 320, 1)
    again = chunk_document(doc, 320, 1)
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.units[-1].end == c.end
        if c.units[0].start != c.start:  # a section's first chunk begins at its heading lines
            assert c.heading_span and c.start <= c.heading_span[0] < c.heading_span[1] <= c.units[0].start
        assert c.heading.startswith("报告")
    lee = next(c for c in chunks if "蜘蛛系统" in c.text)
    assert lee.section == "1.5 新型研发机构高质量发展 > 高水平创新成果不断涌现 > 李政道研究所"
    assert "李政道研究所" in lee.embed_text()
    assert lee.text.startswith("李政道研究所\n")  # the reader sees whose work it is
    built = next(c for c in chunks if "完成建安综合验收" in c.text)
    assert built.text.startswith("在建中\n\n高效低碳燃气轮机试验装置\n")  # the whole run of headings


def test_only_a_sections_first_chunk_takes_its_heading():
    text = "# 总览\n\n" + "".join(f"这是第{i}个句子，内容比较长一些用来测试。" for i in range(12))
    chunks = chunk_document(_doc(text, kind="md"), 100, 0)
    assert len(chunks) > 2
    assert chunks[0].text.startswith("# 总览\n\n这是第0个句子")
    assert all(c.text.startswith("这是第") for c in chunks[1:])


def test_chunk_size_and_overlap():
    text = "".join(f"这是第{i}个句子，内容比较长一些用来测试。" for i in range(30))
    doc = _doc(text)
    chunks = chunk_document(doc, 100, 1)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        assert a.sentences()[-1] == b.sentences()[0]  # one sentence of overlap
        assert len(a.text) <= 100 + 30
    no_overlap = chunk_document(doc, 100, 0)
    assert all(a.end <= b.start for a, b in zip(no_overlap, no_overlap[1:]))


def test_markdown_headings():
    doc = _doc("# 总览\n\n## 1 数据\n\n共有36家。\n\n## 2 方法\n\n采用抽样。", kind="md")
    chunks = chunk_document(doc, 300, 1)
    assert [(c.section, c.text) for c in chunks] == [
        ("总览 > 1 数据", "# 总览\n\n## 1 数据\n\n共有36家。"),
        ("总览 > 2 方法", "## 2 方法\n\n采用抽样。"),
    ]
    assert [u.text for c in chunks for u in c.units] == ["共有36家。", "采用抽样。"]  # headings are not quotable units


def test_a_pdf_run_of_same_level_headings_nests_like_unnumbered_ones():
    """A PDF's "#" levels rank font sizes: a group title and the institutions under it
    share one; a markdown file's levels are its author's outline and stay as written."""
    text = (
        "## 1.5 新型研发机构\n\n总述内容在这里。\n\n### 高水平创新成果不断涌现\n\n### 上海科学智能研究院\n\n甲内容。\n\n"
        "### 李政道研究所\n\n乙内容。\n\n### 产业支撑能力持续增强\n\n### 上海期智研究院\n\n丙内容。\n\n## 1.6 设施\n\n### 在建中\n\n丁内容。"
    )
    doc = _doc(text)

    def paths(**kw):
        return {doc.text[b.units[0].start : b.units[0].end]: b.path for b in parse_blocks(doc.text, "md", **kw)}

    pdf = paths(nest_same_level=True)
    assert pdf["总述内容在这里。"] == ["1.5 新型研发机构"]
    assert pdf["甲内容。"] == ["1.5 新型研发机构", "高水平创新成果不断涌现", "上海科学智能研究院"]
    assert pdf["乙内容。"] == ["1.5 新型研发机构", "高水平创新成果不断涌现", "李政道研究所"]
    assert pdf["丙内容。"] == ["1.5 新型研发机构", "产业支撑能力持续增强", "上海期智研究院"]
    assert pdf["丁内容。"] == ["1.6 设施", "在建中"]
    markdown = paths()
    assert markdown["甲内容。"] == ["1.5 新型研发机构", "上海科学智能研究院"]
    assert markdown["丙内容。"] == ["1.5 新型研发机构", "上海期智研究院"]


def test_table_rows_are_never_guessed_headings():
    """Rows written as 名称：值，名称：值 (an OCR'd or typeset table) are short and end without
    punctuation, but they are a table's data: units of the section above, not its headings."""
    from docqa.ingest.markdown import is_row_line

    assert is_row_line("项目：多单位合作项目，数据：134个，占所有获奖项目70%")
    assert not is_row_line("专栏：上海科技创新") and not is_row_line("坚持创新驱动，推动高质量发展")
    text = (
        "企业科技创新主体作用不断彰显\n\n获奖名单显示，创新成果不断涌现。\n\n在所有686家完成单位中\n\n"
        "项目：多单位合作项目，数据：134个\n\n项目：企业牵头或参与项目，数据：111个\n\n1.5 新型研发机构\n\n围绕基础学科开展布局。"
    )
    doc = _doc(text)
    blocks = {doc.text[b.units[0].start : b.units[-1].end]: b.path for b in parse_blocks(doc.text, "pdf")}
    assert blocks["项目：多单位合作项目，数据：134个"] == ["在所有686家完成单位中"]
    assert blocks["项目：企业牵头或参与项目，数据：111个"] == ["在所有686家完成单位中"]
    assert blocks["围绕基础学科开展布局。"] == ["1.5 新型研发机构"]


def test_a_value_under_a_short_label_is_a_fact_not_a_heading():
    """A specification's or a notice's fields (产品型号：CJ-T8P) are short and unpunctuated,
    but each is a fact of the section above it, and answers questions as a sentence does;
    an attachment's title (附件二：…) still heads what follows it."""
    text = (
        "第二章 规格参数\n产品型号：CJ-T8P\n电池类型及容量：锂离子电池，5200mAh\n充电时间：约4.5小时\n"
        "集尘袋容量：3升，约可存储45天的灰尘。\n\n附件二：服务网点\n\n城站服务点位于城站站B出口。"
    )
    doc = _doc(text)
    blocks = parse_blocks(doc.text, "txt")
    paths = {doc.text[u.start : u.end]: b.path for b in blocks for u in b.units}
    assert paths["5200mAh"] == paths["CJ-T8P"] == paths["约4.5小时"] == ["第二章 规格参数"]
    assert paths["城站服务点位于城站站B出口。"] == ["第二章 规格参数", "附件二：服务网点"]


def test_a_price_list_whose_labels_start_with_a_model_code_is_facts_not_headings():
    """「EB-30座垫：89元」 is a price of the list above it, not a heading over the next line."""
    doc = _doc("第七章 常用配件价格\n\nEB-30标准充电器：159元\nEB-30座垫：89元\nLX-5电池（以旧换新）：1899元\n")
    paths = {doc.text[u.start : u.end]: b.path for b in parse_blocks(doc.text, "txt") for u in b.units}
    assert paths["89元"] == paths["159元"] == paths["1899元"] == ["第七章 常用配件价格"]
