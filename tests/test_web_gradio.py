"""The Gradio app through ``gradio_client``: the stable ``/ask`` endpoint
returns the answer contract, ``/chat`` streams the chat window's messages,
errors arrive as errors (never as answers)."""

from __future__ import annotations

import pytest

from docqa.web.render import partial_answer_html
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    HOSTILE_Q,
    MISSING_Q,
    is_fact_quote,
    tiny_engine,
    tiny_server,
)

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(tiny_server):
    return gradio_client.Client(tiny_server, verbose=False)


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content


def test_api_names_are_stable(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/ask" in endpoints and "/chat" in endpoints
    params = [p["parameter_name"] for p in endpoints["/ask"]["parameters"]]
    assert params == ["question", "top_k", "mode", "history", "collection"]


def test_ask_returns_the_answer_contract(client):
    a = client.predict(FACT_Q, 2, "extractive", api_name="/ask")
    assert a["refused"] is False and "42家" in a["answer"] and a["answer"].endswith("[1]")
    assert is_fact_quote(a["citations"][0]["quote"]) and len(a["passages"]) == 2
    a = client.predict(question=MISSING_Q, api_name="/ask")
    assert a["refused"] is True and a["citations"] == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"question": ""}, "question is empty"),
        ({"question": "问" * 10_000}, "the limit is 1000"),
        ({"question": FACT_Q, "top_k": 0}, "top_k must be an integer"),
        ({"question": FACT_Q, "mode": "llm"}, "LLM mode is not configured"),
    ],
)
def test_ask_errors_are_errors(client, kwargs, message):
    with pytest.raises(gradio_client.exceptions.AppError, match=message):
        client.predict(**kwargs, api_name="/ask")


def test_chat_streams_the_answer_then_the_sources(client, tiny_engine):
    job = client.submit(FACT_Q, [], 3, "extractive", api_name="/chat")
    final, box = job.result(timeout=30)
    updates = job.outputs()
    assert box == ""
    user, answer, sources = final
    assert user["role"] == "user" and FACT_Q in _text(user)
    assert answer["role"] == "assistant" and '<sup class="dq-cite">[1]</sup>' in _text(answer)
    assert "42" in _text(answer)
    assert sources["metadata"]["title"] == "来源 (1)" and sources["metadata"]["status"] == "done"
    assert '<mark class="dq-quote">' in _text(sources) and "星河科技园年度报告" in _text(sources)
    # what the engine streams, as it streams it: the pending "…", the
    # extractive answer's one delta, then the final answer and its sources
    streamed = [_text(u[0][-1]) for u in updates if u and u[0]][:-1]
    [delta] = [e.text for e in tiny_engine.stream(FACT_Q, top_k=3) if e.kind == "delta"]
    assert streamed == [partial_answer_html("…"), partial_answer_html(delta)]


def test_chat_shows_abstention_and_keeps_history(client):
    first, _ = client.predict(FACT_Q, [], 3, "extractive", api_name="/chat")
    history, _ = client.predict(MISSING_Q, first, 3, "extractive", api_name="/chat")
    assert len(history) == len(first) + 3  # the question, the refusal, the closest passages (collapsed)
    assert 'class="dq-refused"' in _text(history[-2]) and "园区资料中没有找到相关信息。" in _text(history[-2])
    assert 'class="dq-source dq-nearest"' in _text(history[-1]) and history[-1]["metadata"]["status"] == "done"


def test_chat_problem_is_a_warning_not_an_answer(client):
    first, _ = client.predict(FACT_Q, [], 3, "extractive", api_name="/chat")
    history, box = client.predict(FACT_Q, first, 3, "llm", api_name="/chat")
    # the window shows a warning toast and changes nothing: no answer is added
    assert history == {"__type__": "update"} and box == {"__type__": "update"}


def test_chat_escapes_hostile_documents(client):
    history, _ = client.predict(HOSTILE_Q, [], 3, "extractive", api_name="/chat")
    html_out = "".join(_text(m) for m in history)
    assert "7788" in html_out
    for raw in ("<script", "<img", "javascript:", "](", "onerror="):
        assert raw not in html_out
