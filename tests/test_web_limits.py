"""Rate limits (429) and back-pressure (503) on a running server: the JSON API,
the OpenAI-compatible endpoint and the chat window's Gradio API share one
budget per client address; X-Forwarded-For counts only from a trusted proxy;
a full answer queue refuses at once; /metrics counts the refusals.
(tests/test_rate_limits.py tests the pieces on their own.)"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from docqa.settings import Settings
from docqa.web.limits import AnswerQueue
from tests.test_admin_api import wait_until
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    SLOW_MARK,
    SlowEngine,
    running_server,
    tiny_engine,
)

gradio_client = pytest.importorskip("gradio_client")

PORTAL = "https://portal.example.com"
CHAT = {"model": "docqa", "messages": [{"role": "user", "content": FACT_Q}]}
BUSY = "the server is busy answering other questions; try again in a few seconds"


def ask(url: str, headers: dict | None = None) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json={"question": FACT_Q}, headers=headers, timeout=30)


def refused_count(url: str, endpoint: str) -> float:
    """docqa_rate_limited_total for ``endpoint`` on /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            if sample.name == "docqa_rate_limited_total" and sample.labels == {"endpoint": endpoint}:
                return sample.value
    return 0.0


def test_the_fourth_question_in_a_minute_is_429_with_retry_after(tiny_engine):
    settings = Settings(rate_limit="3/minute", allowed_origins=[PORTAL])
    with running_server(tiny_engine, settings) as url:
        for _ in range(3):
            r = ask(url)
            assert r.status_code == 200 and "42家" in r.json()["answer"]
        r = ask(url, headers={"Origin": PORTAL})
        assert r.status_code == 429
        retry_after = int(r.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert r.json() == {"error": f"too many questions from your address; try again in {retry_after} s"}
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Access-Control-Allow-Origin"] == PORTAL  # the widget on the portal can read why

        r = httpx.post(f"{url}/v1/chat/completions", json=CHAT)  # the same budget, OpenAI's error shape
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
        assert r.json() == {
            "error": {
                "message": f"too many questions from your address; try again in {r.headers['Retry-After']} s",
                "type": "rate_limit_exceeded",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
        assert httpx.post(f"{url}/api/feedback", json={}).status_code == 429

        for _ in range(10):  # reading is never limited
            health = httpx.get(f"{url}/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(f"{url}/widget").status_code == 200
        assert refused_count(url, "ask") == 1
        assert refused_count(url, "openai_chat") == 1
        assert refused_count(url, "healthz") == 0


@pytest.mark.parametrize(
    ("trusted", "separate"),
    [(["127.0.0.1"], True), ([], False)],
    ids=["trusted-proxy", "no-trusted-proxy"],
)
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tiny_engine, trusted, separate):
    with running_server(tiny_engine, Settings(rate_limit="1/minute", trusted_proxies=trusted)) as url:
        assert ask(url, {"X-Forwarded-For": "203.0.113.1"}).status_code == 200
        second = ask(url, {"X-Forwarded-For": "203.0.113.2"})
        assert second.status_code == (200 if separate else 429)  # a made-up address buys nothing untrusted
        assert ask(url, {"X-Forwarded-For": "203.0.113.1"}).status_code == 429
        if separate:  # the proxy's own address is a client of its own
            assert ask(url).status_code == 200
            assert ask(url).status_code == 429


def test_the_chat_windows_gradio_api_is_limited_too(tiny_engine):
    with running_server(tiny_engine, Settings(rate_limit="3/minute")) as url:
        client = gradio_client.Client(url, verbose=False)
        assert ask(url).status_code == 200  # one budget for the HTTP API and the chat window
        for _ in range(2):
            assert "42家" in client.predict(FACT_Q, api_name="/ask")["answer"]
        with pytest.raises(gradio_client.exceptions.AppError, match=r"^提问太频繁了，请 \d+ 秒后再试。$"):
            client.predict(FACT_Q, api_name="/ask")
        history, box = client.predict(FACT_Q, [], 3, "extractive", api_name="/chat")
        assert history == {"__type__": "update"} and box == {"__type__": "update"}  # a warning, no answer
        assert ask(url).status_code == 429
        metrics = httpx.get(f"{url}/metrics").text
    assert 'docqa_rate_limited_total{endpoint="chat"} 2.0' in metrics  # the chat window's refusals are counted too


class HeldEngine(SlowEngine):
    """A ``SlowEngine`` whose slow questions wait until ``release`` is set
    (rather than for a fixed time), so a test decides when they finish."""

    def __init__(self, engine):
        super().__init__(engine)
        self.release = threading.Event()

    def _maybe_sleep(self, question):
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            if SLOW_MARK in question:
                assert self.release.wait(timeout=60), "never released"
        finally:
            with self._lock:
                self.running -= 1


def test_a_full_answer_queue_refuses_at_once_with_503_and_recovers(tiny_engine, monkeypatch):
    queues: list[AnswerQueue] = []

    def recorded(*args, **kwargs) -> AnswerQueue:
        queues.append(AnswerQueue(*args, **kwargs))
        return queues[-1]

    monkeypatch.setattr("docqa.web.server.AnswerQueue", recorded)
    engine = HeldEngine(tiny_engine)
    slow = {"question": SLOW_MARK + FACT_Q}
    with running_server(engine, Settings(concurrency=1, queue_size=1)) as url, ThreadPoolExecutor(2) as pool:
        [queue] = queues
        try:
            first = pool.submit(httpx.post, f"{url}/api/ask", json=slow, timeout=60)
            wait_until(lambda: engine.running == 1, "the first question to reach the engine")
            second = pool.submit(httpx.post, f"{url}/api/ask", json=slow, timeout=60)
            wait_until(lambda: queue.waiting == 1, "the second question to wait for the slot")
            assert engine.running == 1

            # no slot and no place in the queue: refused without waiting (a hang would time out)
            r = httpx.post(f"{url}/api/ask", json={"question": FACT_Q}, timeout=10)
            assert r.status_code == 503 and r.headers["Retry-After"] == "2"
            assert r.json() == {"error": BUSY}
            r = httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=10)
            assert r.status_code == 503 and r.headers["Retry-After"] == "2"
            assert r.json()["error"]["message"] == BUSY and r.json()["error"]["type"] == "server_error"
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        finally:
            engine.release.set()
        for done in (first.result(timeout=60), second.result(timeout=60)):
            assert done.status_code == 200 and "42家" in done.json()["answer"]
        assert engine.max_running == 1
        assert (queue.admitted, queue.waiting) == (0, 0)
        r = ask(url)
        assert r.status_code == 200 and "42家" in r.json()["answer"]
        assert refused_count(url, "ask") == 1
        assert refused_count(url, "openai_chat") == 1
