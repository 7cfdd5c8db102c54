"""Observability: /metrics in Prometheus' format (requests and errors by endpoint,
latency histograms, answers and refusals, the live generation and its size) and
one JSON access-log line per request, with no question text."""

from __future__ import annotations

import json
import logging

import httpx
from prometheus_client.parser import text_string_to_metric_families

from docqa.web.metrics import endpoint_of
from tests.test_web_support import FACT_Q, running_server, tiny_engine  # noqa: F401  (fixture)


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_requests_answers_refusals_and_the_live_index(tiny_engine, caplog):  # noqa: F811
    with caplog.at_level(logging.INFO, logger="docqa.access"), running_server(tiny_engine) as url:
        assert httpx.post(f"{url}/api/ask", json={"question": FACT_Q}).status_code == 200
        assert httpx.post(f"{url}/api/ask", json={"question": "火星上有多少人？"}).status_code == 200
        assert httpx.post(f"{url}/api/ask", json={"question": ""}).status_code == 422
        httpx.get(f"{url}/no/such/page")
        r = httpx.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = _samples(r.text)
    assert m[("docqa_http_requests_total", (("endpoint", "ask"), ("status", "200")))] == 2
    assert m[("docqa_http_requests_total", (("endpoint", "ask"), ("status", "422")))] == 1
    assert m[("docqa_http_requests_total", (("endpoint", "other"), ("status", "404")))] == 1
    assert m[("docqa_http_request_seconds_count", (("endpoint", "ask"),))] == 3
    default = ("collection", "default")
    assert m[("docqa_answers_total", (default, ("mode", "extractive")))] == 2
    assert m[("docqa_refusals_total", (default, ("mode", "extractive")))] == 1
    info = tiny_engine.info()
    assert m[("docqa_index_generation_info", (default, ("generation", info["generation"])))] == 1
    assert m[("docqa_index_documents", (default,))] == info["documents"]
    assert m[("docqa_index_chunks", (default,))] == info["chunks"]
    lines = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "docqa.access"]
    asks = [line for line in lines if line["endpoint"] == "ask"]
    assert [a["status"] for a in asks] == [200, 200, 422] and all(a["ms"] >= 0 for a in asks)
    assert all(FACT_Q not in json.dumps(line, ensure_ascii=False) for line in lines)  # no question text


def test_endpoint_labels_are_a_fixed_set():
    assert endpoint_of("/api/ask") == "ask" and endpoint_of("/v1/chat/completions") == "openai_chat"
    assert endpoint_of("/gradio_api/call/ask") == "gradio" and endpoint_of("/") == "chat"
    assert endpoint_of("/api/askX") == "other" and endpoint_of("/whatever/..%2f") == "other"


def test_uvicorn_writes_no_access_log_of_its_own():  # it would name each client's address
    from fastapi import FastAPI

    from docqa.settings import Settings
    from docqa.web.server import uvicorn_config

    assert uvicorn_config(FastAPI(), Settings()).access_log is False
