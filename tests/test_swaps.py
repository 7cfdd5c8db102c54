"""Training negatives made by swapping a place the documents mention for one they never mention."""

from __future__ import annotations

from docqa.eval.questions import EvalQuestion
from docqa.train.swaps import _PLACES, swapped
from tests.test_answering import engine  # noqa: F401  (fixture)


def _q(text: str) -> EvalQuestion:
    return EvalQuestion("q1", text, [["36家"]], ["36家"], True, "numeric")


def test_a_place_the_documents_mention_is_swapped_for_one_they_never_mention(engine):  # noqa: F811
    text, asked, hits = swapped(engine, _q("上海累计备案了多少家新型研发机构？"), 3)
    other = text.removesuffix("累计备案了多少家新型研发机构？")
    assert other in _PLACES and other != "上海"
    assert other in asked.missing_entities and hits  # asked like any question, over the same documents
    assert swapped(engine, _q("上海累计备案了多少家新型研发机构？"), 3)[0] == text  # deterministic


def test_no_swap_without_a_place(engine):  # noqa: F811
    assert swapped(engine, _q("蜘蛛系统完成了什么？"), 3) is None
