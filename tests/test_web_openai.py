"""The OpenAI-compatible endpoint (``/v1/chat/completions``, ``/v1/models``),
used as a user would: the official ``openai`` client against a running server
over the tiny fake-embedder engine.  The tests print each request and answer
(``pytest -s`` shows the transcript)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import OpenAI

from docqa.conversation import Turn
from docqa.engine import StreamEvent
from docqa.errors import LLMError
from docqa.records import Answer
from docqa.settings import Settings
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    MISSING_Q,
    REFUSAL_ZH,
    is_fact_quote,
    running_server,
    tiny_engine,
)

RAW = "【原始】"  # the stream's deltas are an LLM's raw reply, unlike its final text (LLM mode)
BROKEN = "【故障】"  # the LLM backend fails after the first delta
FOLLOW_UP = "那2024年新增了多少家？"


class RecordingEngine:
    """Delegates to an engine and records the history each question came with;
    the marks above stand in for LLM mode's stream."""

    def __init__(self, engine):
        self._engine = engine
        self.histories: list[list[Turn]] = []

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def ask(self, question, top_k=None, mode=None, history=()):
        self.histories.append(list(history))
        return self._engine.ask(question, top_k=top_k, mode=mode, history=history)

    def stream(self, question, top_k=None, mode=None, exclude=frozenset(), min_confidence=None, history=()):
        self.histories.append(list(history))
        if BROKEN in question:
            yield StreamEvent("delta", text="园区累计")
            raise LLMError("the LLM server at http://llm.example/v1 timed out after 60 s; check DOCQA_LLM_BASE_URL")
        if RAW in question:
            yield StreamEvent("delta", text="累计备案42家[3]")
            yield StreamEvent("delta", text="，未经核对的句子[2]。")
            yield StreamEvent("final", answer=Answer(question, "园区累计备案新型研发机构42家[1]。", False, [], []))
            return
        yield from self._engine.stream(question, top_k, mode, exclude, min_confidence, history)


@pytest.fixture(scope="module")
def engine(tiny_engine):
    return RecordingEngine(tiny_engine)


@pytest.fixture(scope="module")
def server(engine):
    with running_server(engine, Settings(allowed_origins=["https://portal.example.com"])) as url:
        yield url


@pytest.fixture
def client(server) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)


def show(title: str, request: object, answer: object) -> None:
    print(f"\n== {title}\n>> {json.dumps(request, ensure_ascii=False)}\n<< {json.dumps(answer, ensure_ascii=False, indent=1)}")


def test_an_answer_with_its_markers_and_the_docqa_extra(client):
    request = {"model": "docqa", "messages": [{"role": "user", "content": FACT_Q}]}
    completion = client.chat.completions.create(**request)
    show("chat.completions.create", request, completion.to_dict())
    assert completion.id.startswith("chatcmpl-") and completion.object == "chat.completion"
    assert completion.model == "docqa" and completion.created > 0
    [choice] = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "42家" in choice.message.content and choice.message.content.endswith("[1]")
    extra = completion.model_extra["docqa"]
    assert extra["refused"] is False and extra["resolved_question"] == FACT_Q and extra["mode"] == "extractive"
    [citation] = extra["citations"]
    assert citation["n"] == 1 and is_fact_quote(citation["quote"]) and citation["doc"].endswith("park.md")
    assert 0 < extra["confidence"] <= 1
    assert completion.usage.completion_tokens == len(choice.message.content)  # characters (docs/openai.md)
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_a_refusal_is_an_answer(client):
    completion = client.chat.completions.create(model="docqa", messages=[{"role": "user", "content": MISSING_Q}])
    assert completion.choices[0].message.content == REFUSAL_ZH
    assert completion.model_extra["docqa"]["refused"] is True and completion.model_extra["docqa"]["citations"] == []


def test_a_stream_is_the_same_answer_with_the_docqa_field_last(client):
    request = {"model": "docqa", "messages": [{"role": "user", "content": FACT_Q}], "stream": True}
    chunks = [c.to_dict() for c in client.chat.completions.create(**request, stream_options={"include_usage": True})]
    show("chat.completions.create(stream=True)", request, chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and all(c["object"] == "chat.completion.chunk" for c in chunks)
    *content, final, usage = chunks
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in content)
    whole = client.chat.completions.create(model="docqa", messages=[{"role": "user", "content": FACT_Q}])
    assert text == whole.choices[0].message.content
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["docqa"]["citations"] == whole.model_extra["docqa"]["citations"]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == len(text)
    assert all("docqa" not in c for c in content)


def test_a_stream_sends_the_checked_answer_not_the_raw_deltas(client):
    """In LLM mode the deltas are the LLM's reply (its [n] number passages); the
    final answer is what the guard kept, its [n] the citations: that is sent."""
    stream = client.chat.completions.create(model="docqa", messages=[{"role": "user", "content": RAW + FACT_Q}], stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "园区累计备案新型研发机构42家[1]。"


def test_an_error_in_the_middle_of_a_stream_reaches_the_client(client):
    stream = client.chat.completions.create(model="docqa", messages=[{"role": "user", "content": BROKEN + FACT_Q}], stream=True)
    with pytest.raises(openai.APIError, match="timed out after 60 s; check DOCQA_LLM_BASE_URL"):
        list(stream)


@pytest.mark.parametrize("stream", [False, True])
def test_earlier_messages_are_the_history(client, engine, stream):
    """user/assistant messages before the question reach the engine as the
    history, oldest first; system messages are dropped; text parts are joined."""
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": FACT_Q},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "园区累计备案新型研发机构42家"}, {"type": "text", "text": "[1]"}],
        },
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},
    ]
    engine.histories.clear()
    if stream:
        chunks = list(client.chat.completions.create(model="docqa", messages=messages, stream=True))
        extra = chunks[-1].model_extra["docqa"]
        text = "".join(c.choices[0].delta.content or "" for c in chunks)
    else:
        completion = client.chat.completions.create(model="docqa", messages=messages, temperature=0.2)
        extra, text = completion.model_extra["docqa"], completion.choices[0].message.content
    show(f"follow-up (stream={stream})", messages, {"content": text, "docqa": extra})
    assert engine.histories == [[Turn("user", FACT_Q), Turn("assistant", "园区累计备案新型研发机构42家\n[1]")]]
    assert extra["question"] == FOLLOW_UP and isinstance(extra["resolved_question"], str) and extra["resolved_question"]


def test_sampling_parameters_and_unknown_fields_are_ignored(client, server):
    completion = client.chat.completions.create(
        model="docqa",
        messages=[{"role": "user", "content": FACT_Q}],
        temperature=1.5,
        top_p=0.5,
        max_tokens=5,
        n=1,
        user="someone",
        seed=3,
        extra_body={"frequency_penalty": 1, "something_new": {"a": 1}, "docqa": {"top_k": 1, "mode": "extractive"}},
    )
    assert "42家" in completion.choices[0].message.content


def test_models_lists_docqa(client):
    models = client.models.list()
    assert [(m.id, m.object, m.owned_by) for m in models.data] == [("docqa", "model", "docqa")]
    assert client.models.retrieve("docqa").id == "docqa"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_another_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": FACT_Q}])
    print(f"\n== model gpt-4o\n<< {caught.value.status_code} {json.dumps(caught.value.body, ensure_ascii=False)}")
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    assert "gpt-4o" in caught.value.message and '"docqa"' in caught.value.message


@pytest.mark.parametrize(
    ("messages", "param", "message"),
    [
        (
            [{"role": "user", "content": FACT_Q}, {"role": "assistant", "content": "42家"}],
            "messages",
            "last message must be the user's question",
        ),
        ([], "messages", "non-empty list"),
        (
            [{"role": "tool", "content": "{}", "tool_call_id": "x"}, {"role": "user", "content": FACT_Q}],
            "messages[0]",
            "calls no tools",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
            "messages[0].content[0]",
            "text only",
        ),
        ([{"role": "user", "content": None}], "messages[0].content", "a string or a list"),
        (
            [{"role": "narrator", "content": "…"}, {"role": "user", "content": FACT_Q}],
            "messages[0].role",
            '"user", "assistant" or "system"',
        ),
        ([{"role": "user", "content": "   "}], "messages", "the last message is the question: question is empty"),
        (
            [{"role": "assistant", "content": "长" * 8001}, {"role": "user", "content": FACT_Q}],
            "messages[0].content",
            "8001 characters",
        ),
    ],
)
def test_bad_messages_are_a_bad_request_saying_what_to_change(client, messages, param, message):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="docqa", messages=messages)
    assert caught.value.status_code == 400 and caught.value.param == param
    assert caught.value.type == "invalid_request_error" and message in caught.value.message


@pytest.mark.parametrize(
    ("extra", "param", "message"),
    [
        ({"n": 2}, "n", "n must be 1"),
        ({"stream": "yes"}, "stream", "stream must be true or false"),
        ({"docqa": {"top_k": 0}}, "docqa", "top_k must be an integer from 1 to 50"),
        ({"docqa": {"mode": "llm"}}, "docqa", "DOCQA_LLM_BASE_URL"),
        ({"docqa": {"k": 3}}, "docqa", "unknown field(s) k"),
    ],
)
def test_bad_options_are_a_bad_request(server, extra, param, message):
    body = {"model": "docqa", "messages": [{"role": "user", "content": FACT_Q}], **extra}
    r = httpx.post(f"{server}/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and message in error["message"]


def test_malformed_and_oversized_bodies_are_a_400_in_openai_shape(server):
    for body, message in (
        (b"{not json", "request body is not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"messages": []}', '"model" is required'),
        (json.dumps({"model": "docqa", "messages": [{"role": "user", "content": "长" * 70000}]}).encode(), "larger than"),
    ):
        r = httpx.post(f"{server}/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/json"
        assert set(r.json()["error"]) == {"message", "type", "param", "code"} and message in r.json()["error"]["message"]


def test_browsers_may_send_an_authorization_header(server):
    r = httpx.options(
        f"{server}/v1/chat/completions",
        headers={
            "Origin": "https://portal.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert r.status_code == 200 and "authorization" in r.headers["access-control-allow-headers"].lower()


def test_openapi_documents_the_endpoint(server):
    spec = httpx.get(f"{server}/api/openapi.json").json()
    post = spec["paths"]["/v1/chat/completions"]["post"]
    request = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"model", "messages", "stream", "n", "docqa"} <= set(request["properties"])
    assert "$defs" not in json.dumps(request)  # every part is written in place
    assert {"application/json", "text/event-stream"} <= set(post["responses"]["200"]["content"])
    assert "/v1/models" in spec["paths"]
