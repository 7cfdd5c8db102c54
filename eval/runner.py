"""Run a question set through the engine the UI uses and write the results.

``run_eval`` builds (or reuses) the corpus's own index, asks every question
with ``Engine.ask``, scores each answer, and writes ``predictions.jsonl``,
``summary.json`` and ``report.html`` into the output directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from docqa.api import DocQAError, Settings, chunker_settings
from docqa.eval import report_html
from docqa.eval.compare import Comparison, compare, load_run
from docqa.eval.corpus import ensure_index
from docqa.eval.metrics import Scores, llm_summary, risk_coverage, score_question, summarise
from docqa.eval.negatives import Exclusions
from docqa.eval.questions import EvalQuestion

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {"predictions": "predictions.jsonl", "summary": "summary.json", "report": "report.html"}


@dataclass
class Prediction:
    question: EvalQuestion
    answer: dict  # the answer contract, Answer.to_dict()
    scores: Scores

    def to_dict(self) -> dict:
        gold = self.question.to_dict()
        del gold["id"], gold["question"]
        return {"id": self.question.id, **self.answer, "gold": gold, "scores": self.scores.to_dict()}


@dataclass
class Source:
    """What is evaluated, for the record: a name and where it came from."""

    name: str
    detail: dict = field(default_factory=dict)


@dataclass
class EvalResult:
    predictions: list[Prediction]
    summary: dict
    out_dir: Path
    paths: dict[str, Path]
    comparison: Comparison | None = None


def ask_scored(engine, q: EvalQuestion, top_k: int, mode: str, **context) -> tuple[dict, Scores]:
    """Ask one question (``context``: ``exclude``, ``history``) and score its answer.  A
    refused one is asked once more in extractive mode with no threshold, to score what it
    would have answered (the risk–coverage curve); ``latency_ms`` is the first asking's."""
    t0 = time.perf_counter()
    answer = engine.ask(q.question, top_k=top_k, mode=mode, **context).to_dict()
    ms = (time.perf_counter() - t0) * 1e3
    would_be = None
    if answer["refused"] and answer.get("confidence") is not None:
        would_be = engine.ask(q.question, top_k=top_k, mode="extractive", min_confidence=0.0, **context).answer
    return answer, score_question(q.answers, q.evidence, q.answerable, q.type, answer, ms, would_be)


def ask_all(
    engine, questions: list[EvalQuestion], top_k: int, mode: str, on_answer: Callable[[], None] | None = None
) -> list[Prediction]:
    """Ask every question; an engine error stops the run, naming the question."""
    if not questions:
        raise DocQAError("the question set is empty; nothing to evaluate")
    engine.check(questions[0].question, top_k, mode)  # a bad mode or top_k fails once, before any work
    engine.warmup()  # the first question's latency is a question's, not the loading's
    exclusions = Exclusions.of(engine) if any(q.negative for q in questions) else None
    out = []
    for q in questions:
        exclude = exclusions.for_question(q) if exclusions is not None else frozenset()
        try:
            answer, scores = ask_scored(engine, q, top_k, mode, exclude=exclude)
        except DocQAError as exc:
            raise type(exc)(f"question {q.id}: {exc}") from exc
        out.append(Prediction(q, answer, scores))
        if on_answer:
            on_answer()
    return out


def _git_commit() -> str | None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()

    try:
        sha = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if dirty else sha


def _bar(total: int, desc: str, unit: str, show: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not show, dynamic_ncols=True)


def default_out_dir() -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("eval-out") / stamp
    n = 1
    while out.exists():
        n += 1
        out = Path("eval-out") / f"{stamp}-{n}"
    return out


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_eval(
    settings: Settings,
    questions: list[EvalQuestion],
    corpus: list[Path],
    out_dir: Path,
    question_source: Source,
    corpus_source: Source,
    mode: str | None = None,
    top_k: int | None = None,
    baseline: Path | None = None,
    embedder=None,
    rebuild_index: bool = False,
    show_progress: bool = True,
    gate_thresholds: dict | None = None,
) -> EvalResult:
    """Evaluate ``questions`` over ``corpus`` and write the three output files."""
    from docqa.api import make_embedder, make_engine
    from docqa.eval.gate import check

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    before = load_run(baseline) if baseline is not None else None  # fail on a bad baseline before any work
    mode = mode or settings.mode
    top_k = settings.top_k if top_k is None else top_k
    embedder = embedder or make_embedder(settings)
    bars: dict = {}

    def on_plan(n: int) -> None:
        if n:
            bars["index"] = _bar(n, "indexing", "chunk", show_progress)

    try:
        built = ensure_index(
            settings,
            corpus,
            embedder,
            rebuild=rebuild_index,
            on_plan=on_plan,
            progress=lambda k: bars["index"].update(k) if "index" in bars else None,
        )
    finally:
        if "index" in bars:
            bars["index"].close()
    t1 = time.perf_counter()
    engine = make_engine(settings, embedder, index_dir=built.path)
    bar = _bar(len(questions), "asking", "question", show_progress)
    try:
        predictions = ask_all(engine, questions, top_k, mode, on_answer=lambda: bar.update(1))
    finally:
        bar.close()
    t2 = time.perf_counter()

    info = engine.info()
    summary = summarise([p.scores for p in predictions])
    summary["risk_coverage"] = risk_coverage([p.scores for p in predictions])
    llm = llm_summary([p.answer for p in predictions])
    if llm is not None:
        summary["llm"] = llm
    summary["config"] = {
        "model": info["model"],
        "embedder": getattr(embedder, "model_id", None),
        "chunker": chunker_settings(settings.chunk_size, settings.chunk_overlap),
        "mode": mode,
        "top_k": top_k,
        "min_confidence": engine.min_confidence,  # None: the answer selector's trained threshold
        "questions": {"name": question_source.name, **question_source.detail},
        "corpus": {
            "name": corpus_source.name,
            **corpus_source.detail,
            "documents": info["documents"],
            "chunks": info["chunks"],
            "index_dir": str(built.path),
            "index_key": built.key[:16],
            "index_reused": not built.built,
        },
        "git_commit": _git_commit(),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [p.to_dict() for p in predictions]
    cmp = (
        compare(baseline, before[0], before[1], summary, {r["id"]: r for r in rows})
        if baseline is not None and before
        else None
    )
    gate = check(summary, gate_thresholds) if gate_thresholds else None
    summary["run"] = {
        "started_at": started.isoformat(timespec="seconds"),
        "index_s": round(t1 - t0, 1),
        "ask_s": round(t2 - t1, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    paths = {name: out_dir / file for name, file in OUTPUTS.items()}
    write_jsonl(paths["predictions"], rows)
    paths["summary"].write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["report"].write_text(report_html.render(summary, rows, gate, cmp), encoding="utf-8")
    return EvalResult(predictions, summary, out_dir, paths, cmp)


def file_detail(path: Path) -> dict:
    """Path and content hash of an input file, for the record."""
    return {"path": str(Path(path).resolve()), "sha256": sha256(Path(path).read_bytes()).hexdigest()[:16]}
