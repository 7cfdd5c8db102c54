"""Calibrate the extractive answerer's abstention on development question sets.

    python -m docqa.eval.calibrate [--questions FILE …] [--corpus PATH …]

For each question the engine's evidence is computed once; the abstention rule
(docqa/answer/abstain.py ``should_abstain``) is then replayed with a range of
coverage thresholds, printing for Chinese and English questions separately
the abstention recall, the false refusal rate and the share of answerable
questions answered with all their facts.  The default sets are the
development and calibration sets — never the evaluation set, which measures.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from docqa.answer.abstain import Thresholds, should_abstain
from docqa.eval.metrics import facts_found
from docqa.eval.questions import load_questions

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SETS = [DATA / "dev_questions.jsonl", DATA / "calibration_questions.jsonl"]
GRID = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]


def collect(engine, questions) -> list[dict]:
    """Evidence per question, with abstention switched off."""
    answerer = engine.answerer
    saved = answerer.thresholds
    answerer.thresholds = Thresholds(min_coverage=-1, min_dense=-1, min_dense_en=-1, min_coverage_en=-1)
    rows = []
    try:
        for q in questions:
            analysed, hits = engine.inspect(q.question)
            ex = answerer.extract(analysed, hits)
            text = " ".join(s.text for s in ex.spans)
            rows.append(
                {"q": analysed, "hits": hits, "best": ex.best, "answerable": q.answerable,
                 "correct": q.answerable and all(facts_found(q.answers, text))}
            )
    finally:
        answerer.thresholds = saved
    return rows


def sweep(rows: list[dict], base: Thresholds) -> None:
    for lang in ("zh", "en"):
        sub = [r for r in rows if r["q"].lang == lang and r["best"] is not None]
        pos = [r for r in sub if r["answerable"]]
        neg = [r for r in sub if not r["answerable"]]
        print(f"{lang}: {len(pos)} answerable, {len(neg)} unanswerable; "
              f"answered with all facts when not refusing: {sum(r['correct'] for r in pos)}")
        for c in GRID:
            t = replace(base, min_coverage=c) if lang == "zh" else replace(base, min_coverage_en=c)

            def refuses(r):
                return should_abstain(r["q"], r["best"], r["hits"], t)[0]

            recall = sum(map(refuses, neg)) / max(1, len(neg))
            false = sum(map(refuses, pos)) / max(1, len(pos))
            facts = sum(r["correct"] and not refuses(r) for r in pos) / max(1, len(pos))
            mark = "  <- current" if abs(c - (base.min_coverage if lang == "zh" else base.min_coverage_en)) < 1e-9 else ""
            print(f"  coverage >= {c:.2f}: abstention recall {recall:.2f}, false refusals {false:.2f}, "
                  f"fact recall {facts:.2f}{mark}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, nargs="+", default=DEFAULT_SETS)
    ap.add_argument("--corpus", type=Path, nargs="+", default=None, help="default: the bundled report")
    args = ap.parse_args()

    from docqa.factory import make_embedder, make_engine
    from docqa.settings import BUNDLED_CORPUS, Settings
    from docqa.eval.corpus import ensure_index

    settings = Settings()
    embedder = make_embedder(settings)
    built = ensure_index(settings, [Path(p) for p in (args.corpus or [BUNDLED_CORPUS])], embedder)
    engine = make_engine(settings, embedder, index_dir=built.path)
    questions = [q for f in args.questions for q in load_questions(f)]
    sweep(collect(engine, questions), engine.answerer.thresholds)


if __name__ == "__main__":
    main()
