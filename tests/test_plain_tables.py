"""Tables typed into plain text (cells under | or tabs) read as named rows, like other documents' tables."""

from __future__ import annotations

from docqa.ingest.loaders import load_document
from docqa.ingest.plain_tables import render_plain_tables


def test_pipe_rows_become_rows_named_by_their_header():
    text = "第十一条 收费标准如下：\n区域 | 白天首小时 | 夜间\n一类区域 | 8元 | 每次10元\n二类区域 | 6元 | 每次6元\n以上标准自公布之日起执行。"
    assert render_plain_tables(text).split("\n") == [
        "第十一条 收费标准如下：",
        "区域：一类区域，白天首小时：8元，夜间：每次10元",
        "区域：二类区域，白天首小时：6元，夜间：每次6元",
        "以上标准自公布之日起执行。",
    ]


def test_markdown_style_rows_and_tabs_too():
    md = "| 证件类型 | 借期 |\n|---|:---:|\n| 普通证 | 30天 |\n| 学术证 | 60天 |"
    assert render_plain_tables(md) == "证件类型：普通证，借期：30天\n证件类型：学术证，借期：60天"
    tabs = "型号\t重量\nHC-100\t约1.35t\nHC-215\t约2.60t\n"
    assert render_plain_tables(tabs) == "型号：HC-100，重量：约1.35t\n型号：HC-215，重量：约2.60t\n"


def test_what_is_not_a_table_stays_as_written():
    cases = [
        "首页 | 关于我们\n本馆始建于1958年。",  # a lone row
        "区域 | 价格\n一类区域 | 8元 | 每次10元",  # another number of cells
        "甲 | 乙\n丙\t丁",  # another separator
        "\t缩进的一段话。\n\t又一段。",  # indentation, one cell each
    ]
    for text in cases:
        assert render_plain_tables(text) == text, text


def test_a_plain_text_documents_table_is_read_with_its_column_names(tmp_path):
    f = tmp_path / "spec.txt"
    f.write_text(
        "主要参数\n\n项目 | HC-ESS-100 | HC-ESS-215\n重量 | 约1.35t | 约2.60t\n防护等级 | IP54 | IP55\n", encoding="utf-8"
    )
    text = load_document(f).text
    assert "项目：重量，HC-ESS-100：约1.35t，HC-ESS-215：约2.60t" in text and "|" not in text
