"""Observability: ``/metrics`` in Prometheus' text format (``prometheus_client``)
and a JSON-lines access log.

``Observed`` wraps the app (pure ASGI): every HTTP request is counted by
endpoint and status, timed into a latency histogram, and written as one JSON
line to the ``docqa.access`` logger (time, method, endpoint, path, status,
milliseconds — never a question or any request body).  ``MeteredEngine``
stands in for the engine and counts answers and refusals by mode.  The live
index generation and size of each open collection are read at each scrape.  Each
server has its own registry (tests run several in one process)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

access_log = logging.getLogger("docqa.access")
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# endpoint label: a fixed set, so a client cannot grow the metrics with made-up paths
ENDPOINTS = (
    ("/api/ask", "ask"),
    ("/api/feedback", "feedback"),
    ("/api/page", "page"),
    ("/v1/chat/completions", "openai_chat"),
    ("/v1/models", "openai_models"),
    ("/healthz", "healthz"),
    ("/metrics", "metrics"),
    ("/api/admin", "admin_api"),
    ("/admin", "admin"),
    ("/widget.js", "widget_js"),
    ("/widget", "widget"),
    ("/gradio_api", "gradio"),
    ("/docqa-static", "static"),
)


def endpoint_of(path: str) -> str:
    for prefix, name in ENDPOINTS:
        if path == prefix or path.startswith(prefix + "/"):
            return name
    return "chat" if path in ("", "/") else "other"


class Metrics:
    """The server's metrics, in a registry of their own."""

    def __init__(self, served) -> None:
        """``served``: a ``Shelf`` of collections (or one engine)."""
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("docqa_http_requests", "HTTP requests by endpoint, status", ["endpoint", "status"], registry=r)
        self.errors = Counter("docqa_http_errors", "HTTP responses with status >= 500 by endpoint", ["endpoint"], registry=r)
        self.latency = Histogram(
            "docqa_http_request_seconds", "Time to the end of the response", ["endpoint"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.answers = Counter(
            "docqa_answers", "Answers given (refusals included), by collection, mode", ["collection", "mode"], registry=r
        )
        self.refusals = Counter(
            "docqa_refusals", "Answers that were refusals, by collection, mode", ["collection", "mode"], registry=r
        )
        self.rate_limited = Counter("docqa_rate_limited", "Requests refused with 429 or 503", ["endpoint"], registry=r)
        self._generation = Gauge(
            "docqa_index_generation_info",
            "The live index generation (value 1), by collection",
            ["collection", "generation"],
            registry=r,
        )
        self._documents = Gauge(
            "docqa_index_documents", "Documents in the live index, by collection", ["collection"], registry=r
        )
        self._chunks = Gauge("docqa_index_chunks", "Chunks in the live index, by collection", ["collection"], registry=r)
        self._served = served

    def scrape(self) -> bytes:
        """The metrics now: the index gauges are read from each open collection."""
        from prometheus_client import generate_latest

        loaded = self._served.loaded() if hasattr(self._served, "loaded") else {"default": self._served}
        for gauge in (self._generation, self._documents, self._chunks):
            gauge.clear()
        for name, engine in loaded.items():
            info = engine.info()
            self._generation.labels(name, str(info.get("generation") or "")).set(1)
            self._documents.labels(name).set(float(info["documents"]))
            self._chunks.labels(name).set(float(info["chunks"]))
        return generate_latest(self.registry)

    def answered(self, answer, collection: str = "default") -> None:
        self.answers.labels(collection, answer.mode).inc()
        if answer.refused:
            self.refusals.labels(collection, answer.mode).inc()


class MeteredEngine:
    """Stands in for an engine (or a ``LiveEngine``): counts every answer."""

    def __init__(self, engine, metrics: Metrics, collection: str = "default"):
        self._engine = engine
        self._metrics = metrics
        self._collection = collection

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def ask(self, *args, **kwargs):
        answer = self._engine.ask(*args, **kwargs)
        self._metrics.answered(answer, self._collection)
        return answer

    def stream(self, *args, **kwargs) -> Iterator:
        for event in self._engine.stream(*args, **kwargs):
            if event.kind == "final" and event.answer is not None:
                self._metrics.answered(event.answer, self._collection)
            yield event


class Observed:
    """ASGI middleware: metrics and one access-log line per HTTP request."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = {"code": 500}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._record(scope, status["code"], time.perf_counter() - t0)

    def _record(self, scope, code: int, seconds: float) -> None:
        path = scope.get("path", "")
        endpoint = endpoint_of(path)
        m = self.metrics
        m.requests.labels(endpoint, str(code)).inc()
        m.latency.labels(endpoint).observe(seconds)
        if code >= 500:
            m.errors.labels(endpoint).inc()
        if code in (429, 503):
            m.rate_limited.labels(endpoint).inc()
        if access_log.isEnabledFor(logging.INFO):
            line = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "method": scope.get("method", ""),
                "endpoint": endpoint,
                "path": path[:200],
                "status": code,
                "ms": round(seconds * 1e3, 1),
            }
            access_log.info(json.dumps(line, ensure_ascii=False))
