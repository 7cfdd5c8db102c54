"""Many people, one server: 20 simultaneous clients all get correct answers,
and one slow request does not hold up the others."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from docqa.settings import Settings
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    HOSTILE_Q,
    MISSING_Q,
    SLOW_MARK,
    SlowEngine,
    running_server,
    tiny_engine,
    tiny_server,
)

gradio_client = pytest.importorskip("gradio_client")

QUESTIONS = [FACT_Q, MISSING_Q, HOSTILE_Q, "星河科技园引进了多少家高新技术企业？"]
CLIENTS = 20


def _expected(engine) -> dict[str, dict]:
    return {q: engine.ask(q).to_dict() for q in QUESTIONS}


def _same(got: dict, want: dict) -> bool:
    keys = ("question", "answer", "refused", "citations")
    return all(got[k] == want[k] for k in keys) and [p["chunk_id"] for p in got["passages"]] == [
        p["chunk_id"] for p in want["passages"]
    ]


def test_20_simultaneous_http_clients_all_get_correct_answers(tiny_engine, tiny_server):
    want = _expected(tiny_engine)
    barrier = threading.Barrier(CLIENTS)

    def one(i: int) -> tuple[str, dict]:
        q = QUESTIONS[i % len(QUESTIONS)]
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            r = http.post(f"{tiny_server}/api/ask", json={"question": q})
        assert r.status_code == 200, r.text
        return q, r.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one, range(CLIENTS)))
    assert len(results) == CLIENTS
    for q, got in results:
        assert _same(got, want[q]), q
    assert sum(1 for q, _ in results if q == FACT_Q) == 5


def test_20_simultaneous_gradio_clients_all_get_correct_answers(tiny_engine, tiny_server):
    want = _expected(tiny_engine)
    client = gradio_client.Client(tiny_server, verbose=False)
    jobs = [(q, client.submit(q, api_name="/ask")) for q in (QUESTIONS * CLIENTS)[:CLIENTS]]
    for q, job in jobs:
        assert _same(job.result(timeout=60), want[q]), q


@pytest.fixture(scope="module")
def slow_server(tiny_engine):
    engine = SlowEngine(tiny_engine, delay=3.0)
    with running_server(engine, Settings(concurrency=4)) as url:
        yield url, engine


def _fast_while_slow(call_slow, call_fast) -> tuple[float, bool]:
    """Start the slow call, then time a fast one while the slow one runs."""
    slow_done = threading.Event()

    def slow():
        call_slow()
        slow_done.set()

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)  # the slow request is in the engine now
    t0 = time.perf_counter()
    call_fast()
    elapsed = time.perf_counter() - t0
    still_running = not slow_done.is_set()
    t.join(timeout=30)
    assert slow_done.is_set()
    return elapsed, still_running


def test_a_slow_api_request_does_not_block_a_fast_one(slow_server):
    url, _ = slow_server

    def ask(q):
        r = httpx.post(f"{url}/api/ask", json={"question": q}, timeout=30)
        assert r.status_code == 200 and "42家" in r.json()["answer"]

    elapsed, still_running = _fast_while_slow(lambda: ask(SLOW_MARK + FACT_Q), lambda: ask(FACT_Q))
    assert still_running and elapsed < 2.0


def test_a_slow_gradio_request_does_not_block_a_fast_one(slow_server):
    url, _ = slow_server
    client = gradio_client.Client(url, verbose=False)

    def ask(q):
        assert "42家" in client.predict(q, api_name="/ask")["answer"]

    def chat(q):
        history, _ = client.predict(q, [], 3, "extractive", api_name="/chat")
        assert "42" in str(history[1]["content"])

    elapsed, still_running = _fast_while_slow(lambda: ask(SLOW_MARK + FACT_Q), lambda: ask(FACT_Q))
    assert still_running and elapsed < 2.0
    elapsed, still_running = _fast_while_slow(lambda: chat(SLOW_MARK + FACT_Q), lambda: chat(FACT_Q))
    assert still_running and elapsed < 2.5


def test_engine_concurrency_is_bounded(slow_server):
    """More simultaneous slow requests than ``concurrency``: never more than
    that many engine calls at once from each of the API and Gradio."""
    url, engine = slow_server
    engine.max_running = 0
    engine.delay = 0.5
    try:
        with ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(
                    lambda _: httpx.post(f"{url}/api/ask", json={"question": SLOW_MARK + FACT_Q}, timeout=30).status_code,
                    range(8),
                )
            )
    finally:
        engine.delay = 3.0
    assert codes == [200] * 8
    assert engine.max_running == 4
