"""Numbers as values, for the guard's "no invented figure" check."""

from __future__ import annotations

import pytest

from docqa.llm.numbers import claims, cn_value, unsupported, values


@pytest.mark.parametrize(
    "text, value",
    [("三", 3), ("十二", 12), ("两百零五", 205), ("一万二千", 12000), ("三千五百万", 35_000_000),
     ("一亿五千万", 150_000_000), ("二〇二四", 2024), ("十", 10)],
)  # fmt: skip
def test_chinese_numerals(text, value):
    assert cn_value(text) == value


def test_claims_normalise_forms():
    got = {c.surface: c.value for c in claims("接入１４７家，超80万家，交易额12万亿元，占比30.5%，共1,234项，第二批，三家")}
    assert got == {"147": 147, "80万": 800_000, "12万亿": 12e12, "30.5": 30.5, "1,234": 1234, "第二": 2, "三": 3}


def test_articles_and_words_are_not_claims():
    assert claims("一批企业，两者都是长三角的一个项目，十四五规划") == []


def test_the_same_number_in_another_form_is_supported():
    source = "累计接入链主企业147家，上链企业超80万家，链上交易总金额突破12万亿元。第二批十二家联合体。"
    assert unsupported("上链企业超800,000家，第2批12家，１４７家", [source]) == []
    assert [c.surface for c in unsupported("上链企业超80亿家，交易额13万亿元", [source])] == ["80亿", "13万亿"]


def test_values_keep_the_multiplier():
    assert 12000.0 in values("1.2万") and 1.2 not in values("1.2万")
