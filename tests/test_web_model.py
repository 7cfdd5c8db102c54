"""The served app over the real model and the bundled report: real answers
with citations through ``gradio_client`` and ``/api/ask``, and 20 clients at
once all answered correctly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from docqa.settings import Settings
from tests.test_web_support import REPORT_Q, running_server

pytestmark = pytest.mark.model
gradio_client = pytest.importorskip("gradio_client")

QUESTIONS = [
    REPORT_Q,
    "第二批长三角创新联合体有多少家？",
    "静安区首批链主企业有几家？",
    "火星上有多少人？",
]


@pytest.fixture(scope="module")
def report_url(report_engine):
    with running_server(report_engine, Settings()) as url:
        yield url


def test_report_answer_through_gradio_client_and_http(report_url):
    client = gradio_client.Client(report_url, verbose=False)
    a = client.predict(REPORT_Q, api_name="/ask")
    assert "36" in a["answer"] and "[1]" in a["answer"] and not a["refused"]
    assert "36家" in a["citations"][0]["quote"] and a["citations"][0]["title"] == "上海科技创新报告（节选）"
    b = httpx.post(f"{report_url}/api/ask", json={"question": REPORT_Q, "top_k": 5}, timeout=60).json()
    assert b["answer"] == a["answer"] and b["citations"] == a["citations"]
    history, _ = client.predict(REPORT_Q, [], 5, "extractive", api_name="/chat")
    assert "36" in str(history[1]["content"]) and "dq-cite" in str(history[1]["content"])
    assert history[2]["metadata"]["title"] == "来源 (1)"


def test_20_simultaneous_clients_get_correct_real_answers(report_engine, report_url):
    want = {q: report_engine.ask(q).to_dict() for q in QUESTIONS}
    client = gradio_client.Client(report_url, verbose=False)

    def http_ask(i):
        q = QUESTIONS[i % len(QUESTIONS)]
        return q, httpx.post(f"{report_url}/api/ask", json={"question": q}, timeout=120).json()

    with ThreadPoolExecutor(20) as pool:
        http_results = list(pool.map(http_ask, range(20)))
    jobs = [(QUESTIONS[i % len(QUESTIONS)], client.submit(QUESTIONS[i % len(QUESTIONS)], api_name="/ask")) for i in range(20)]
    gradio_results = [(q, job.result(timeout=120)) for q, job in jobs]
    for q, got in http_results + gradio_results:
        assert got["answer"] == want[q]["answer"] and got["citations"] == want[q]["citations"], q
    assert sum("36" in got["answer"] for q, got in http_results if q == REPORT_Q) == 5
