"""Eval metrics on tiny hand-made cases, exact numbers asserted."""

from __future__ import annotations

import pytest

from docqa.eval.metrics import (
    Scores,
    citation_passage,
    citation_supported,
    facts_found,
    first_relevant_rank,
    normalize,
    percentile,
    score_question,
    strip_markers,
    summarise,
)


def test_normalize_nfkc_emphasis_whitespace_case():
    assert normalize("第二批 **12** 家\n长三角（ABC）") == "第二批12家长三角(abc)"
    assert normalize("__Shanghai__  AI\tLab") == "shanghaiailab"
    assert normalize("５８％") == "58%"
    assert normalize("") == ""


def test_strip_markers():
    assert strip_markers("共12家[1]，另有8家 [2][3]") == "共12家，另有8家"
    assert strip_markers("[1]") == ""
    assert strip_markers("数组a[i]不变") == "数组a[i]不变"


def test_facts_found_alternatives_and_markers():
    facts = [["12家"], ["58%", "58 percent"], ["集成电路"]]
    assert facts_found(facts, "共**12**家[1]，占 58 Percent[2]") == [True, True, False]
    assert facts_found([["家[1]"]], "12家[1]") == [False]  # markers are gone before matching
    assert facts_found([], "anything") == []


def test_first_relevant_rank_uses_evidence():
    passages = ["无关的段落", "第二批 **12** 家长三角创新联合体成立", "12家"]
    assert first_relevant_rank(passages, ["第二批12家长三角创新联合体成立"], [["12家"]]) == 2
    assert first_relevant_rank(passages, ["不存在的证据"], [["12家"]]) is None


def test_first_relevant_rank_without_evidence_needs_all_facts():
    passages = ["只有12家", "12家，占比58%"]
    assert first_relevant_rank(passages, [], [["12家"], ["58%"]]) == 2
    assert first_relevant_rank(passages, [], []) is None


def test_citation_supported_by_quote_or_passage():
    assert citation_supported("共12家", "", ["不在这里"], [["12家"]])
    assert citation_supported("别的句子", "段落里有证据句", ["证据句"], [["x"]])
    assert not citation_supported("别的句子", "别的段落", ["证据句"], [["12家"]])


def test_citation_passage_matches_document_and_span():
    passages = [
        {"doc": "a", "start": 0, "end": 50, "text": "A"},
        {"doc": "b", "start": 0, "end": 100, "text": "B"},
    ]
    assert citation_passage({"doc": "b", "start": 10, "end": 20}, passages) == "B"
    assert citation_passage({"doc": "a", "start": 40, "end": 60}, passages) == ""
    assert citation_passage({"doc": "c", "start": 0, "end": 1}, passages) == ""


def test_percentile_interpolates():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def _answer(text, refused=False, passages=(), citations=()):
    return {"answer": text, "refused": refused, "passages": list(passages), "citations": list(citations)}


def _passage(text, start=0, doc="d"):
    return {"doc": doc, "start": start, "end": start + len(text), "text": text}


def test_score_answerable_question():
    p1 = _passage("无关内容。", 0)
    p2 = _passage("第二批12家长三角创新联合体成立，影响力加速释放。", 100)
    ans = _answer(
        "第二批12家[1]，另见[2]",
        passages=[p1, p2],
        citations=[
            {"n": 1, "doc": "d", "start": 100, "end": 115, "quote": "第二批12家长三角创新联合体成立"},
            {"n": 2, "doc": "d", "start": 0, "end": 5, "quote": "无关内容。"},
        ],
    )
    s = score_question([["12家"], ["人工智能"]], ["第二批12家长三角创新联合体成立"], True, "numeric", ans, 12.5)
    assert s.rank == 2
    assert (s.hit(1), s.hit(5), s.rr) == (0.0, 1.0, 0.5)
    assert s.facts_found == [True, False]
    assert s.fact_recall == 0.5
    assert s.exact is False
    assert s.chars == len("第二批12家，另见")
    assert s.citations_supported == [True, False]
    assert s.citation_ok is True
    assert s.ok is False
    assert s.failures == ["missing facts: 人工智能"]


def test_score_refused_answerable_question():
    s = score_question([["12家"]], [], True, "numeric", _answer("报告中没有找到相关信息。", refused=True), 3.0)
    assert s.refused and s.chars is None and s.fact_recall == 0.0 and s.exact is False
    assert s.citation_ok is False and s.ok is False
    assert s.failures == ["refused an answerable question", "evidence not in the top 5 passages"]


def test_score_unanswerable_question_skips_other_metrics():
    refused = score_question([], [], False, "outside", _answer("没有", refused=True), 1.0)
    assert refused.ok and refused.rank is None and refused.fact_recall is None and refused.citation_ok is None
    answered = score_question([], [], False, "outside", _answer("瞎编的[1]"), 1.0)
    assert not answered.ok
    assert answered.failures == ["answered a question the documents do not answer"]
    assert "hit@5" not in answered.to_dict()


def _s(**kw) -> Scores:
    base = {"type": "t", "answerable": True, "refused": False, "latency_ms": 10.0}
    return Scores(**(base | kw))


def test_summarise_exact_figures():
    scores = [
        _s(type="a", rank=1, facts_found=[True, True], fact_recall=1.0, exact=True, chars=20,
           citations_supported=[True, False], citation_ok=True, latency_ms=10.0),
        _s(type="a", rank=3, facts_found=[True, False], fact_recall=0.5, exact=False, chars=40,
           citations_supported=[True], citation_ok=True, latency_ms=20.0),
        _s(type="b", rank=None, refused=True, facts_found=[False], fact_recall=0.0, exact=False, chars=None,
           citation_ok=False, latency_ms=30.0),
        _s(type="u", answerable=False, refused=True, latency_ms=40.0),
        _s(type="u", answerable=False, refused=False, latency_ms=50.0),
    ]  # fmt: skip
    out = summarise(scores)
    assert (out["questions"], out["answerable"], out["unanswerable"]) == (5, 3, 2)
    assert out["retrieval"] == {"hit@1": 0.3333, "hit@5": 0.6667, "mrr": round((1 + 1 / 3) / 3, 4)}
    assert out["answer"] == {"fact_recall": 0.5, "exact": 0.3333, "median_chars": 30}
    assert out["citation"] == {"precision": 0.6667, "recall": 0.6667}
    # three answers given: one right, one missing a fact, one to an unanswerable question
    assert out["abstention"] == {"recall": 0.5, "false_rate": 0.3333, "false_answer_rate": 0.6667}
    assert out["latency_ms"] == {"p50": 30.0, "p95": 48.0}
    assert set(out["by_type"]) == {"a", "b", "u"}
    assert out["by_type"]["a"]["retrieval"]["hit@1"] == 0.5
    assert out["by_type"]["b"]["abstention"] == {"recall": None, "false_rate": 1.0, "false_answer_rate": None}
    assert out["by_type"]["u"]["retrieval"] == {"hit@1": None, "hit@5": None, "mrr": None}
    assert out["by_type"]["u"]["abstention"] == {"recall": 0.5, "false_rate": None, "false_answer_rate": 1.0}
    assert "by_type" not in out["by_type"]["a"]


def test_summarise_empty():
    out = summarise([])
    assert out["questions"] == 0
    assert out["retrieval"]["hit@5"] is None
    assert out["answer"]["median_chars"] is None
    assert out["citation"]["precision"] is None
    assert out["latency_ms"]["p50"] is None
    assert out["by_type"] == {}
