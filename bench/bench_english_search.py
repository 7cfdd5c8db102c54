"""The cost of searching an English question in Chinese: ``Engine.ask`` with
``QuestionAnalyser.search_query`` (dictionary translations and pinyin names as
BM25 terms, names in the dense query) against the same question searched as it
is written, as a ratio measured in the same run.

    python bench/bench_english_search.py [--rounds 5] [--fake]

The questions are the English ones of the development sets
(eval/data/dev_questions.jsonl, calibration_questions.jsonl), over the bundled
report; the Chinese ones are timed the same way as a control (their search is
the same either way, so their ratio shows the noise).  Rounds alternate the two
so drift hits both alike.  Real model in a temporary DOCQA_HOME (``--fake``:
the fake embedder, a smoke run)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import build_engine, timed  # noqa: E402  (after the path set-up above)
from docqa import lang  # noqa: E402
from docqa.records import SearchQuery  # noqa: E402

SETS = [ROOT / "eval" / "data" / name for name in ("dev_questions.jsonl", "calibration_questions.jsonl")]


def questions() -> tuple[list[str], list[str]]:
    """(English questions, Chinese questions) of the development sets."""
    asked = [json.loads(line)["question"] for path in SETS for line in path.read_text(encoding="utf-8").splitlines()]
    return [q for q in asked if lang.detect(q) == "en"], [q for q in asked if lang.detect(q) != "en"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="alternating measurements of each kind")
    ap.add_argument("--fake", action="store_true", help="fake embedder (smoke run, not a benchmark)")
    args = ap.parse_args()

    engine, _ = build_engine(args.fake)
    engine.warmup()
    english, chinese = questions()
    searched = engine.analyser.search_query
    as_written = SearchQuery  # the question's own words and text

    def ask(q: str) -> None:
        engine.ask(q)

    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for how, fn in (("in Chinese", searched), ("as written", as_written)):
            engine.analyser.search_query = fn  # type: ignore[method-assign]
            for kind, qs in (("English", english), ("Chinese", chinese)):
                times.setdefault((kind, how), []).extend(timed(ask, qs))
    engine.analyser.search_query = searched  # type: ignore[method-assign]
    print(f"{len(english)} English and {len(chinese)} Chinese questions, {args.rounds} rounds, `Engine.ask` p50:")
    for kind in ("English", "Chinese"):
        new, old = (statistics.median(times[(kind, how)]) for how in ("in Chinese", "as written"))
        print(f"  {kind:8s} searched in Chinese {new:6.1f} ms ÷ as written {old:6.1f} ms = {new / old:.2f}")


if __name__ == "__main__":
    main()
