"""``docqa eval`` / ``python -m eval``: parse flags, run the eval, print the
figures and the paths written.  Heavy imports happen inside the command."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

BENCHMARKS = ("cmrc2018",)


def _usage(msg: str) -> Exception:
    from docqa.errors import BadRequest

    return BadRequest(msg)


def eval_command(
    questions: Annotated[Optional[Path], typer.Option("--questions", help="Question set, JSONL (default: the bundled report's set).")] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Files or directories to answer from (default: the bundled report). Repeatable.")] = None,
    more_corpus: Annotated[Optional[list[Path]], typer.Argument(metavar="PATH", show_default=False, help="More corpus paths, so `--corpus a b c` works.")] = None,
    benchmark: Annotated[Optional[str], typer.Option("--benchmark", help="External benchmark instead of a question file: cmrc2018.")] = None,
    benchmark_path: Annotated[Optional[Path], typer.Option("--benchmark-path", help="Benchmark file (default: ../shared/benchmarks/cmrc2018/cmrc2018_dev.json).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Ask a deterministic sample of N questions.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Output directory (default: eval-out/<timestamp>).")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="Answer mode: extractive or llm (default: DOCQA_MODE).")] = None,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Passages to retrieve per question (default: DOCQA_TOP_K).")] = None,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help="Output directory of an earlier run to compare with.")] = None,
    gate: Annotated[bool, typer.Option("--gate", help="Run the bundled set; exit 1 if a figure is below eval/thresholds.toml.")] = False,
    write_thresholds: Annotated[bool, typer.Option("--write-thresholds", help="Run the bundled set and rewrite the thresholds file from it.")] = False,
    thresholds: Annotated[Optional[Path], typer.Option("--thresholds", help="Thresholds file (default: eval/thresholds.toml).")] = None,
    margin: Annotated[float, typer.Option("--margin", min=0.0, max=0.5, help="With --write-thresholds: margin below measured rates.")] = 0.02,
    rebuild_index: Annotated[bool, typer.Option("--rebuild-index", help="Build the eval index again even if a cached one matches.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars on stderr.")] = True,
) -> None:
    """Evaluate answers on a question set: retrieval, facts, citations, refusals."""
    from docqa.settings import BUNDLED_CORPUS, Settings
    from eval import cmrc, gate as gating, table
    from eval.questions import BUNDLED_QUESTIONS, load_questions, sample
    from eval.runner import Source, default_out_dir, file_detail, run_eval

    if more_corpus and not corpus:
        raise _usage(f"unexpected argument {more_corpus[0]}; corpus paths go after --corpus")
    corpus = list(corpus or []) + list(more_corpus or [])
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise _usage(f"unknown benchmark {benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    if benchmark and (questions or corpus):
        raise _usage("--benchmark brings its own questions and corpus; drop --questions and --corpus")
    if benchmark_path and not benchmark:
        raise _usage("--benchmark-path needs --benchmark cmrc2018")
    if gate and write_thresholds:
        raise _usage("use either --gate or --write-thresholds")
    if (gate or write_thresholds) and (questions or corpus or benchmark or limit):
        raise _usage("--gate and --write-thresholds always run the whole bundled set; drop --questions, --corpus, --benchmark and --limit")

    settings = Settings()
    if benchmark:
        bench = cmrc.load(settings, benchmark_path)
        qs = sample(bench.questions, limit)
        q_source = Source(bench.name, {"path": str(bench.source), "total": len(bench.questions), "limit": limit})
        paths = [bench.corpus_dir]
        c_source = Source(f"{bench.name} ({bench.passages} passages)", {"paths": [str(bench.corpus_dir)]})
    else:
        qfile = questions or BUNDLED_QUESTIONS
        qs = sample(load_questions(qfile), limit)
        q_source = Source(Path(qfile).stem, {**file_detail(qfile), "limit": limit})
        paths = corpus or [BUNDLED_CORPUS]
        name = "bundled report" if not corpus else ", ".join(p.name for p in corpus)
        c_source = Source(name, {"paths": [str(p.resolve()) for p in paths]})

    # The gate's thresholds are shown in the report of any full run of the bundled set.
    threshold_file = thresholds or gating.THRESHOLDS
    bundled_run = not (questions or corpus or benchmark or limit)
    limits = None
    if gate or (bundled_run and threshold_file.exists()):
        limits = gating.load_thresholds(threshold_file)
    result = run_eval(
        settings, qs, paths, out or default_out_dir(), q_source, c_source,
        mode=mode, top_k=top_k, baseline=baseline, rebuild_index=rebuild_index, show_progress=progress,
        gate_thresholds=limits,
    )  # fmt: skip

    s = result.summary
    typer.echo(f"{q_source.name}: {s['questions']} questions over {c_source.name}; model {s['config']['model']}, "
               f"mode {s['config']['mode']}, top_k {s['config']['top_k']}; {s['run']['wall_s']} s")
    typer.echo("")
    typer.echo(table.summary_table(s))
    typer.echo("")
    typer.echo(table.type_table(s))
    if result.comparison:
        typer.echo("")
        typer.echo(f"compared with {baseline}:")
        typer.echo(table.comparison_table(result.comparison))
    typer.echo("")
    for path in result.paths.values():
        typer.echo(f"wrote {path}")
    if write_thresholds:
        new = gating.thresholds_from(s, rate_margin=margin)
        threshold_file.write_text(gating.render_thresholds(s, new, margin, gating.CHARS_MARGIN), encoding="utf-8")
        typer.echo(f"wrote {threshold_file}")
    if gate:
        lines = gating.check(s, limits)
        typer.echo("")
        typer.echo(table.gate_table(lines))
        failed = [g for g in lines if not g.ok]
        if failed:
            names = ", ".join(g.name for g in failed)
            raise gating.GateFailed(f"eval gate FAILED: {names} outside the thresholds in {threshold_file}")
        typer.echo("eval gate passed")
