"""A question comparing things it names is answered only with each one's fact."""

from __future__ import annotations

import pytest

from docqa.answer.base import Delta, Final
from docqa.conversation import Turn
from docqa.conversation.entities import EntityFinder
from docqa.conversation.extractive import ExtractiveRewriter
from docqa.index.tokenize import Segmenter
from docqa.question.comparison import comparison
from docqa.records import Citation
from tests.fakes import fake_engine


def test_a_comparison_names_its_things_and_asks_about_each():
    c = comparison("宝山区和静安区，哪个区组建的创新联合体更多？")
    assert c is not None and c.items == ("宝山区", "静安区")
    assert c.parts == ("宝山区组建的创新联合体是多少？", "静安区组建的创新联合体是多少？")  # 哪个区: the 区 they share
    c = comparison("请问A公司与B公司哪家成立得更早？")
    assert c is not None and c.parts == ("A公司成立是什么时候？", "B公司成立是什么时候？")
    c = comparison("宝山区、静安区和徐汇区中哪个区的链主企业最多？")
    assert c is not None and c.items == ("宝山区", "静安区", "徐汇区")  # a superlative among things named
    assert c.parts[2] == "徐汇区的链主企业是多少？"
    c = comparison("和平区和河西区哪个人口更多？")
    assert c is not None and c.items == ("和平区", "河西区")  # a join word starting the question is part of a name


@pytest.mark.parametrize(
    ("question", "items", "first"),
    [
        ("宝山区组建的创新联合体比静安区多吗？", ("宝山区", "静安区"), "宝山区组建的创新联合体是多少？"),
        ("宝山区比静安区组建的创新联合体多吗？", ("宝山区", "静安区"), "宝山区组建的创新联合体是多少？"),
        ("QH-R800比QH-R500净水流量大吗？", ("QH-R800", "QH-R500"), "QH-R800净水流量是多少？"),
        ("QH-R800的净水流量比QH-R500大吗？", ("QH-R800", "QH-R500"), "QH-R800的净水流量是多少？"),
        ("请问A公司比B公司成立得早吗？", ("A公司", "B公司"), "A公司成立是什么时候？"),
    ],
)
def test_a_question_whether_one_thing_has_more_than_another_compares_both(question, items, first):
    c = comparison(question)
    assert c is not None and c.items == items and c.parts[0] == first


@pytest.mark.parametrize(
    "question",
    [
        "宝山区比静安区多吗？",  # compares nothing named
        "2023年的经费比去年多吗？",
        "为什么宝山区的创新联合体比静安区多？",
        "宝山区组建的创新联合体比哪个区多吗？",
        "企业牵头的项目比例高吗？",
        "上海期智研究院的论文比李政道研究所多吗？",  # where the first thing ends is not known
    ],
)
def test_a_than_question_without_two_things_of_a_kind_is_no_comparison(question):
    assert comparison(question) is None


@pytest.mark.parametrize(
    "question",
    [
        "哪个区组建的创新联合体最多？",
        "宝山区组建的创新联合体更多吗？",
        "上海市科学技术奖中多单位合作项目中哪个更多？",
        "接入了多少家链主企业？",
    ],
)
def test_a_question_comparing_nothing_it_names_is_no_comparison(question):
    assert comparison(question) is None


def test_an_answer_names_every_thing_compared_with_or_without_de():
    c = comparison("接入的链主企业和应用场景，哪个数更大？")
    assert c is not None
    assert c.names_all("累计接入链主企业147家，上链企业超80万家，应用场景163个")
    assert not c.names_all("累计接入链主企业147家")


def test_the_two_things_just_talked_about_become_both_their_names():
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["上海期智研究院", "李政道研究所"], Segmenter()))
    history = [
        Turn("user", "上海期智研究院发表了多少篇论文？"),
        Turn("assistant", "…"),
        Turn("user", "李政道研究所呢？"),
        Turn("assistant", "…"),
    ]
    r = rewriter.rewrite("这两个研究所，哪个发表的论文更多？", history)
    assert r.resolved == "上海期智研究院和李政道研究所，哪个发表的论文更多？" and r.how == "pair"
    assert rewriter.rewrite("这两个研究所，哪个发表的论文更多？", history[:2]).resolved == "这两个研究所，哪个发表的论文更多？"


class FactAnswerer:
    """Answers a question about 宝山区 or (when ``both``) 静安区 with its cited
    fact; refuses anything else, and a comparison as asked unless ``whole``."""

    FACTS = {"宝山区": "宝山区累计组建创新联合体8个", "静安区": "静安区累计组建创新联合体5个"}

    def __init__(self, both: bool = False, whole: bool = False):
        self.both, self.whole, self.asked = both, whole, []

    def answer(self, q, hits, refusal, min_confidence=None):
        self.asked.append(q.text)
        named = [name for name in self.FACTS if name in q.text]
        if len(named) == 2 and self.whole:
            text = "宝山区累计组建创新联合体8个，静安区5个[1]"
            yield Delta(text)
            yield Final(text, False, [Citation(1, "a.txt", "报告", ("创新联合体",), 0, 20, None, text[:-3])], confidence=0.9)
            return
        if len(named) != 1 or (named[0] == "静安区" and not self.both):
            yield Delta(refusal)
            yield Final(refusal, True, confidence=0.1)
            return
        fact = self.FACTS[named[0]]
        yield Delta(f"{fact}[1]")
        yield Final(f"{fact}[1]", False, [Citation(1, "a.txt", "报告", (named[0],), 0, len(fact), None, fact)], confidence=0.8)


@pytest.fixture
def engine(settings, tmp_path):
    return fake_engine(settings, tmp_path / "corpus", {"a.txt": "宝山区累计组建创新联合体8个。静安区累计组建创新联合体5个。"})


QUESTION = "宝山区和静安区，哪个区组建的创新联合体更多？"


def test_a_than_question_is_answered_with_both_facts(engine):
    engine.answerers["extractive"] = scripted = FactAnswerer(both=True)
    answer = engine.ask("宝山区组建的创新联合体比静安区多吗？")
    assert answer.answer == "宝山区累计组建创新联合体8个[1] 静安区累计组建创新联合体5个[2]"
    assert scripted.asked[1:] == ["宝山区组建的创新联合体是多少？", "静安区组建的创新联合体是多少？"]


def test_each_thing_compared_is_asked_about_and_cited(engine):
    engine.answerers["extractive"] = scripted = FactAnswerer(both=True)
    events = list(engine.stream(QUESTION))
    assert [e.kind for e in events] == ["delta", "final"]
    answer = events[-1].answer
    assert not answer.refused and answer.question == answer.resolved_question == QUESTION
    assert answer.answer == "宝山区累计组建创新联合体8个[1] 静安区累计组建创新联合体5个[2]"
    assert [(c.n, c.quote) for c in answer.citations] == [
        (1, "宝山区累计组建创新联合体8个"),
        (2, "静安区累计组建创新联合体5个"),
    ]
    assert answer.confidence == 0.8
    assert set(answer.timings_ms) == {"resolve", "embed", "search", "answer"}  # the three attempts' time
    assert scripted.asked == [QUESTION, "宝山区组建的创新联合体是多少？", "静安区组建的创新联合体是多少？"]


def test_a_thing_without_its_fact_makes_the_comparison_a_refusal(engine):
    engine.answerers["extractive"] = FactAnswerer(both=False)
    answer = engine.ask(QUESTION)
    assert answer.refused and not answer.citations and answer.resolved_question == QUESTION
    assert answer.notice == "文档中没有静安区的这一项，无从比较"  # which thing lacks its fact


def test_one_answer_naming_every_thing_compared_stands(engine):
    engine.answerers["extractive"] = scripted = FactAnswerer(whole=True)
    answer = engine.ask(QUESTION)
    assert not answer.refused and answer.answer == "宝山区累计组建创新联合体8个，静安区5个[1]"
    assert scripted.asked == [QUESTION]


def test_only_cited_markers_are_renumbered():
    from docqa.engine import _renumbered

    assert _renumbered("见注[3]。静安区累计组建创新联合体5个[1]", 2, {1}) == "见注[3]。静安区累计组建创新联合体5个[3]"
