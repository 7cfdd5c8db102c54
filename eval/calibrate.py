"""Calibrate the extractive answerer's refusals for an embedding model, on
development question sets — never on the evaluation set, which measures.

    python -m docqa.eval.calibrate [--questions FILE …] [--corpus PATH …] [--write]

For each question the engine's evidence is computed once; the abstention rule
(docqa/answer/abstain.py ``should_abstain``) is then replayed over a grid of
key-term coverage and passage-similarity thresholds, printing, for Chinese and
English questions separately, the abstention recall, the false refusal rate
and the share of answerable questions answered with all their facts.
``--write`` saves the best setting (highest abstention recall minus false
refusal rate) as the model's profile in ``$DOCQA_HOME/profiles/``, which
DocQA then uses for that model (docqa/answer/profile.py).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from pathlib import Path
from typing import Protocol, cast

from docqa.answer.abstain import Thresholds, should_abstain
from docqa.answer.profile import profile_name
from docqa.eval.metrics import facts_found
from docqa.eval.questions import load_questions

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SETS = [DATA / "dev_questions.jsonl", DATA / "calibration_questions.jsonl"]
COVERAGE_GRID = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
DENSE_QUANTILES = [0.0, 0.05, 0.1, 0.2, 0.3]  # of the answerable questions' best-passage cosines
OFF = Thresholds(min_coverage=-1, min_dense=None, min_dense_en=None, min_coverage_en=-1)


class _Thresholded(Protocol):
    """What the calibration reads of the engine's extractive answerer (the
    eval may not import docqa.answer.extractive): its refusal thresholds."""

    thresholds: Thresholds


def collect(engine, questions) -> list[dict]:
    """Evidence per question, with abstention switched off."""
    answerer = engine.answerers["extractive"]
    saved = answerer.thresholds
    answerer.thresholds = OFF
    rows = []
    try:
        for q in questions:
            analysed, hits = engine.inspect(q.question)
            ex = answerer.extract(analysed, hits)
            text = " ".join(s.text for s in ex.spans)
            rows.append(
                {"q": analysed, "hits": hits, "best": ex.best, "answerable": q.answerable,
                 "correct": q.answerable and all(facts_found(q.answers, text))}
            )  # fmt: skip
    finally:
        answerer.thresholds = saved
    return rows


def _rates(rows: list[dict], t: Thresholds) -> tuple[float, float, float]:
    """(abstention recall, false refusal rate, fact recall) with thresholds ``t``."""
    pos = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]

    def refuses(r):
        return should_abstain(r["q"], r["best"], r["hits"], t)[0]

    recall = sum(map(refuses, neg)) / max(1, len(neg))
    false = sum(map(refuses, pos)) / max(1, len(pos))
    facts = sum(r["correct"] and not refuses(r) for r in pos) / max(1, len(pos))
    return recall, false, facts


def _dense_grid(rows: list[dict]) -> list[float | None]:
    import numpy as np

    tops = [max(h.dense for h in r["hits"]) for r in rows if r["answerable"] and r["hits"]]
    return [None] + ([round(float(np.quantile(tops, q)), 3) for q in DENSE_QUANTILES] if tops else [])


def sweep(rows: list[dict], base: Thresholds) -> Thresholds:
    """Print the grid for each language; return the best thresholds found."""
    best = base
    for lang in ("zh", "en"):
        sub = [r for r in rows if r["q"].lang == lang and r["best"] is not None]
        n_pos = sum(r["answerable"] for r in sub)
        print(f"{lang}: {n_pos} answerable, {len(sub) - n_pos} unanswerable; "
              f"answered with all facts when not refusing: {sum(r['correct'] for r in sub)}")  # fmt: skip
        scored = []
        for dense in _dense_grid(sub):
            for c in COVERAGE_GRID:
                t = replace(best, min_coverage=c, min_dense=dense) if lang == "zh" else replace(
                    best, min_coverage_en=c, min_dense_en=dense)  # fmt: skip
                recall, false, facts = _rates(sub, t)
                scored.append((recall - false, -c, t))
                now = (c, dense) == (
                    (base.min_coverage, base.min_dense) if lang == "zh" else (base.min_coverage_en, base.min_dense_en)
                )
                print(f"  coverage >= {c:.2f}, dense >= {dense}: abstention recall {recall:.2f}, false refusals "
                      f"{false:.2f}, fact recall {facts:.2f}{'  <- current' if now else ''}")  # fmt: skip
        if scored:
            best = max(scored, key=lambda s: s[:2])[2]
    return best


def render_profile(model_id: str, t: Thresholds, sets: list[Path]) -> str:
    lines = [f"# Profile for embedding model {model_id!r}, written by `python -m docqa.eval.calibrate --write`",
             f"# from {', '.join(p.name for p in sets)}.", "", "[abstain]"]  # fmt: skip
    lines += [f"{k} = {v}" for k, v in asdict(t).items() if v is not None]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, nargs="+", default=DEFAULT_SETS)
    ap.add_argument("--corpus", type=Path, nargs="+", default=None, help="default: the bundled report")
    ap.add_argument("--write", action="store_true", help="save the best thresholds as the model's profile")
    args = ap.parse_args()

    from docqa.api import BUNDLED_CORPUS, Settings, make_embedder, make_engine
    from docqa.eval.corpus import ensure_index

    settings = Settings()
    embedder = make_embedder(settings)
    built = ensure_index(settings, [Path(p) for p in (args.corpus or [BUNDLED_CORPUS])], embedder)
    engine = make_engine(settings, embedder, index_dir=built.path)
    questions = [q for f in args.questions for q in load_questions(f)]
    extractive = cast(_Thresholded, engine.answerers["extractive"])
    best = sweep(collect(engine, questions), extractive.thresholds)
    if args.write:
        target = settings.home / "profiles" / profile_name(embedder.model_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_profile(embedder.model_id, best, args.questions), encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
