"""Running for a portal: hot reload, back-pressure and rate limits, measured.

    python bench/bench_portal.py [--clients 100] [--fake]

1. Reload latency: a document is ingested while the server runs; the time
   from the end of the ingest to the first answer from the new generation,
   printed with the time to answer one question (same run) as the baseline.
2. 100 clients asking 3 questions each throughout a reload: errors, and how
   many 503s the bounded answer queue gave (each asked again after its
   Retry-After, as a polite client does).  Run twice: with a queue that holds every client, and with the
   default queue.
3. An abusive client (8 threads as fast as they can, from one address, in
   another process) beside a polite one
   (one question every 2.5 s, from another): the polite client's p50 with the
   abuser, as a ratio to its p50 alone; the abuser's 429s.  With the default
   rate limit, and with rate limiting off.

Real model over the bundled report in a temporary DOCQA_HOME (``--fake``: the
fake embedder, a smoke run).  Client addresses come from X-Forwarded-For,
which the server trusts from 127.0.0.1 (its default)."""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import QUESTIONS, build_engine  # noqa: E402  (after the path set-up above)

NEW_DOC = "# 园区快讯\n\n## 人才\n\n星河科技园2025年引进博士后研究人员75名。\n"
NEW_Q = "星河科技园2025年引进了多少名博士后研究人员？"
POLITE_EVERY = 2.5  # seconds between the polite client's questions


def served(engine, settings, **overrides):
    """A server over the live index (a fresh engine, following new generations)."""
    from docqa.factory import make_engine
    from docqa.web.commands import _live
    from docqa.web.server import BackgroundServer, create_server

    settings = settings.model_copy(update=overrides)
    live = _live(make_engine(settings, engine.embedder), settings, engine.embedder, settings.index_path)
    return live, BackgroundServer(create_server(live, settings), settings)


def reload_latency(engine, settings, corpus: Path) -> tuple[float, float]:
    import httpx

    from docqa.factory import make_ingestor

    live, server = served(engine, settings, rate_limit="")
    with server as url, httpx.Client(timeout=60) as http:
        t0 = time.perf_counter()
        http.post(f"{url}/api/ask", json={"question": QUESTIONS[0]})
        one_answer = time.perf_counter() - t0
        (corpus / "news.md").write_text(NEW_DOC, encoding="utf-8")
        make_ingestor(settings, engine.embedder).ingest([corpus])
        done = time.perf_counter()
        while "75" not in http.post(f"{url}/api/ask", json={"question": NEW_Q}).json()["answer"]:
            if time.perf_counter() - done > 60:
                raise SystemExit("the new generation was not served within 60 s")
            time.sleep(0.05)
        latency = time.perf_counter() - done
    live.stop()
    (corpus / "news.md").unlink()
    make_ingestor(settings, engine.embedder).ingest([corpus])
    return latency, one_answer


def clients_through_a_reload(engine, settings, corpus: Path, clients: int, queue_size: int | None) -> dict:
    import httpx

    from docqa.factory import make_ingestor

    overrides = {"rate_limit": ""} | ({"queue_size": queue_size} if queue_size is not None else {})
    live, server = served(engine, settings, **overrides)
    statuses: Counter = Counter()
    start = threading.Barrier(clients + 1)
    switched = threading.Event()
    with server as url:

        def client(i: int) -> None:
            """Three answers (a 503 is asked again after its Retry-After, as a
            polite client does), and on until the new generation is live."""
            with httpx.Client(timeout=120) as http:
                start.wait()
                answered = 0
                while answered < 3 or not switched.is_set():
                    r = http.post(f"{url}/api/ask", json={"question": QUESTIONS[(i + answered) % len(QUESTIONS)]})
                    statuses[r.status_code] += 1
                    if r.status_code == 503:
                        time.sleep(float(r.headers.get("Retry-After", "1")))
                    answered += r.status_code == 200

        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(client, i) for i in range(clients)]
            start.wait()
            time.sleep(0.3)
            (corpus / "news.md").write_text(NEW_DOC, encoding="utf-8")
            make_ingestor(settings, engine.embedder).ingest([corpus])
            while live.reloads == 0:
                time.sleep(0.02)
            switched.set()
            for f in futures:
                f.result()
        reloads = live.reloads
    live.stop()
    (corpus / "news.md").unlink()
    make_ingestor(settings, engine.embedder).ingest([corpus])
    return {"statuses": dict(statuses), "reloads": reloads}


ABUSER = """
import collections, json, sys, threading, httpx
url, questions = sys.argv[1], json.loads(sys.argv[2])
counts, stop = collections.Counter(), threading.Event()
def run():
    with httpx.Client(timeout=120, headers={"X-Forwarded-For": "203.0.113.66"}) as http:
        i = 0
        while not stop.is_set():
            counts[http.post(url + "/api/ask", json={"question": questions[i % len(questions)]}).status_code] += 1
            i += 1
threads = [threading.Thread(target=run) for _ in range(8)]
[t.start() for t in threads]
sys.stdin.read()  # until the bench closes our stdin
stop.set()
[t.join() for t in threads]
print(json.dumps(counts))
"""


def polite_p50(engine, settings, rate_limit: str, abuser: bool, questions: int) -> tuple[float, dict]:
    """The polite client's p50 (ms), asking every POLITE_EVERY s; the abuser is
    another process (8 threads, one address), so it does not share our GIL."""
    import json
    import subprocess

    import httpx

    live, server = served(engine, settings, rate_limit=rate_limit)
    times: list[float] = []
    abuse: dict = {}
    with server as url:
        proc = None
        if abuser:
            proc = subprocess.Popen(
                [sys.executable, "-c", ABUSER, url, json.dumps(QUESTIONS)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # let it get going
        with httpx.Client(timeout=120, headers={"X-Forwarded-For": "198.51.100.7"}) as http:
            for i in range(questions):
                t0 = time.perf_counter()
                r = http.post(f"{url}/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                times.append((time.perf_counter() - t0) * 1e3)
                if r.status_code != 200:
                    raise SystemExit(f"the polite client got {r.status_code}: {r.text}")
                time.sleep(max(0.0, POLITE_EVERY - times[-1] / 1e3))
        if proc is not None:
            out, _ = proc.communicate("", timeout=300)
            abuse = {int(k): v for k, v in json.loads(out).items()}
    live.stop()
    return statistics.median(times), abuse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=100, help="clients asking through a reload")
    ap.add_argument("--polite", type=int, default=12, help="questions the polite client asks per run")
    ap.add_argument("--fake", action="store_true", help="fake embedder (smoke run, not a benchmark)")
    args = ap.parse_args()

    from docqa.settings import BUNDLED_CORPUS, Settings

    engine, settings = build_engine(args.fake)
    corpus = Path(settings.home) / "corpus"
    corpus.mkdir()
    for f in BUNDLED_CORPUS.iterdir():
        (corpus / f.name).write_bytes(f.read_bytes())
    from docqa.factory import make_engine, make_ingestor

    make_ingestor(settings, engine.embedder).ingest([corpus], rebuild=True)
    engine = make_engine(settings, engine.embedder)
    engine.warmup()

    latency, one = reload_latency(engine, settings, corpus)
    print(
        f"reload: ingest finished -> first answer from the new generation {latency:.2f} s "
        f"({latency / one:.1f}x one answer, {one * 1e3:.0f} ms; the server looks every 1 s)"
    )

    for queue_size, label in ((args.clients * 3, "queue holds every client"), (None, f"default queue ({settings.queue_size})")):
        out = clients_through_a_reload(engine, settings, corpus, args.clients, queue_size)
        st = out["statuses"]
        errors = sum(n for code, n in st.items() if code not in (200, 503))
        print(
            f"{args.clients} clients x 3+ questions through a reload, {label}: {st.get(200, 0)} answers, "
            f"{st.get(503, 0)} times 503 (asked again after Retry-After), {errors} errors, reloads {out['reloads']}"
        )

    default_limit = Settings.model_fields["rate_limit"].default
    alone, _ = polite_p50(engine, settings, default_limit, abuser=False, questions=args.polite)
    for rate_limit, label in ((default_limit, f"rate limit {default_limit} per address"), ("", "rate limiting off")):
        p50, abuse = polite_p50(engine, settings, rate_limit, abuser=True, questions=args.polite)
        print(
            f"polite client beside an abusive one (8 threads, one address), {label}: p50 {p50:.0f} ms = "
            f"{p50 / alone:.2f}x alone ({alone:.0f} ms); abuser got {abuse}"
        )


if __name__ == "__main__":
    main()
