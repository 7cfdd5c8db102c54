"""docqa.text, and sentence splitting as each caller sees it: ingest (units
and clauses), the LLM guard (a reply's sentences), the number audit and the
CMRC evidence window.  The callers' outputs are pinned: one splitter serves
all four, each with its own rules."""

from __future__ import annotations

import re

import pytest

from docqa.eval.cmrc import evidence_for
from docqa.ingest.sentences import split_clauses, split_units
from docqa.llm.audit import unsupported_numbers
from docqa.llm.guard import split_sentences
from docqa.text import HAN_CHAR, normalize, sentence_spans

LONG = "甲，乙，丙：丁,戊:己。" + "长" * 170 + "，" + "短句" * 10 + "。"
BARE = "无标点" * 150

INGEST = [
    ("第一句。第二句！第三句？最后没有句号", [(0, 4, 0), (4, 8, 4), (8, 12, 8), (12, 18, 12)]),
    (
        "他说：“今天下雨。”然后走了。（见附件。）继续；再来;end",
        [(0, 3, 0), (3, 15, 0), (15, 24, 15), (24, 27, 24), (27, 30, 27)],
    ),
    ("省略号……后面还有…以及。结尾", [(0, 5, 0), (5, 10, 5), (10, 13, 10), (13, 15, 13)]),
    ("Version 3.14 is out. Next sentence! And e.g. this.", [(0, 20, 0), (21, 35, 21), (36, 50, 36)]),
    ("好！！真的？！\n\n第二段\n第三行", [(0, 2, 0), (2, 3, 2), (3, 6, 3), (6, 7, 6), (9, 12, 9), (13, 16, 13)]),
    ("《书名。》与【注释。】以及[方括号。]和（未闭合。\n新行。", [(0, 19, 0), (19, 25, 19), (26, 29, 26)]),
    ("  前导空白。  \n  尾随空白  ", [(2, 7, 2), (12, 16, 12)]),
    (
        LONG,
        [(0, 2, 0), (2, 4, 0), (4, 6, 0), (6, 8, 0), (8, 10, 0), (10, 12, 0), (12, 172, 12), (172, 183, 12), (183, 204, 12)],
    ),
    (BARE, [(0, 160, 0), (160, 320, 0), (320, 400, 0), (400, 450, 400)]),
    ("“引号里，逗号，不断开。”外面，断开。", [(0, 16, 0), (16, 19, 0)]),
    ("", []),
    ("\n\n", []),
]


@pytest.mark.parametrize("doc,expected", INGEST)
def test_ingest_units(doc, expected):
    units = split_units(doc, 0, len(doc))
    assert [(u.start, u.end, u.sentence) for u in units] == expected
    assert all(u.text == doc[u.start : u.end] for u in units)


@pytest.mark.parametrize(
    "doc,expected",
    [
        ("好！！真的？！\n\n第二段\n第三行", [(0, 2), (2, 3), (3, 6), (6, 7), (9, 16)]),
        ("《书名。》与【注释。】以及[方括号。]和（未闭合。\n新行。", [(0, 19), (19, 29)]),
        ("  前导空白。  \n  尾随空白  ", [(2, 7), (12, 16)]),
    ],
)
def test_ingest_units_without_hard_line_breaks(doc, expected):
    assert [(u.start, u.end) for u in split_units(doc, 0, len(doc), hard_newlines=False)] == expected


@pytest.mark.parametrize(
    "doc,expected",
    [
        ("第一句。第二句！第三句？最后没有句号", [(2, 4), (4, 8), (8, 12), (12, 15)]),
        ("他说：“今天下雨。”然后走了。（见附件。）继续；再来;end", [(2, 3), (3, 15), (15, 24), (24, 27)]),
        ("Version 3.14 is out. Next sentence! And e.g. this.", [(2, 20), (21, 35), (36, 47)]),
        ("《书名。》与【注释。】以及[方括号。]和（未闭合。\n新行。", [(2, 5), (5, 19), (19, 25)]),
        ("“引号里，逗号，不断开。”外面，断开。", [(2, 5), (5, 8), (8, 13), (13, 16)]),
    ],
)
def test_ingest_units_of_a_stretch(doc, expected):
    """Inside doc[2:-3] a bracket opened before the stretch is not seen."""
    assert [(u.start, u.end) for u in split_units(doc, 2, len(doc) - 3)] == expected


@pytest.mark.parametrize(
    "doc,expected",
    [
        ("他说：“今天下雨。”然后走了。（见附件。）继续；再来;end", [(0, 3), (3, 30)]),
        ("  前导空白。  \n  尾随空白  ", [(2, 16)]),
        (LONG, [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 183), (183, 204)]),
        ("“引号里，逗号，不断开。”外面，断开。", [(0, 16), (16, 19)]),
        ("每日7:00开始，10：30前完成，共1,000元，比例2:1。", [(0, 9), (9, 18), (18, 26), (26, 32)]),  # numbers stay whole
        ("", []),
    ],
)
def test_ingest_clauses(doc, expected):
    assert split_clauses(doc, 0, len(doc)) == expected


@pytest.mark.parametrize(
    "reply,expected",
    [
        ("第一句[1]。第二句[2]！\n\n- 要点一[3]\n- 要点二 [4]\n",
         [("第一句[1]。", False), ("第二句[2]！", True), ("要点一[3]", True), ("要点二 [4]", True)]),
        ("**加粗**句子。“引用。”[1] 之后\n1. 编号项[2]；2) 另一项",
         [("加粗句子。", False), ("“引用。”[1]", False), ("之后", True), ("编号项[2]；", False), ("2) 另一项", False)]),
        ("Pi is 3.14 in value. See passage [2]. Done!?",
         [("Pi is 3.14 in value.", False), ("See passage [2].", False), ("Done!?", False)]),
        ("多个标点！！？？后面[1][2]。\n\n\n结尾无标点", [("多个标点！！？？", False), ("后面[1][2]。", True), ("结尾无标点", False)]),
        ("  。 [1]\n”尾随", [("。 [1]", False), ("”", True), ("尾随", False)]),
        ("资料【1】说明。来源[1-3]。passage [2, 3].", [("资料【1】说明。", False), ("来源[1-3]。", False), ("passage [2, 3].", False)]),
        ("", []),
    ],
)  # fmt: skip
def test_guard_sentences(reply, expected):
    assert split_sentences(reply) == expected


@pytest.mark.parametrize(
    "answer,expected",
    [
        (
            "今年增加12家。去年8家！\n没有句号的行3\n最后一行4",
            [("12", "今年增加12家。"), ("8", "去年8家！"), ("4", "最后一行4")],
        ),
        ("A 1。[1]。[2] B 2\n", [("1", "A 1。[1]"), ("2", "[2] B 2")]),
        ("引号。”5后面\n\n6\n", [("6", "6")]),
        ("。。开头7；结尾8;", [("7", "开头7；"), ("8", "结尾8;")]),
        ("多行9\n\n", []),
        ("数值10。\n[1]下一行11", [("10", "数值10。\n[1]"), ("11", "下一行11")]),
        ("括号（12）。'13'。\"14\"", [("12", "括号（12）。'"), ("13", "13'。\""), ("14", '14"')]),
    ],
)
def test_audit_sentences(answer, expected):
    """Every number is unsupported (nothing is cited), so each sentence that holds one is listed."""
    assert unsupported_numbers({"answer": answer, "citations": [], "passages": []}) == expected


@pytest.mark.parametrize(
    "context,answer,start,expected",
    [
        ("第一句话。这里是答案所在的句子，后面还有很多很多很多字。第三句。", "答案", 8, "这里是答案所在的句子，后面还有很多很多很多字。"),
        ("短。答案。后", "答案", 2, "答案。"),
        ("没有任何句末标点但是非常非常非常非常非常非常非常长的答案前文以及答案然后后文也很长很长很长很长很长很长很长", "答案", 26,
         "标点但是非常非常非常非常非常非常非常长的答案前文以及答案然后后文也很长很长很长很长很"),
        ("换行\n答案在这\n下一行", "答案", 3, "答案在这"),
        ("找不到", "答案", 0, "答案"),
        ("答案在开头。后面", "答案", 0, "答案在开头。"),
        ("前面！答案；后面", "答案", 99, "答案；"),
        ("a。答案。", "答案。", 2, "答案。"),
    ],
)  # fmt: skip
def test_cmrc_evidence(context, answer, start, expected):
    assert evidence_for(context, answer, start) == expected


# -- the shared utilities themselves -------------------------------------------


def test_sentence_spans_cover_the_text_and_keep_the_rest():
    assert sentence_spans("甲。乙！\n丙") == [(0, 2), (2, 4), (4, 5), (5, 6)]
    assert sentence_spans("甲。乙。丙", start=2, end=4) == [(2, 4)]


def test_sentence_spans_nested_ends_do_not_count():
    ends = re.compile("。")
    assert sentence_spans("（甲。）乙。", ends) == [(0, 3), (3, 6)]
    assert sentence_spans("（甲。）乙。", ends, nested=True) == [(0, 6)]
    assert sentence_spans("（甲\n乙。丙", ends, nested=True) == [(0, 5), (5, 6)]  # a stray bracket ends with its line


def test_sentence_spans_skipped_characters_start_no_sentence():
    assert sentence_spans("。。甲。\n乙", skip="。\n") == [(2, 4), (5, 6)]


def test_normalize_and_han():
    assert normalize("Ａ **Ｂ**\u3000c__") == "abc"
    assert all(HAN_CHAR.match(c) for c in "一鿿㐀豈")
    assert not any(HAN_CHAR.match(c) for c in "。Aａ1")
