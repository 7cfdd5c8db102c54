"""Baseline comparison and the HTML report, on hand-made runs."""

from __future__ import annotations

import json

import pytest

from docqa.errors import DocumentError
from docqa.eval.compare import compare, load_run
from docqa.eval.gate import check
from docqa.eval.report_html import render
from docqa.eval.table import comparison_table


def _pred(qid, ok, fact_recall=None, rank=None, refused=False, answerable=True, answer="答案[1]", question="问题？"):
    scores = {"ok": ok, "fact_recall": fact_recall, "rank": rank, "refused": refused, "answerable": answerable,
              "failures": [] if ok else ["missing facts: 12家"], "facts_found": [ok], "citations_supported": [ok],
              "latency_ms": 10.0, "chars": None if refused else 3, "type": "numeric"}  # fmt: skip
    citations = [{"n": 1, "doc": "d", "title": "<b>标题</b>", "section": "一", "start": 0, "end": 5, "quote": "引用<原文>"}]
    return {
        "id": qid, "question": question, "answer": answer, "refused": refused, "citations": citations,
        "passages": [{"doc": "d", "start": 0, "end": 9, "text": "段落&原文", "title": "t", "section": "s"}],
        "gold": {"answers": ["12家"], "evidence": ["证据"], "answerable": answerable, "type": "numeric"},
        "scores": scores,
    }  # fmt: skip


SUMMARY = {
    "questions": 3, "answerable": 3, "unanswerable": 0,
    "retrieval": {"hit@1": 0.5, "hit@5": 1.0, "mrr": 0.75},
    "answer": {"fact_recall": 0.5, "exact": 0.5, "median_chars": 40},
    "citation": {"precision": 1.0, "recall": 0.5},
    "abstention": {"recall": None, "false_rate": 0.0},
    "latency_ms": {"p50": 10.0, "p95": 12.0},
    "by_type": {},
    "config": {"model": "m", "mode": "extractive", "top_k": 5, "questions": {"name": "set"}, "corpus": {"name": "c"}},
    "run": {"wall_s": 1.0},
}  # fmt: skip


def test_question_by_question_changes():
    before = {
        "a": _pred("a", False, 0.0, rank=None),
        "b": _pred("b", True, 1.0, rank=1),
        "c": _pred("c", False, 0.5, rank=3),
        "d": _pred("d", True, 1.0, rank=1),
        "old": _pred("old", True),
    }
    after = {
        "a": _pred("a", True, 1.0, rank=1),
        "b": _pred("b", False, 0.0, rank=1),
        "c": _pred("c", False, 0.5, rank=1),
        "d": _pred("d", True, 1.0, rank=1),
        "new": _pred("new", True),
    }
    after_summary = SUMMARY | {"answer": {"fact_recall": 0.6, "exact": 0.5, "median_chars": 30}}
    cmp = compare("base", SUMMARY, before, after_summary, after)  # fmt: skip
    kinds = {q.id: (q.kind, q.note) for q in cmp.questions}
    assert kinds["a"][0] == "fixed"
    assert kinds["b"] == ("regressed", "missing facts: 12家")
    assert kinds["c"] == ("better", "evidence rank 3 → 1")
    assert "d" not in kinds
    assert next(q for q in cmp.questions if q.id == "a").answer_after == "答案[1]"
    assert (cmp.only_before, cmp.only_after) == (["old"], ["new"])
    verdicts = {m.name: m.verdict for m in cmp.metrics}
    assert verdicts["answer.fact_recall"] == "better" and verdicts["answer.median_chars"] == "better"
    assert verdicts["retrieval.hit@5"] == "same" and verdicts["abstention.recall"] == "same"
    text = comparison_table(cmp)
    assert ["answer.fact_recall", "0.500", "0.600", "+0.100", "better"] in [line.split() for line in text.splitlines()]
    assert text.endswith("questions: 1 fixed, 1 regressed, 1 better, 0 worse, 0 changed")


def test_load_run_errors(tmp_path):
    with pytest.raises(DocumentError, match="point --baseline at the output directory of an earlier `docqa eval` run"):
        load_run(tmp_path)
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    (tmp_path / "predictions.jsonl").write_text("{broken\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="damaged eval output"):
        load_run(tmp_path)


def test_report_is_escaped_self_contained_and_lists_failures(tmp_path):
    preds = [_pred("ok1", True, 1.0, rank=1), _pred("bad1", False, 0.0, rank=2, answer="<img src=x onerror=alert(1)>[1]",
                                                    question="“<b>粗体</b>”问题")]  # fmt: skip
    base = {p["id"]: p for p in preds}
    cmp = compare(tmp_path, SUMMARY, base, SUMMARY, base)
    gate = check(SUMMARY, {"min": {"retrieval.hit@5": 0.9}, "max": {"answer.median_chars": 30}})
    html = render(SUMMARY, preds, gate, cmp)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;[1]" in html
    assert "<b>" not in html and "&lt;b&gt;粗体&lt;/b&gt;" in html and "引用&lt;原文&gt;" in html
    assert "段落&amp;原文" in html  # the top passage is shown when the evidence was not ranked first
    assert 'id="q-bad1"' in html and 'id="q-ok1"' not in html
    assert "Failures (1)" in html and "1 of 2 questions failed" in html
    assert "CI gate: FAILED" in html and "Changes since the baseline" in html
    assert 'src="http' not in html and "<link" not in html and "<script" not in html
    assert json.dumps(SUMMARY)  # the summary itself stays JSON-serialisable
