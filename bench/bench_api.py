"""Latency and throughput of the served API relative to the engine in-process.

    python bench/bench_api.py [--rounds 5] [--clients 20] [--fake]

Same questions, same run: p50/p95 of ``engine.ask`` in-process, of
``POST /api/ask`` and of the Gradio ``/ask`` endpoint (gradio_client), printed
as ratios to in-process; then throughput (answers/s) with 20 concurrent
clients as a ratio to sequential in-process answering.  Uses the real model
over the bundled report in a temporary DOCQA_HOME (``--fake``: the fake
embedder, for a quick smoke run).  Everything runs on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docqa.eval.metrics import percentile  # noqa: E402  (after the path set-up above)

QUESTIONS = [
    "上海累计备案了多少家新型研发机构？",
    "第二批长三角创新联合体有多少家？",
    "静安区首批链主企业有几家？",
    "上海浦芯未来互联网技术研究院累计接入多少家链主企业？",
    "2024年度上海市科学技术奖有多少家完成单位？",
    "宝山区累计组建创新联合体多少个？",
    "上海亚太台风研究中心发布了几个AI专业模型？",
    "火星上有多少人？",
]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def build_engine(fake: bool):
    from docqa.factory import make_engine, make_ingestor
    from docqa.settings import BUNDLED_CORPUS, DEFAULT_MODEL, Settings

    home = Path(tempfile.mkdtemp(prefix="docqa-bench-"))
    if fake:
        from tests.fakes import FakeEmbedder

        embedder = FakeEmbedder()
    else:
        from docqa.index.embedder import SentenceTransformerEmbedder

        models = Path(os.environ.get("DOCQA_TEST_MODELS", Path.home() / ".docqa" / "models"))
        embedder = SentenceTransformerEmbedder(DEFAULT_MODEL, models)
    settings = Settings(home=home, rate_limit="")  # one client address asks everything: no rate limit
    make_ingestor(settings, embedder).ingest([BUNDLED_CORPUS])
    return make_engine(settings, embedder), settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="times each question is asked per measurement")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients for the throughput run")
    ap.add_argument("--fake", action="store_true", help="fake embedder (smoke run, not a benchmark)")
    args = ap.parse_args()

    import httpx
    from gradio_client import Client

    from docqa.web.server import BackgroundServer, create_server

    engine, settings = build_engine(args.fake)
    items = QUESTIONS * args.rounds
    for q in QUESTIONS:  # warm up the engine (tokeniser dictionaries, model)
        engine.ask(q)

    with BackgroundServer(create_server(engine, settings), settings) as url:
        http = httpx.Client(timeout=120)
        client = Client(url, verbose=False)
        for q in QUESTIONS[:2]:  # warm up both paths
            http.post(f"{url}/api/ask", json={"question": q}).raise_for_status()
            client.predict(q, api_name="/ask")

        results = {}

        # interleave the three paths round by round so drift hits all alike
        def api_ask(q):
            http.post(f"{url}/api/ask", json={"question": q}).raise_for_status()

        def gradio_http(q):
            """Gradio's HTTP call API (what curl and @gradio/client use): POST, then read the SSE result."""
            event = http.post(f"{url}/gradio_api/call/ask", json={"data": [q, None, None]}).json()["event_id"]
            body = http.get(f"{url}/gradio_api/call/ask/{event}").text
            if "event: complete" not in body:
                raise RuntimeError(body)

        lat = {
            "engine.ask (in-process)": [],
            "POST /api/ask": [],
            "Gradio /ask (HTTP call API)": [],
            "Gradio /ask (gradio_client)": [],
        }
        for _ in range(args.rounds):
            lat["engine.ask (in-process)"] += timed(engine.ask, QUESTIONS)
            lat["POST /api/ask"] += timed(api_ask, QUESTIONS)
            lat["Gradio /ask (HTTP call API)"] += timed(gradio_http, QUESTIONS)
            lat["Gradio /ask (gradio_client)"] += timed(lambda q: client.predict(q, api_name="/ask"), QUESTIONS)
        base50 = percentile(lat["engine.ask (in-process)"], 50)
        base95 = percentile(lat["engine.ask (in-process)"], 95)
        print(
            f"latency, {len(items)} asks each ({'fake embedder' if args.fake else 'real model'}, bundled report, "
            f"concurrency={settings.concurrency}, {os.cpu_count()} CPUs)"
        )
        print(f"{'path':32} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10} {'p95 ratio':>10}")
        for name, xs in lat.items():
            p50, p95 = percentile(xs, 50), percentile(xs, 95)
            results[name] = (p50, p95)
            print(f"{name:32} {p50:8.1f} {p95:8.1f} {p50 / base50:10.2f} {p95 / base95:10.2f}")

        # throughput: sequential in-process vs N concurrent clients
        t0 = time.perf_counter()
        for q in items:
            engine.ask(q)
        seq_rate = len(items) / (time.perf_counter() - t0)

        def run_clients(call) -> float:
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(call, items))
            return len(items) / (time.perf_counter() - t0)

        pool_http = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=args.clients))

        def http_call(q):
            pool_http.post(f"{url}/api/ask", json={"question": q}).raise_for_status()

        def gradio_call(q):
            event = pool_http.post(f"{url}/gradio_api/call/ask", json={"data": [q, None, None]}).json()["event_id"]
            if "event: complete" not in pool_http.get(f"{url}/gradio_api/call/ask/{event}").text:
                raise RuntimeError(f"no answer for {q}")

        rates = {
            "POST /api/ask": run_clients(http_call),
            "Gradio /ask (HTTP call API)": run_clients(gradio_call),
            "Gradio /ask (gradio_client)": run_clients(lambda q: client.predict(q, api_name="/ask")),
        }
        print(f"\nthroughput, {len(items)} answers, {args.clients} concurrent clients")
        print(f"{'path':32} {'answers/s':>10} {'ratio':>8}")
        print(f"{'engine.ask sequential':32} {seq_rate:10.1f} {1.0:8.2f}")
        for name, rate in rates.items():
            print(f"{name:32} {rate:10.1f} {rate / seq_rate:8.2f}")
        http.close()
        pool_http.close()


if __name__ == "__main__":
    main()
