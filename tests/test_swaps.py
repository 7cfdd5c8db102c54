"""Training negatives made by swapping a place the documents mention for one they never mention."""

from __future__ import annotations

from docqa.eval.questions import EvalQuestion
from docqa.train.swaps import _PLACES, swapped
from tests.test_answering import engine  # noqa: F401  (fixture)


def _swap(engine, text: str):
    q = EvalQuestion("q1", text, [["36家"]], ["36家"], True, "numeric")
    return swapped(engine, q, engine.inspect(text, 3)[0], 3)


def test_a_place_the_documents_mention_is_swapped_for_one_they_never_mention(engine):  # noqa: F811
    text, asked, hits = _swap(engine, "上海累计备案了多少家新型研发机构？")
    other = text.removesuffix("累计备案了多少家新型研发机构？")
    assert other in _PLACES and other != "上海"
    assert other in asked.missing_entities and hits  # asked like any question, over the same documents
    assert _swap(engine, "上海累计备案了多少家新型研发机构？")[0] == text  # deterministic


def test_no_swap_without_a_place(engine):  # noqa: F811
    assert _swap(engine, "蜘蛛系统完成了什么？") is None
