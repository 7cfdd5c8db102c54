"""The CI gate: thresholds from a run, the check, the committed file."""

from __future__ import annotations

import pytest

from docqa.errors import DocumentError
from docqa.eval.gate import GATED, THRESHOLDS, check, load_thresholds, render_thresholds, thresholds_from

SUMMARY = {
    "questions": 10,
    "retrieval": {"hit@1": 0.9, "hit@5": 0.978, "mrr": 0.94},
    "answer": {"fact_recall": 0.555, "exact": 0.5, "median_chars": 58.5},
    "citation": {"precision": 1.0, "recall": 0.6},
    "abstention": {"recall": 0.01, "false_rate": 0.413},
    "latency_ms": {"p50": 400.0, "p95": 900.0},
    "config": {"model": "m", "mode": "extractive", "top_k": 5, "chunker": {"chunk_size": 320},
               "questions": {"path": "/x/report_questions.jsonl"}, "git_commit": "abc123"},
}  # fmt: skip


def test_thresholds_from_applies_margins():
    t = thresholds_from(SUMMARY, rate_margin=0.02, chars_margin=10)
    assert t["min"] == {
        "retrieval.hit@1": 0.88, "retrieval.hit@5": 0.95, "retrieval.mrr": 0.92, "answer.fact_recall": 0.53,
        "answer.exact": 0.48, "citation.precision": 0.98, "citation.recall": 0.58, "abstention.recall": 0.0,
    }  # fmt: skip
    assert t["max"] == {"abstention.false_rate": 0.44, "answer.median_chars": 69.0}


def test_check_min_max_and_missing_figures():
    t = {"min": {"retrieval.hit@5": 0.98, "answer.exact": 0.5}, "max": {"answer.median_chars": 58.0, "x.y": 1.0}}
    lines = {g.name: g for g in check(SUMMARY, t)}
    assert not lines["retrieval.hit@5"].ok  # 0.978 < 0.98
    assert lines["answer.exact"].ok  # equal passes
    assert not lines["answer.median_chars"].ok  # 58.5 > 58
    assert lines["x.y"].value is None and not lines["x.y"].ok  # not measured fails


def test_render_then_load_round_trips(tmp_path):
    t = thresholds_from(SUMMARY)
    text = render_thresholds(SUMMARY, t, 0.02, 10)
    assert text.startswith("# CI gate for the bundled question set")
    assert "with `docqa eval --write-thresholds`" in text and "commit abc123" in text
    assert "#   answer.fact_recall = 0.555" in text
    p = tmp_path / "t.toml"
    p.write_text(text, encoding="utf-8")
    assert load_thresholds(p) == t
    assert all(g.ok for g in check(SUMMARY, load_thresholds(p)))


def test_committed_thresholds_gate_every_figure():
    t = load_thresholds(THRESHOLDS)
    assert set(t["min"]) == set(GATED["min"]) and set(t["max"]) == set(GATED["max"])
    assert "Measured" in THRESHOLDS.read_text(encoding="utf-8")


def test_bad_thresholds_files_say_how_to_fix(tmp_path):
    with pytest.raises(DocumentError, match="create it with `docqa eval --write-thresholds`"):
        load_thresholds(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[min]\nhit = 0.5\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"must be a summary figure like \"answer.fact_recall\""):
        load_thresholds(bad)
    bad.write_text('[min]\n"answer.exact" = "high"\n', encoding="utf-8")
    with pytest.raises(DocumentError, match="answer.exact must be a number"):
        load_thresholds(bad)
