"""The cost of a conversation: ``POST /api/ask`` with a 6-turn history against
the same question without one, as a ratio measured in the same run.

    python bench/bench_conversation.py [--rounds 5] [--fake]

The questions are the follow-ups of the development dialogue set
(eval/data/dev_dialogues.jsonl, turns after the first); each is asked with six
earlier messages (three questions and DocQA's own answers to them: the turns
before it in its dialogue, preceded by turns of the dialogue before it) and
alone.  Rounds alternate the two so drift hits both alike.  Target: p50 ratio
<= 1.2.  Real model over the bundled report in a temporary DOCQA_HOME
(``--fake``: the fake embedder, a smoke run)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import build_engine, timed  # noqa: E402  (after the path set-up above)
from docqa.eval.metrics import percentile  # noqa: E402

DIALOGUES = ROOT / "eval" / "data" / "dev_dialogues.jsonl"
HISTORY_TURNS = 6


def cases(engine) -> list[tuple[str, list[dict]]]:
    """(follow-up question, six earlier messages with DocQA's own answers)."""
    said: list[dict] = []
    out = []
    for line in DIALOGUES.read_text(encoding="utf-8").splitlines():
        turns = [t["question"] for t in json.loads(line)["turns"]]
        for n, q in enumerate(turns):
            if n and len(said) >= HISTORY_TURNS:
                out.append((q, said[-HISTORY_TURNS:]))
            answer = engine.ask(q, history=said[-HISTORY_TURNS:]).answer
            said = said + [{"role": "user", "content": q}, {"role": "assistant", "content": answer}]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="times each question is asked per measurement")
    ap.add_argument("--fake", action="store_true", help="fake embedder (smoke run, not a benchmark)")
    args = ap.parse_args()

    import httpx

    from docqa.web.server import BackgroundServer, create_server

    engine, settings = build_engine(args.fake)
    items = cases(engine)
    with BackgroundServer(create_server(engine, settings), settings) as url:
        http = httpx.Client(timeout=120)

        def ask(item: tuple[str, list[dict]], with_history: bool) -> None:
            body = {"question": item[0], "history": item[1] if with_history else []}
            http.post(f"{url}/api/ask", json=body).raise_for_status()

        for item in items[:3]:  # warm up both paths
            ask(item, True), ask(item, False)
        alone: list[float] = []
        talk: list[float] = []
        for _ in range(args.rounds):
            alone += timed(lambda it: ask(it, False), items)
            talk += timed(lambda it: ask(it, True), items)
    base50, base95 = percentile(alone, 50), percentile(alone, 95)
    p50, p95 = percentile(talk, 50), percentile(talk, 95)
    print(
        f"POST /api/ask, {len(items)} follow-ups x {args.rounds} rounds "
        f"({'fake embedder' if args.fake else 'real model'}, bundled report, {os.cpu_count()} CPUs)"
    )
    print(f"{'request':34} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10} {'p95 ratio':>10}")
    print(f"{'the question alone':34} {base50:8.1f} {base95:8.1f} {1.0:10.2f} {1.0:10.2f}")
    print(f"{'with a 6-message history':34} {p50:8.1f} {p95:8.1f} {p50 / base50:10.2f} {p95 / base95:10.2f}")
    print(f"target: p50 ratio <= 1.2 -> {'met' if p50 / base50 <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
