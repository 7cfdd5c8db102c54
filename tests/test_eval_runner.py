"""The eval runner end to end with the fake embedder: a tiny corpus, a tiny
question file, the three output files, caching, the CLI, the gate."""

from __future__ import annotations

import json
import sys

import pytest

from docqa.eval.questions import load_questions
from docqa.eval.runner import Source, run_eval

DOC = """# 创新联合体

第二批12家长三角创新联合体成立，在人工智能、生物医药、集成电路等领域影响力加速释放。

静安区发布链主企业创新伙伴计划，8家跨国公司及行业龙头企业成为首批链主企业。

# 新型研发机构

上海累计备案新型研发机构36家，其中2024年新增5家。
"""
QUESTIONS = [
    {"id": "q1", "question": "第二批长三角创新联合体有多少家？", "answers": ["12家"],
     "evidence": ["第二批12家长三角创新联合体成立"], "answerable": True, "type": "numeric"},
    {"id": "q2", "question": "静安区首批链主企业有几家？", "answers": [["8家", "八家"]],
     "evidence": ["8家跨国公司及行业龙头企业成为首批链主企业"], "answerable": True, "type": "numeric"},
    {"id": "q3", "question": "火星基地什么时候建成？", "answers": [], "evidence": [],
     "answerable": False, "type": "outside"},
    # always fails (its fact is nowhere), so the report shows it: markup must come out escaped
    {"id": "q4", "question": "<script>alert(1)</script>新型研发机构累计备案多少家？", "answers": ["<i>不存在</i>"],
     "evidence": ["上海累计备案新型研发机构36家"], "answerable": True, "type": "numeric"},
]  # fmt: skip
CONTRACT = {"question", "resolved_question", "answer", "refused", "citations", "passages", "timings_ms", "mode", "notice"}


@pytest.fixture
def tiny(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.md").write_text(DOC, encoding="utf-8")
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    return corpus, qfile


def _run(settings, tiny, out, embedder, **kw):
    corpus, qfile = tiny
    return run_eval(settings, load_questions(qfile), [corpus], out, Source("tiny"), Source("corpus"),
                    embedder=embedder, show_progress=False, **kw)  # fmt: skip


def test_run_writes_predictions_summary_and_report(settings, tiny, tmp_path, fake_embedder):
    out = tmp_path / "out"
    result = _run(settings, tiny, out, fake_embedder)
    assert set(result.paths) == {"predictions", "summary", "report"}

    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3", "q4"]
    for r in rows:
        assert CONTRACT <= set(r)
        assert r["question"] == next(q["question"] for q in QUESTIONS if q["id"] == r["id"]).strip()
        assert {"ok", "failures", "refused", "latency_ms", "type", "answerable"} <= set(r["scores"])
        assert r["gold"]["type"] in {"numeric", "outside"}
    assert {"hit@1", "hit@5", "rr", "fact_recall", "exact", "citations_supported"} <= set(rows[0]["scores"])
    assert rows[0]["passages"] and rows[0]["passages"][0]["text"]

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == result.summary
    assert (summary["questions"], summary["answerable"], summary["unanswerable"]) == (4, 3, 1)
    for section, keys in {
        "retrieval": {"hit@1", "hit@5", "mrr"},
        "answer": {"fact_recall", "exact", "median_chars"},
        "citation": {"precision", "recall"},
        "abstention": {"recall", "false_rate", "false_answer_rate"},
        "latency_ms": {"p50", "p95"},
    }.items():
        assert set(summary[section]) == keys
    assert summary["retrieval"]["hit@5"] == 1.0  # two passages in all: the evidence is always retrieved
    assert set(summary["by_type"]) == {"numeric", "outside"}
    cfg = summary["config"]
    assert (cfg["mode"], cfg["top_k"], cfg["embedder"]) == ("extractive", 5, "fake-embedder")
    assert cfg["corpus"]["documents"] == 1 and cfg["corpus"]["chunks"] >= 2
    assert cfg["chunker"]["chunk_size"] == settings.chunk_size

    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;新型研发机构" in html and "&lt;i&gt;不存在&lt;/i&gt;" in html
    assert "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html  # self-contained


def test_eval_index_is_cached_and_the_user_index_untouched(settings, tiny, tmp_path, fake_embedder):
    first = _run(settings, tiny, tmp_path / "a", fake_embedder)
    embedded = fake_embedder.passages_embedded
    second = _run(settings, tiny, tmp_path / "b", fake_embedder)
    assert fake_embedder.passages_embedded == embedded  # nothing re-embedded
    assert first.summary["config"]["corpus"]["index_reused"] is False
    assert second.summary["config"]["corpus"]["index_reused"] is True
    assert second.summary["config"]["corpus"]["index_dir"] == first.summary["config"]["corpus"]["index_dir"]
    assert str(settings.home / "eval-indexes") in first.summary["config"]["corpus"]["index_dir"]
    assert not settings.index_path.exists()

    (tiny[0] / "report.md").write_text(DOC + "\n新增一句。\n", encoding="utf-8")
    third = _run(settings, tiny, tmp_path / "c", fake_embedder)
    assert third.summary["config"]["corpus"]["index_reused"] is False
    assert third.summary["config"]["corpus"]["index_dir"] != first.summary["config"]["corpus"]["index_dir"]


def test_baseline_comparison_is_question_by_question(settings, tiny, tmp_path, fake_embedder):
    base = tmp_path / "base"
    _run(settings, tiny, base, fake_embedder)
    # Doctor the baseline: q1 failed before and q3 passed before.
    rows = [json.loads(x) for x in (base / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    now_ok = {r["id"]: r["scores"]["ok"] for r in rows}
    for r in rows:
        if r["id"] in ("q1", "q3"):
            r["scores"]["ok"] = not r["scores"]["ok"]
    (base / "predictions.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")

    result = _run(settings, tiny, tmp_path / "now", fake_embedder, baseline=base)
    kinds = {q.id: q.kind for q in result.comparison.questions}
    assert kinds == {qid: ("fixed" if now_ok[qid] else "regressed") for qid in ("q1", "q3")}
    assert all(m.verdict == "same" for m in result.comparison.metrics)
    html = result.paths["report"].read_text(encoding="utf-8")
    assert "Changes since the baseline" in html


def _main(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    from docqa.eval.__main__ import main

    monkeypatch.setattr(sys, "argv", ["docqa eval", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_run_prints_table_and_paths(monkeypatch, capsys, tiny, tmp_path, fake_model):
    corpus, qfile = tiny
    out = tmp_path / "out"
    code, stdout, _ = _main(monkeypatch, capsys, "--questions", qfile, "--corpus", corpus, "--out", out, "--no-progress")
    assert code == 0
    assert stdout.startswith("questions: 4 questions over corpus; model multilingual-e5-small, mode extractive, top_k 5;")
    assert "retrieval.hit@5" in stdout and "abstention.false_rate" in stdout
    assert f"wrote {out / 'summary.json'}" in stdout
    code, stdout, _ = _main(monkeypatch, capsys, "--questions", qfile, "--corpus", corpus, "--out", tmp_path / "o2",
                            "--baseline", out, "--no-progress")  # fmt: skip
    assert code == 0 and f"compared with {out}" in stdout and "questions: 0 fixed, 0 regressed" in stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gate", "--limit", "3"], "--gate and --write-thresholds always run the whole bundled set"),
        (["--benchmark", "squad"], "unknown benchmark 'squad'; choose one of cmrc2018"),
        (["--benchmark", "cmrc2018", "--corpus", "x"], "--benchmark brings its own corpus"),
        (["extra-path"], "unexpected argument extra-path; corpus paths go after --corpus"),
        (["--baseline", "nowhere"], "nowhere: no summary.json and predictions.jsonl here"),
    ],
)
def test_cli_usage_errors_are_one_line(monkeypatch, capsys, tmp_path, fake_model, args, message):
    code, stdout, stderr = _main(monkeypatch, capsys, *args, "--out", tmp_path / "o", "--no-progress")
    assert code == 2
    assert stderr.startswith("eval: error: ") and message in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_llm_mode_fails_once_with_the_engine_message(monkeypatch, capsys, tiny, tmp_path, fake_model):
    corpus, qfile = tiny
    code, _, stderr = _main(monkeypatch, capsys, "--questions", qfile, "--corpus", corpus, "--mode", "llm",
                            "--out", tmp_path / "o", "--no-progress")  # fmt: skip
    assert code == 2
    assert stderr == "eval: error: LLM mode is not configured; set DOCQA_LLM_BASE_URL and DOCQA_LLM_MODEL\n"
    assert fake_model.queries_embedded == 0


def test_gate_passes_on_the_bundled_set(monkeypatch, capsys, tmp_path, fake_model):
    loose = tmp_path / "loose.toml"
    loose.write_text('[min]\n"retrieval.hit@5" = 0.0\n[max]\n"answer.median_chars" = 10000\n', encoding="utf-8")
    code, stdout, _ = _main(monkeypatch, capsys, "--gate", "--thresholds", loose, "--out", tmp_path / "a", "--no-progress")
    assert code == 0 and stdout.rstrip().endswith("eval gate passed")
    assert stdout.startswith("report_questions: 114 questions over bundled report;")
    gate_row = [line.split() for line in stdout.splitlines() if line.startswith("retrieval.hit@5 ")][-1]
    assert gate_row[0] == "retrieval.hit@5" and gate_row[2:] == [">=", "0.000", "ok"]


def test_gate_fails_with_exit_1(monkeypatch, capsys, tiny, tmp_path, fake_model):
    corpus, qfile = tiny  # stand in for the bundled set, to keep this fast
    monkeypatch.setattr("docqa.eval.questions.BUNDLED_QUESTIONS", qfile)
    monkeypatch.setattr("docqa.settings.BUNDLED_CORPUS", corpus)
    strict = tmp_path / "strict.toml"
    strict.write_text('[min]\n"retrieval.hit@5" = 1.01\n', encoding="utf-8")
    code, stdout, stderr = _main(
        monkeypatch, capsys, "--gate", "--thresholds", strict, "--out", tmp_path / "b", "--no-progress"
    )
    assert code == 1
    assert ["retrieval.hit@5", "1.000", ">=", "1.010", "FAIL"] in [line.split() for line in stdout.splitlines()]
    assert stderr == f"eval: error: eval gate FAILED: retrieval.hit@5 outside the thresholds in {strict}\n"
    html = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert "CI gate: FAILED" in html


def test_write_thresholds_then_gate_passes(monkeypatch, capsys, tiny, tmp_path, fake_model):
    from docqa.eval.gate import GATED, load_thresholds

    corpus, qfile = tiny
    monkeypatch.setattr("docqa.eval.questions.BUNDLED_QUESTIONS", qfile)
    monkeypatch.setattr("docqa.settings.BUNDLED_CORPUS", corpus)
    target = tmp_path / "t.toml"
    code, stdout, _ = _main(monkeypatch, capsys, "--write-thresholds", "--thresholds", target, "--margin", "0.05",
                            "--out", tmp_path / "a", "--no-progress")  # fmt: skip
    assert code == 0 and f"wrote {target}" in stdout
    text = target.read_text(encoding="utf-8")
    assert "with `docqa eval --write-thresholds`" in text and "minus 0.05" in text
    written = load_thresholds(target)
    assert set(written["min"]) | set(written["max"]) <= set(GATED["min"]) | set(GATED["max"])
    code, stdout, _ = _main(monkeypatch, capsys, "--gate", "--thresholds", target, "--out", tmp_path / "b", "--no-progress")
    assert code == 0 and stdout.rstrip().endswith("eval gate passed")


def test_docqa_eval_is_registered_and_light_to_import():
    import subprocess

    from typer.testing import CliRunner

    from docqa.cli import app

    result = CliRunner().invoke(app, ["eval", "--help"])
    assert result.exit_code == 0 and "--benchmark" in result.output and "--baseline" in result.output
    heavy = "('torch', 'sentence_transformers', 'docqa.factory', 'matplotlib')"
    code = f"import sys, docqa.eval.commands; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_top_k_zero_is_refused_not_replaced(monkeypatch, capsys, tiny, tmp_path, fake_model):
    corpus, qfile = tiny
    code, _, stderr = _main(monkeypatch, capsys, "--questions", qfile, "--corpus", corpus, "--top-k", "0",
                            "--out", tmp_path / "o", "--no-progress")  # fmt: skip
    assert code == 2 and stderr == "eval: error: top_k must be an integer from 1 to 50, got 0\n"
