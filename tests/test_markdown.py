"""Markdown, HTML and table rendering: what a reader sees is what is stored and quoted."""

from __future__ import annotations

import time

import pytest

from docqa.ingest.chunker import chunk_document
from docqa.ingest.loaders import load_document
from docqa.ingest.markdown import html_text, looks_like_header, render_markdown, repair_pipe_tables, table_lines


@pytest.mark.parametrize(
    "source, shown",
    [
        # headings stay markdown heading lines (structure.py reads them as sections)
        ("# 年度报告\n\n正文。", "# 年度报告\n\n正文。"),
        ("Annual report\n=============\n\nSection\n-------\n\ntext", "# Annual report\n\n## Section\n\ntext"),
        ("## 数据 **概况** ##", "## 数据 概况"),
        # paragraphs separated by one blank line
        ("第一段。\n\n\n\n第二段。", "第一段。\n\n第二段。"),
        # emphasis markers removed
        ("第二批**12**家，*斜体*与**粗体**。", "第二批12家，斜体与粗体。"),
        ("**Bold**, __bold__ and _italic_ words", "Bold, bold and italic words"),
        # inline code keeps its text
        ("运行 `docqa ingest` 命令", "运行 docqa ingest 命令"),
        # links keep their text, images their alt text
        ('详见[官网](https://example.cn "标题")。', "详见官网。"),
        ("See the [docs][1].\n\n[1]: https://example.com", "See the docs."),
        ("地址 <https://example.cn>", "地址 https://example.cn"),
        ("如图![示意图](a.png)所示", "如图示意图所示"),
        ("前![](a.png)后", "前后"),
        # inline HTML: tags dropped, their text kept, <br> a line break, scripts gone
        ('<span style="color:red">数据</span>截至<br>年底', "数据截至\n年底"),
        ("a <b>bold</b> <!-- note --> word", "a bold word"),
        ("前 <script>alert(1)</script>后", "前 后"),
        # HTML blocks: their visible text, one line per block
        ("<div><script>var a=1;</script><style>p{}</style><p>块内<b>文字</b></p><p>第二段</p></div>", "块内文字\n第二段"),
        ("<!-- 只是注释 -->\n\n正文", "正文"),
        # entities decoded, escapes resolved
        ("A &amp; B &lt;C&gt; &copy; \\*not emphasis\\*", "A & B <C> © *not emphasis*"),
        # fenced and indented code kept as text lines
        ("```python\ndef f():\n    return 1\n```", "def f():\n    return 1"),
        # lists as "- item" / "1. item" lines
        ("- 项目一\n- 项目*二*\n  - 嵌套\n\n3. 第三\n4. 第四", "- 项目一\n- 项目二\n- 嵌套\n\n3. 第三\n4. 第四"),
        ("1) one\n2) two", "1. one\n2. two"),
        # block quotes: their text
        ("> 引用**文字**", "引用文字"),
        # a soft line break: nothing between CJK characters, a space otherwise; a hard one kept
        ("中文第一行\n中文第二行\nand English\nwords", "中文第一行中文第二行 and English words"),
        ("line one  \nline two", "line one\nline two"),
        # front matter dropped; a leading thematic break is not front matter
        ("---\ntitle: 报告\ntags: [a, b]\n---\n# 标题\n\n正文", "# 标题\n\n正文"),
        ("+++\ntitle = 'x'\n+++\ntext", "text"),
        ("---\n\n正文", "正文"),
        # tables: one line per data row, each value named by its column, empty cells skipped
        (
            "| 机构 | 数量 | 备注 |\n|---|---:|---|\n| 研究所 | 36家 | |\n| 中心 | 12个 | 新 |",
            "机构：研究所，数量：36家\n机构：中心，数量：12个，备注：新",
        ),
        ("| Name | Score |\n|:--|--:|\n| Alice | 90 |\n| **Bob** | [85](x) |", "Name：Alice，Score：90\nName：Bob，Score：85"),
        ("<table><tr><th>地区</th><th>企业数</th></tr><tr><td>浦东</td><td>120</td></tr></table>", "地区：浦东，企业数：120"),
    ],
)
def test_render_markdown(source, shown):
    assert render_markdown(source) == shown


def test_rendered_text_has_no_markup():
    source = (
        "# 报告\n\n第二批**12**家[联合体](http://x)<span>成立</span>。![图](a.png)\n\n"
        "<div><p>块</p></div>\n\n| 列 | 值 |\n|---|---|\n| a | 1 |\n"
    )
    shown = render_markdown(source)
    for markup in ("<", ">", "](", "**", "|", "http"):
        assert markup not in shown


def test_table_header_is_guessed_from_the_rows():
    assert looks_like_header(["地区", "企业数"]) and looks_like_header(["Name", "Score", "2023"])
    assert not looks_like_header(["2022年", "36"]) and not looks_like_header(["12.5%", "1,234", "x"])
    # a textual first row is the header when rows follow it
    assert table_lines([["地区", "企业数"], ["浦东", "120"], ["徐汇", ""]]) == ["地区：浦东，企业数：120", "地区：徐汇"]
    # figures in the first row: no header, the cells are joined
    assert table_lines([["2022", "36"], ["2023", "40"]]) == ["2022，36", "2023，40"]
    # one row: no header either
    assert table_lines([["指标", "134个"]]) == ["指标，134个"]
    # a merged caption row above the header is a line of its own; a merged value is passed once
    assert table_lines([["表1 各区企业", "", ""], ["地区", "企业数", "备注"], ["浦东", "未统计", ""]]) == [
        "表1 各区企业",
        "地区：浦东，企业数：未统计",
    ]
    # a given header is used as is; a column without a name gives the value alone
    assert table_lines([["1", "2", "3"]], ["A", "", "C"]) == ["A：1，2，C：3"]


def test_headerless_pipe_rows_become_a_table():
    # trafilatura writes an HTML table without <th> as pipe rows with no delimiter row
    md = "前文。\n\n| 地区 | 企业数 | \n| 浦东 \\| 新区 | 120 | \n\n后文。"
    assert render_markdown(repair_pipe_tables(md)) == "前文。\n\n地区：浦东 | 新区，企业数：120\n\n后文。"
    # … and a caption row above the header as a second header row
    md = "| 表1 |  |  | \n|---|---|---|\n| A | B | C | \n|---|---|---|\n| 1 | 2 |  | \n| x |  |  | "
    assert render_markdown(repair_pipe_tables(md)) == "表1\n\nA：1，B：2\nA：x"
    # rows inside a code fence are code
    fenced = "```\n| a | b |\n```"
    assert repair_pipe_tables(fenced) == fenced


def test_html_text_of_tables_and_blocks():
    html = "<p>一</p><table><tr><td>Name</td><td>Score</td></tr><tr><td>Alice</td><td>90</td></tr></table>尾<br>行"
    assert html_text(html) == "一\nName：Alice，Score：90\n尾\n行"
    assert html_text("<noscript>开启脚本</noscript><template>x</template>") == ""
    assert html_text("") == "" and html_text("<!-- c -->") == ""


@pytest.mark.parametrize(
    "source",
    [
        "> " * 20000 + "深",
        "- " * 20000 + "深",
        "".join("  " * i + "- a\n" for i in range(500)),
        "[" * 20000 + "x" + "](y)" * 20000,
        "*a_" * 20000,
        "<span>" * 20000 + "x",
        "<div>" * 20000 + "x" + "</div>" * 20000,
        "<table>" * 2000 + "<tr><td>x</td></tr>" + "</table>" * 2000,
        "<script>" + "x" * 100000,
        "|" + "a|" * 2000 + "\n|" + "-|" * 2000 + "\n" + ("|" + "1|" * 2000 + "\n") * 5,
        "| a | b |\n|---|---|\n" + "| x | 1 |\n" * 5000,
    ],
    ids=["quotes", "lists", "indented-lists", "links", "emphasis", "spans", "divs", "tables", "script", "wide", "long"],
)
def test_hostile_markdown_is_rendered_quickly(source):
    start = time.perf_counter()
    shown = render_markdown(repair_pipe_tables(source))
    assert time.perf_counter() - start < 10
    assert "<script" not in shown and "<div" not in shown


def test_markdown_file_is_stored_as_read(tmp_path):
    f = tmp_path / "r.md"
    f.write_text(
        "---\ntitle: 内部\n---\n"
        "# 年度报告\n\n"
        "## 1 研发机构\n\n"
        "累计备案**36**家，详见[名单](https://example.cn/list)。<br>\n"
        '其中<span style="color:red">新增12家</span>。\n\n'
        "| 机构 | 数量 |\n|---|---|\n| 研究所 | 36家 |\n| 中心 | 12个 |\n\n"
        "## 2 Method\n\n"
        "We **sampled** [the data](x.html).\n",
        encoding="utf-8",
    )
    doc = load_document(f)
    assert doc.kind == "md" and doc.title == "年度报告"
    for markup in ("<", "](", "**", "---", "title:"):
        assert markup not in doc.text
    assert "累计备案36家，详见名单。\n其中新增12家。" in doc.text
    assert "机构：研究所，数量：36家\n机构：中心，数量：12个" in doc.text
    chunks = chunk_document(doc, 300, 1)
    sections = {u.text: c.section for c in chunks for u in c.units}
    assert sections["其中新增12家。"] == "年度报告 > 1 研发机构"
    # a table row is one sentence (its clauses share it), under the section of the table
    row = doc.text.index("机构：研究所")
    assert [(u.text, c.section) for c in chunks for u in c.units if u.sentence == row] == [
        ("机构：", "年度报告 > 1 研发机构"),
        ("研究所，", "年度报告 > 1 研发机构"),
        ("数量：", "年度报告 > 1 研发机构"),
        ("36家", "年度报告 > 1 研发机构"),
    ]
    assert sections["We sampled the data."] == "年度报告 > 2 Method"
    for c in chunks:  # offsets point into the stored text
        assert c.text == doc.text[c.start : c.end]
        for u in c.units:
            assert doc.text[u.start : u.end] == u.text


def test_docx_table_rows_are_named_by_the_header(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("企业分布", level=1)
    t = d.add_table(rows=4, cols=3)
    t.cell(0, 0).merge(t.cell(0, 2)).text = "表1 各区企业"
    for row, values in zip(t.rows[1:], [["地区", "企业数", "占比"], ["浦东", "120", "0"], ["徐汇", "未统计", ""]]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    t.cell(3, 1).merge(t.cell(3, 2))
    numbers = d.add_table(rows=2, cols=2)
    for row, values in zip(numbers.rows, [["2022", "36"], ["2023", "40"]]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    f = tmp_path / "t.docx"
    d.save(str(f))
    doc = load_document(f)
    assert doc.text == (
        "# 企业分布\n\n表1 各区企业\n地区：浦东，企业数：120，占比：0\n地区：徐汇，企业数：未统计\n\n2022，36\n2023，40"
    )
    row = doc.text.index("地区：浦东")
    units = [(u.text, c.section) for c in chunk_document(doc, 300, 1) for u in c.units if u.sentence == row]
    assert "".join(text for text, _ in units) == "地区：浦东，企业数：120，占比：0"
    assert {section for _, section in units} == {"企业分布"}


def test_html_tables_become_named_rows(tmp_path):
    f = tmp_path / "t.html"
    f.write_text(
        "<html><head><title>页面</title></head><body><main><h1>上海科技</h1>"
        "<p>第一段文字比较长一些，用于测试正文提取。这里有一些内容，<a href='/x'>链接文字</a>在这里。</p>"
        "<table><thead><tr><th>机构</th><th>数量</th></tr></thead>"
        "<tbody><tr><td>研究所</td><td>36家</td></tr><tr><td>中心</td><td><b>12</b>个</td></tr></tbody></table>"
        "<p>另一段文字，说明表格的内容和来源，长度足够用于提取。</p>"
        "<table><tr><td>Region</td><td>Firms</td></tr><tr><td>Pudong</td><td>120</td></tr></table>"
        "<p>最后一段文字，说明第二个表格，长度也足够用于提取。</p>"
        "</main></body></html>",
        encoding="utf-8",
    )
    doc = load_document(f)
    assert "机构：研究所，数量：36家\n机构：中心，数量：12个" in doc.text
    assert "Region：Pudong，Firms：120" in doc.text
    assert "这里有一些内容，链接文字在这里。" in doc.text
    for markup in ("|", "---", "**", "<", "]("):
        assert markup not in doc.text


def test_txt_is_not_rendered(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("累计**36**家，见[名单](x)与<b>附表</b>。\n- 不是列表", encoding="utf-8")
    assert load_document(f).text == "累计36家，见[名单](x)与<b>附表</b>。\n- 不是列表"
