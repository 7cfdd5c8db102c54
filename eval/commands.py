"""``docqa eval`` (and ``python -m docqa.eval``): parse flags, run the eval, print the
figures and the paths written.  Heavy imports happen inside the command.

``--gate`` and ``--write-thresholds`` also run the bundled set over the bundled
report typeset as a PDF and as a scan of it (``typeset.py``), one line each, and
the bundled dialogue set (``dialogues.py``) when there is one.  ``--dialogues
FILE`` runs a dialogue set instead of a question set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

BENCHMARKS = ("cmrc2018",)

QuestionsOpt = Annotated[Path | None, typer.Option("--questions", help="Question set, JSONL (default: the bundled set).")]
DialoguesOpt = Annotated[
    Path | None,
    typer.Option(
        "--dialogues",
        help="Dialogue set, JSONL, instead of a question set: each conversation asked turn by turn "
        "(the bundled one, eval/data/dialogues.jsonl, is also run by --gate).",
    ),
]
CorpusOpt = Annotated[
    list[Path] | None,
    typer.Option("--corpus", help="Files or directories to answer from (default: the bundled report)."),
]
MoreCorpusArg = Annotated[
    list[Path] | None,
    typer.Argument(metavar="PATH", show_default=False, help="More corpus paths, so `--corpus a b c` works."),
]
BenchmarkOpt = Annotated[str | None, typer.Option("--benchmark", help="Benchmark instead of a question set: cmrc2018.")]
BenchmarkPathOpt = Annotated[
    Path | None,
    typer.Option("--benchmark-path", help="Benchmark file (default: ../shared/benchmarks/cmrc2018/cmrc2018_dev.json)."),
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Ask a deterministic sample of N questions.")]
NegativesOpt = Annotated[
    bool,
    typer.Option(
        "--negatives",
        help="Also ask every answerable question without its evidence passages (left out at search time); "
        "each such negative must be refused.",
    ),
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Output directory (default: eval-out/<timestamp>).")]
ModeOpt = Annotated[str | None, typer.Option("--mode", help="Answer mode: extractive or llm (default: DOCQA_MODE).")]
TopKOpt = Annotated[int | None, typer.Option("--top-k", help="Passages retrieved per question (default: DOCQA_TOP_K).")]
BaselineOpt = Annotated[Path | None, typer.Option("--baseline", help="Output directory of an earlier run.")]
GateOpt = Annotated[bool, typer.Option("--gate", help="Run the bundled set; exit 1 if a figure misses its threshold.")]
WriteOpt = Annotated[bool, typer.Option("--write-thresholds", help="Run the bundled set; rewrite the thresholds from it.")]
ThresholdsOpt = Annotated[Path | None, typer.Option("--thresholds", help="Default: eval/thresholds.toml.")]
MarginOpt = Annotated[float, typer.Option("--margin", min=0.0, max=0.5, help="--write-thresholds: margin below the rates.")]
RebuildOpt = Annotated[bool, typer.Option("--rebuild-index", help="Rebuild the eval index even if a cached one matches.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars on stderr.")]


def _usage(msg: str) -> Exception:
    from docqa.errors import BadRequest

    return BadRequest(msg)


def _check_flags(questions, corpus, more_corpus, benchmark, benchmark_path, limit, gate, write_thresholds) -> None:
    if more_corpus and not corpus:
        raise _usage(f"unexpected argument {more_corpus[0]}; corpus paths go after --corpus")
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise _usage(f"unknown benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    if benchmark and corpus:
        raise _usage("--benchmark brings its own corpus; drop --corpus (--questions asks other questions of it)")
    if benchmark_path and not benchmark:
        raise _usage("--benchmark-path needs --benchmark cmrc2018")
    if gate and write_thresholds:
        raise _usage("use either --gate or --write-thresholds")
    if (gate or write_thresholds) and (questions or corpus or benchmark or limit):
        raise _usage(
            "--gate and --write-thresholds always run the whole bundled set; "
            "drop --questions, --corpus, --benchmark and --limit"
        )


def _check_dialogue_flags(questions, benchmark, benchmark_path, limit, negatives, baseline, gate, write_thresholds) -> None:
    given = {
        "--questions": questions, "--benchmark": benchmark, "--benchmark-path": benchmark_path, "--limit": limit,
        "--negatives": negatives, "--baseline": baseline, "--gate": gate, "--write-thresholds": write_thresholds,
    }  # fmt: skip
    clash = [flag for flag, value in given.items() if value]
    if clash:
        raise _usage(
            f"--dialogues runs a dialogue set on its own; drop {', '.join(clash)} "
            "(--gate and --write-thresholds run the bundled dialogue set themselves)"
        )


def _bundled_dialogues(gate: bool, threshold_file: Path) -> tuple[list | None, dict | None, Path, str]:
    """The bundled dialogue set for --gate / --write-thresholds, validated before any
    work: (dialogues, the gate's [dialogues] thresholds, file, why it is skipped or "")."""
    from docqa.eval import gate as gating
    from docqa.eval.dialogues import BUNDLED_DIALOGUES, load_dialogues

    if not BUNDLED_DIALOGUES.is_file():
        return None, None, BUNDLED_DIALOGUES, f"dialogues: skipped; no dialogue set at {BUNDLED_DIALOGUES}"
    limits = gating.load_dialogue_thresholds(threshold_file) if gate else None
    if gate and limits is None:
        why = "dialogues: skipped; no [dialogues] thresholds yet (measure them with --write-thresholds)"
        return None, None, BUNDLED_DIALOGUES, why
    return load_dialogues(BUNDLED_DIALOGUES), limits, BUNDLED_DIALOGUES, ""


def _print_dialogues(summary: dict, paths: dict[str, Path], corpus_name: str) -> None:
    from docqa.eval.dialogues import failure_lines, summary_lines

    cfg = summary["config"]
    typer.echo(
        f"{cfg['dialogues']['name']}: {summary['dialogues']} dialogues, {summary['turns']} turns over {corpus_name}; "
        f"model {cfg['model']}, mode {cfg['mode']}, top_k {cfg['top_k']}; {summary['run']['wall_s']} s"
    )
    typer.echo("\n" + "\n".join(summary_lines(summary)))
    if summary["failures"]:
        typer.echo(f"\nwrong turns, in {len(summary['failures'])} dialogues:")
        typer.echo("\n".join(failure_lines(summary)))
    typer.echo("")
    for path in paths.values():
        typer.echo(f"wrote {path}")


def _what_to_run(settings, questions, corpus, benchmark, benchmark_path, limit):
    """(questions, corpus paths, question source, corpus source)."""
    from docqa.eval import cmrc
    from docqa.eval.questions import BUNDLED_QUESTIONS, load_questions, sample
    from docqa.eval.runner import Source, file_detail
    from docqa.settings import BUNDLED_CORPUS

    if benchmark:  # its corpus; its questions, or a file's asked of it (translations, say)
        bench = cmrc.load(settings, benchmark_path)
        asked = load_questions(questions) if questions else bench.questions
        detail = {"path": str(questions or bench.source), "total": len(asked), "limit": limit}
        return (
            sample(asked, limit),
            [bench.corpus_dir],
            Source(Path(questions).stem if questions else bench.name, detail),
            Source(f"{bench.name} ({bench.passages} passages)", {"paths": [str(bench.corpus_dir)]}),
        )
    qfile = questions or BUNDLED_QUESTIONS
    paths = corpus or [BUNDLED_CORPUS]
    corpus_name = ", ".join(p.name for p in corpus) if corpus else "bundled report"
    return (
        sample(load_questions(qfile), limit),
        paths,
        Source(Path(qfile).stem, {**file_detail(qfile), "limit": limit}),
        Source(corpus_name, {"paths": [str(p.resolve()) for p in paths]}),
    )


def _print_result(result, question_name: str, corpus_name: str, baseline: Path | None) -> None:
    from docqa.eval import table

    s = result.summary
    cfg = s["config"]
    typer.echo(
        f"{question_name}: {s['questions']} questions over {corpus_name}; model {cfg['model']}, "
        f"mode {cfg['mode']}, top_k {cfg['top_k']}; {s['run']['wall_s']} s"
    )
    typer.echo("\n" + table.summary_table(s))
    if s.get("llm"):
        typer.echo("\nllm: " + ", ".join(f"{k} {v}" for k, v in s["llm"].items()))
    rc = s.get("risk_coverage")
    if rc and rc["operating_point"]["accuracy"] is not None:
        op = rc["operating_point"]
        typer.echo(f"\nrisk–coverage operating point: {op['coverage']:.3f} answered, {op['accuracy']:.3f} of them right")
    typer.echo("\n" + table.type_table(s))
    if result.comparison:
        typer.echo(f"\ncompared with {baseline}:")
        typer.echo(table.comparison_table(result.comparison))
    typer.echo("")
    for path in result.paths.values():
        typer.echo(f"wrote {path}")


def _rendering_line(name: str, summary: dict, text: dict) -> str:
    """A rendering's figures beside the plain text's."""
    from docqa.eval.metrics import metric
    from docqa.eval.table import fmt

    parts = []
    for figure in ("answer.fact_recall", "abstention.recall", "answer.median_chars"):
        section, key = figure.split(".", 1)
        parts.append(f"{figure} {fmt(metric(summary, section, key), figure)} (text {fmt(metric(text, section, key), figure)})")
    return f"{name}: {summary['questions']} questions; " + ", ".join(parts)


def _run_renderings(corpus: list[Path], home: Path, out_dir: Path, text_summary: dict, limits: dict, gate: bool, run) -> dict:
    """The question set over each rendering of ``corpus`` that has thresholds (every
    one when writing them), ``run(corpus_dir, out_dir, source, thresholds)``, a line
    printed for each.  {name: (summary, gate lines outside their thresholds)};
    (None, None) for a rendering that could not be evaluated."""
    from docqa.api import DocQAError
    from docqa.eval import gate as gating
    from docqa.eval.runner import Source
    from docqa.eval.table import fmt
    from docqa.eval.typeset import corpus_rendering

    done: dict = {}
    for name, what in gating.RENDERINGS.items():
        if gate and name not in limits:
            typer.echo(f"{name}: skipped; no [{name}.min] / [{name}.max] thresholds yet (measure them with --write-thresholds)")
            continue
        try:
            corpus_dir = corpus_rendering(corpus, home / "eval-corpora", name)
            source = Source(f"bundled report {what}", {"paths": [str(corpus_dir)], "rendering": name})
            summary = run(corpus_dir, out_dir / name, source, limits.get(name)).summary
        except DocQAError as exc:
            typer.echo(f"{name}: could not be evaluated: {exc}")
            done[name] = (None, None)
            continue
        failed = [g for g in gating.check(summary, limits[name]) if not g.ok] if gate else []
        verdict = ""
        if gate:
            outside = ", ".join(
                f"{g.name} {fmt(g.value, g.name)} (threshold {g.op} {fmt(g.threshold, g.name)})" for g in failed
            )
            verdict = f"; FAILED {outside}" if failed else "; ok"
        typer.echo(f"{_rendering_line(name, summary, text_summary)}{verdict} ({out_dir / name})")
        done[name] = (summary, failed)
    return done


def eval_command(
    questions: QuestionsOpt = None,
    dialogues: DialoguesOpt = None,
    corpus: CorpusOpt = None,
    more_corpus: MoreCorpusArg = None,
    benchmark: BenchmarkOpt = None,
    benchmark_path: BenchmarkPathOpt = None,
    limit: LimitOpt = None,
    negatives: NegativesOpt = False,
    out: OutOpt = None,
    mode: ModeOpt = None,
    top_k: TopKOpt = None,
    baseline: BaselineOpt = None,
    gate: GateOpt = False,
    write_thresholds: WriteOpt = False,
    thresholds: ThresholdsOpt = None,
    margin: MarginOpt = 0.02,
    rebuild_index: RebuildOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Evaluate answers on a question set (or a dialogue set): retrieval, facts, citations, refusals."""
    from docqa.eval import gate as gating
    from docqa.eval import table
    from docqa.eval.dialogues import load_dialogues, run_dialogues
    from docqa.eval.runner import Source, default_out_dir, file_detail, run_eval
    from docqa.settings import BUNDLED_CORPUS, Settings

    if dialogues is not None:
        _check_dialogue_flags(questions, benchmark, benchmark_path, limit, negatives, baseline, gate, write_thresholds)
    _check_flags(questions, corpus, more_corpus, benchmark, benchmark_path, limit, gate, write_thresholds)
    if negatives and (gate or write_thresholds):
        raise _usage("--gate and --write-thresholds run the bundled set as it is; drop --negatives")
    corpus = list(corpus or []) + list(more_corpus or [])
    settings = Settings()
    if dialogues is not None:  # a dialogue set instead of a question set
        paths = corpus or [BUNDLED_CORPUS]
        corpus_name = ", ".join(p.name for p in corpus) if corpus else "bundled report"
        summary, written = run_dialogues(
            settings, load_dialogues(dialogues), paths, out or default_out_dir(),
            Source(dialogues.stem, file_detail(dialogues)), Source(corpus_name, {"paths": [str(p.resolve()) for p in paths]}),
            mode=mode, top_k=top_k, rebuild_index=rebuild_index, show_progress=progress,
        )  # fmt: skip
        _print_dialogues(summary, written, corpus_name)
        return
    qs, paths, q_source, c_source = _what_to_run(settings, questions, corpus, benchmark, benchmark_path, limit)
    if negatives:
        qs = qs + [q.as_negative() for q in qs if q.answerable]
        q_source.detail["negatives"] = True

    # The gate's thresholds are shown in the report of any full run of the bundled set.
    threshold_file = thresholds or gating.THRESHOLDS
    bundled_run = not (questions or corpus or benchmark or limit or negatives)
    limits = gating.load_thresholds(threshold_file) if gate or (bundled_run and threshold_file.exists()) else None
    rendering_limits = gating.load_rendering_thresholds(threshold_file) if gate else {}
    dialogue_set, dialogue_limits, dialogue_file, dialogue_skip = (
        _bundled_dialogues(gate, threshold_file) if gate or write_thresholds else (None, None, None, "")
    )
    out_dir = out or default_out_dir()

    def run(corpus_paths, run_out, corpus_source, gate_thresholds, baseline=None):
        return run_eval(
            settings, qs, corpus_paths, run_out, q_source, corpus_source,
            mode=mode, top_k=top_k, baseline=baseline, rebuild_index=rebuild_index, show_progress=progress,
            gate_thresholds=gate_thresholds,
        )  # fmt: skip

    result = run(paths, out_dir, c_source, limits, baseline)
    _print_result(result, q_source.name, c_source.name, baseline)
    if not (gate or write_thresholds):
        return
    failed = []
    if gate:
        assert limits is not None  # loaded above whenever gate is set
        lines = gating.check(result.summary, limits)
        typer.echo("\n" + table.gate_table(lines))
        failed = [g.name for g in lines if not g.ok]

    # The bundled dialogue set over the same (cached) index.
    typer.echo("")
    dialogue_summary = None
    if dialogue_set is None or dialogue_file is None:
        typer.echo(dialogue_skip)
    else:
        dialogue_summary, written = run_dialogues(
            settings, dialogue_set, paths, out_dir / "dialogues", Source(dialogue_file.stem, file_detail(dialogue_file)),
            c_source, mode=mode, top_k=top_k, show_progress=progress, gate_thresholds=dialogue_limits,
        )  # fmt: skip
        _print_dialogues(dialogue_summary, written, c_source.name)
        if gate:
            assert dialogue_limits is not None  # loaded whenever the set runs in the gate
            lines = gating.check_dialogues(dialogue_summary, dialogue_limits)
            typer.echo("\n" + table.gate_table(lines))
            failed += [g.name for g in lines if not g.ok]

    # The same questions over the bundled report typeset as a PDF and scanned.
    typer.echo("")
    renderings = _run_renderings(
        paths, settings.home, out_dir, result.summary, rendering_limits, gate,
        lambda corpus_dir, run_out, source, lim: run([corpus_dir], run_out, source, lim),
    )  # fmt: skip
    if write_thresholds:
        new = gating.thresholds_from(result.summary, rate_margin=margin)
        measured = {
            name: (summary, gating.thresholds_from(summary, rate_margin=margin))
            for name, (summary, _) in renderings.items()
            if summary is not None
        }
        dialogue_measured = (
            (dialogue_summary, gating.dialogue_thresholds_from(dialogue_summary, rate_margin=margin))
            if dialogue_summary is not None
            else None
        )
        text = gating.render_thresholds(result.summary, new, margin, gating.CHARS_MARGIN, measured, dialogue_measured)
        threshold_file.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {threshold_file}")
    if gate:
        failed += [f"{name} {g.name}" for name, (_, lines) in renderings.items() for g in lines or []]
        missing = [name for name, (summary, _) in renderings.items() if summary is None]
        if failed or missing:
            why = [f"{', '.join(failed)} outside the thresholds in {threshold_file}"] if failed else []
            why += [f"{' and '.join(missing)} could not be evaluated"] if missing else []
            raise gating.GateFailed(f"eval gate FAILED: {'; '.join(why)}")
        typer.echo("eval gate passed")
