"""A consequence answering a why-question takes its reason along, and a span
opening with a pronoun what it stands for (docqa/answer/antecedents.py)."""

from __future__ import annotations

import re

import numpy as np

from docqa.answer.antecedents import MAX_CHARS, asks_why, with_antecedent, with_reason
from docqa.answer.candidates import candidates, doc_slice
from docqa.answer.extractive import ExtractiveAnswerer
from docqa.answer.selector import Selector
from docqa.question import Question, Term
from docqa.records import Chunk, Hit, Unit

BAOBAB = "猴面包树的果实钙含量比菠菜高50％以上，维生素C含量是单个橙子的三倍。因此它有时也被称为笨蛋水果。"
OFFSET = 500  # the passage's place in its document


def _hit(text: str) -> Hit:
    """A passage whose sentences end at 。 and whose clauses end at ， or ；."""
    units = []
    for m in re.finditer(r"[^。\n]+。?", text):
        sentence = OFFSET + m.start()
        for c in re.finditer(r"[^，；。]+", m.group()):
            start = OFFSET + m.start() + c.start()
            units.append(Unit(start, start + len(c.group()), c.group(), sentence))
    chunk = Chunk("c1", "/d/trees.txt", "猴面包树", (), OFFSET, OFFSET + len(text), None, text, units)
    return Hit(chunk, 0.03, 0.85, 3.0, rank=1, row=0, unit_dense=[0.8] * len(units))


def _question(text: str, kind: str = "why") -> Question:
    return Question(text, "zh", kind, [Term("笨蛋水果", 2.0)], [])


def _spans(text: str, question: str = "为什么称猴面包树为笨蛋水果？"):
    spans, _ = candidates(_question(question), [_hit(text)], segmenter=None)
    return spans


def _span(spans, text: str, whole: bool = True):
    return next(s for s in spans if s.text.rstrip("。；") == text.rstrip("。；") and s.whole == whole)


def test_a_consequence_takes_the_sentence_before_it_as_one_exact_quote():
    spans = _spans(BAOBAB)
    shown = with_reason(_question("为什么称猴面包树为笨蛋水果？"), _span(spans, "因此它有时也被称为笨蛋水果。"), spans)
    quote = doc_slice(shown.hit, shown.start, shown.end)
    assert quote == shown.text == BAOBAB.rstrip("。")  # its units end before the full stop


def test_a_consequence_clause_takes_the_clauses_before_it():
    text = "吉斯伯恩有长时间的日照，河川带来丰富的水源；因此，畜牧业发达；酿酒业也很兴盛。"
    spans = _spans(text, "为什么吉斯伯恩的畜牧业发达？")
    clause = _span(spans, "因此，畜牧业发达", whole=False)
    shown = with_reason(_question("为什么吉斯伯恩的畜牧业发达？"), clause, spans)
    assert shown.text.startswith("吉斯伯恩有长时间的日照") and shown.end == clause.end
    assert doc_slice(shown.hit, shown.start, shown.end) == text[: shown.end - OFFSET]


def test_other_spans_and_other_paragraphs_stay_as_they_are():
    spans = _spans(BAOBAB)
    first = _span(spans, "猴面包树的果实钙含量比菠菜高50％以上，维生素C含量是单个橙子的三倍。")
    why = _question("为什么称猴面包树为笨蛋水果？")
    assert with_reason(why, first, spans) is first
    text = "猴面包树的果实富含维生素C。\n因此它有时也被称为笨蛋水果。"  # a new paragraph: its own point
    spans = _spans(text)
    span = _span(spans, "因此它有时也被称为笨蛋水果。")
    assert with_reason(why, span, spans) is span
    long = "猴面包树" + "很" * MAX_CHARS + "高。因此它有时也被称为笨蛋水果。"
    spans = _spans(long)
    span = _span(spans, "因此它有时也被称为笨蛋水果。")
    assert with_reason(why, span, spans) is span


def test_only_a_question_that_asks_why():
    assert asks_why(_question("为什么称猴面包树为笨蛋水果？"))
    assert asks_why(_question("佐敦谷南道中文名称为什么又叫佐顿谷南道？"))  # 名称 + 为什么
    for question in ("猴面包树又被称为什么？", "旧富国银行后来改名为什么？"):
        assert not asks_why(_question(question))  # kinds.why reads them as why-questions; they are not
    assert not asks_why(_question("猴面包树的果实有多重？", kind="number"))


class PickSelector(Selector):
    """Picks a set candidate with confidence 0.9; threshold 0.4."""

    threshold = 0.4
    reader = None

    def __init__(self, pick: int):  # noqa: D107 -- no boosters: choose() is faked
        self.pick = pick

    def choose(self, x, allowed=None, pair=None):
        return np.zeros(len(x)), self.pick, 0.9


def test_the_answerer_gives_a_why_question_the_reason():
    for question, whole in (("为什么称猴面包树为笨蛋水果？", True), ("猴面包树又被称为什么？", False)):
        spans = _spans(BAOBAB, question)
        pick = spans.index(_span(spans, "因此它有时也被称为笨蛋水果。"))
        ex = ExtractiveAnswerer(PickSelector(pick)).extract(_question(question), [_hit(BAOBAB)])
        assert not ex.refused and len(ex.spans) == 1
        assert (ex.spans[0].text == BAOBAB.rstrip("。")) is whole
    spans = _spans(BAOBAB)
    pick = spans.index(_span(spans, "因此它有时也被称为笨蛋水果。"))
    ex = ExtractiveAnswerer(PickSelector(pick)).extract(_question("猴面包树被称为什么？", kind="other"), [_hit(BAOBAB)])
    assert ex.spans[0].text == "因此它有时也被称为笨蛋水果"  # not a why-question


BEAVER = "河狸是一种半水栖的啮齿动物。它们在建造水坝的时候大幅改变了生态系统。它们的寿命约为12年。"


def test_a_pronoun_takes_the_sentence_that_names_what_it_stands_for():
    question = "哪种动物在建造水坝时会改变生态系统？"
    spans = _spans(BEAVER, question)
    shown = with_antecedent(_question(question, kind="other"), _span(spans, "它们在建造水坝的时候大幅改变了生态系统。"), spans)
    assert shown.text == "河狸是一种半水栖的啮齿动物。它们在建造水坝的时候大幅改变了生态系统"
    assert doc_slice(shown.hit, shown.start, shown.end) == shown.text  # one exact quote


def test_a_pronoun_span_holding_the_value_asked_stays_as_it_is():
    spans = _spans(BEAVER, "河狸能活多少年？")
    span = _span(spans, "它们的寿命约为12年。")
    span.kind_ok = True  # holds the number asked
    assert with_antecedent(_question("河狸能活多少年？", kind="number"), span, spans) is span
    span.kind_ok = False
    assert with_antecedent(_question("河狸能活多少年？", kind="number"), span, spans) is not span
    assert with_antecedent(_question("河狸怎样建造水坝？", kind="how"), span, spans) is span
    first = _span(spans, "河狸是一种半水栖的啮齿动物。")
    assert with_antecedent(_question("哪种动物是啮齿动物？", kind="other"), first, spans) is first
