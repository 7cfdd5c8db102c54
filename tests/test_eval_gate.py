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


# --- the typeset renderings of the bundled report: [pdf.min] / [pdf.max], [scan.min] / [scan.max]


def test_rendering_thresholds_are_optional_sections(tmp_path):
    from docqa.eval.gate import load_rendering_thresholds

    p = tmp_path / "t.toml"
    p.write_text('[min]\n"answer.exact" = 0.5\n', encoding="utf-8")
    assert load_rendering_thresholds(p) == {}
    p.write_text('[min]\n"answer.exact" = 0.5\n[pdf.min]\n"answer.fact_recall" = 0.7\n[pdf.max]\n"answer.median_chars" = 80\n',
                 encoding="utf-8")  # fmt: skip
    assert load_thresholds(p) == {"min": {"answer.exact": 0.5}, "max": {}}
    assert load_rendering_thresholds(p) == {"pdf": {"min": {"answer.fact_recall": 0.7}, "max": {"answer.median_chars": 80.0}}}


def test_bad_rendering_sections_say_how_to_fix(tmp_path):
    from docqa.eval.gate import load_rendering_thresholds

    bad = tmp_path / "bad.toml"
    bad.write_text('[scan.min]\n"answer.fact_recall" = "most"\n', encoding="utf-8")
    with pytest.raises(DocumentError, match=r"\[scan.min\] answer.fact_recall must be a number"):
        load_rendering_thresholds(bad)
    bad.write_text('[pdf]\n"answer.fact_recall" = 0.7\n', encoding="utf-8")
    with pytest.raises(DocumentError, match=r"\[pdf\] may hold only \[pdf.min\] and \[pdf.max\] tables"):
        load_rendering_thresholds(bad)


def test_render_with_renderings_round_trips(tmp_path):
    from docqa.eval.gate import load_rendering_thresholds

    pdf_summary = {**SUMMARY, "answer": {"fact_recall": 0.5, "exact": 0.45, "median_chars": 70.0}}
    t, t_pdf = thresholds_from(SUMMARY), thresholds_from(pdf_summary)
    text = render_thresholds(SUMMARY, t, 0.02, 10, {"pdf": (pdf_summary, t_pdf)})
    assert "# [pdf.min] / [pdf.max]: the bundled report typeset as a 2-column PDF" in text
    assert "#   answer.median_chars = 70.0" in text
    assert (
        "# [scan.min] / [scan.max]: the bundled report typeset and scanned (page images, no text layer): not measured" in text
    )
    assert text.index("\n[max]\n") < text.index("\n[pdf.min]\n") < text.index("\n[pdf.max]\n")
    p = tmp_path / "t.toml"
    p.write_text(text, encoding="utf-8")
    assert load_thresholds(p) == t
    assert load_rendering_thresholds(p) == {"pdf": t_pdf}
    assert t_pdf["max"]["answer.median_chars"] == 80.0 and t_pdf["min"]["answer.fact_recall"] == 0.48


def test_committed_rendering_thresholds_gate_every_figure():
    from docqa.eval.gate import RENDERINGS, load_rendering_thresholds

    text = THRESHOLDS.read_text(encoding="utf-8")
    for name, t in load_rendering_thresholds(THRESHOLDS).items():
        assert set(t["min"]) == set(GATED["min"]) and set(t["max"]) == set(GATED["max"]), name
    for name in set(RENDERINGS) - set(load_rendering_thresholds(THRESHOLDS)):
        assert f"# [{name}.min] / [{name}.max]: " in text and "not measured" in text  # says why the gate skips it


# The CLI over the tiny stand-in for the bundled set (fake embedder; see test_eval_runner.py).
from tests.test_eval_runner import _main, tiny  # noqa: E402, F401


@pytest.fixture
def bundled_tiny(monkeypatch, tiny):
    corpus, qfile = tiny
    monkeypatch.setattr("docqa.eval.questions.BUNDLED_QUESTIONS", qfile)
    monkeypatch.setattr("docqa.settings.BUNDLED_CORPUS", corpus)
    return tiny


LOOSE = '"retrieval.hit@5" = 0.0\n'


def test_gate_checks_the_pdf_and_skips_a_rendering_without_thresholds(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    t = tmp_path / "t.toml"
    t.write_text(f'[min]\n{LOOSE}[pdf.min]\n{LOOSE}[pdf.max]\n"answer.median_chars" = 1000\n', encoding="utf-8")
    code, stdout, _ = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "a", "--no-progress")
    assert code == 0 and stdout.rstrip().endswith("eval gate passed")
    pdf_line = next(line for line in stdout.splitlines() if line.startswith("pdf: "))
    assert pdf_line.startswith("pdf: 4 questions; answer.fact_recall ") and "(text " in pdf_line
    assert pdf_line.endswith(f"; ok ({tmp_path / 'a' / 'pdf'})")
    assert "scan: skipped; no [scan.min] / [scan.max] thresholds yet (measure them with --write-thresholds)" in stdout
    assert (tmp_path / "a" / "pdf" / "summary.json").is_file() and not (tmp_path / "a" / "scan").exists()
    assert "CI gate" in (tmp_path / "a" / "pdf" / "report.html").read_text(encoding="utf-8")


def test_gate_fails_on_a_pdf_figure(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    t = tmp_path / "t.toml"
    t.write_text(f'[min]\n{LOOSE}[pdf.min]\n"retrieval.hit@5" = 1.01\n', encoding="utf-8")
    code, stdout, stderr = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "b", "--no-progress")
    assert code == 1
    assert "; FAILED retrieval.hit@5 1.000 (threshold >= 1.010)" in stdout
    assert stderr == f"eval: error: eval gate FAILED: pdf retrieval.hit@5 outside the thresholds in {t}\n"


def test_write_thresholds_leaves_out_a_rendering_that_cannot_be_read(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    from docqa.eval.gate import load_rendering_thresholds

    def no_scanner(*args, **kwargs):
        raise DocumentError("scanning needs pypdfium2; install it with `pip install pypdfium2`")

    monkeypatch.setattr("docqa.eval.scan.scan_pdf", no_scanner)
    t = tmp_path / "t.toml"
    code, stdout, _ = _main(
        monkeypatch, capsys, "--write-thresholds", "--thresholds", t, "--out", tmp_path / "c", "--no-progress"
    )
    assert code == 0 and f"wrote {t}" in stdout
    assert "scan: could not be evaluated: scanning needs pypdfium2" in stdout
    assert set(load_rendering_thresholds(t)) == {"pdf"}
    assert "# [scan.min] / [scan.max]: the bundled report typeset and scanned" in t.read_text(encoding="utf-8")
    code, stdout, _ = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "d", "--no-progress")
    assert code == 0 and "; ok (" in stdout and "scan: skipped" in stdout
