"""A courtesy or filler a question starts with asks nothing: the analysis
reads the question from where it starts asking."""

from __future__ import annotations

import pytest

from docqa.question import without_preamble


@pytest.mark.parametrize(
    "question,asked",
    [
        ("请问，宝山区发布的是什么文件？", "宝山区发布的是什么文件？"),
        ("我想问一下上海有几家新型研发机构？", "上海有几家新型研发机构？"),
        ("嗯嗯，好的，请问一下上海有几家？", "上海有几家？"),
        ("好的，宝山区呢？", "宝山区呢？"),
        ("不对，我是问普通客服热线几点到几点", "普通客服热线几点到几点"),  # a correction
        ("不对，我想问的是上链企业有多少家？", "上链企业有多少家？"),
    ],
)
def test_the_preamble_goes(question, asked):
    assert without_preamble(question) == asked


@pytest.mark.parametrize(
    "question",
    [
        "宝山区发布的是什么文件？",
        "那宝山区发布的是什么文件？",  # 那 stays (see docqa/question/preamble.py)
        "好的方案有哪些？",
        "对了解决方案有哪些？",
        "请问？",  # nothing would be left
        "不是本市户籍的可以申请吗？",
    ],
)
def test_a_question_without_one_is_left_as_it_is(question):
    assert without_preamble(question) == question
