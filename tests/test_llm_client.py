"""The chat-completions client against a real loopback server: streaming,
plain replies, retries with backoff, timeouts and the error messages."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from docqa.llm.client import ChatClient, ChatStats, LLMConfigError, LLMUnavailable, check_base_url, shown_url
from tests.fake_llm_server import FakeLLMServer, Reply, free_port
from tests.llm_support import llm_server  # noqa: F401  (fixture)

MESSAGES = [{"role": "user", "content": "你好"}]


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The waits between retries, recorded instead of slept (the fake server's
    threads still sleep)."""
    waits: list[float] = []
    real = time.sleep
    monkeypatch.setattr(
        time, "sleep", lambda s: waits.append(s) if threading.current_thread() is threading.main_thread() else real(s)
    )
    return waits


def client(url: str, **kw) -> ChatClient:
    kw.setdefault("retries", 2)
    return ChatClient(url, "fake-model", **kw)


def test_streams_the_reply_piece_by_piece(llm_server):
    llm_server.script(Reply("上海累计备案36家[1]。", chunks=["上海", "累计备案", "36家", "[1]。"]))
    c = client(llm_server.url)
    stats = ChatStats()
    assert list(c.stream_chat(MESSAGES, max_tokens=50, stats=stats)) == ["上海", "累计备案", "36家", "[1]。"]
    body = llm_server.requests[-1]
    assert body["stream"] is True and body["max_tokens"] == 50 and body["messages"] == MESSAGES
    assert body["stream_options"] == {"include_usage": True}
    assert stats.attempts == 1 and stats.completion_tokens == 4 and stats.first_token_s is not None
    assert "Authorization" not in llm_server.headers[-1]


def test_only_docqa_settings_decide_what_is_sent(llm_server, monkeypatch):
    for name, value in {"OPENAI_API_KEY": "sk-from-env", "OPENAI_ORG_ID": "org-x", "OPENAI_PROJECT_ID": "proj-y"}.items():
        monkeypatch.setenv(name, value)
    llm_server.script(Reply("好。"))
    assert client(llm_server.url).complete(MESSAGES) == "好。"
    assert not {"authorization", "openai-organization", "openai-project"} & {k.lower() for k in llm_server.headers[-1]}
    assert client(llm_server.url, api_key="sk-set").complete(MESSAGES) == "好。"
    assert llm_server.headers[-1]["Authorization"] == "Bearer sk-set"


def test_plain_json_replies(llm_server):
    llm_server.script(Reply("答案。"))
    c = client(llm_server.url)
    assert c.complete(MESSAGES, stream=False) == "答案。"
    assert llm_server.requests[-1]["stream"] is False
    llm_server.script(Reply("也行。", stream=False))  # a server that ignores stream: true
    assert c.complete(MESSAGES) == "也行。"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_failures_are_retried_with_backoff(llm_server, status, sleeps):
    llm_server.script(Reply(status=status), Reply(status=status), Reply("好了。"))
    c = client(llm_server.url)
    assert c.complete(MESSAGES) == "好了。"
    assert len(llm_server.requests) == 3
    assert len(sleeps) == 2 and 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0  # exponential, jittered


def test_retry_after_is_honoured_within_the_deadline(llm_server, sleeps):
    llm_server.script(Reply(status=429, headers={"Retry-After": "3"}), Reply("好。"))
    c = client(llm_server.url, timeout=10)
    assert c.complete(MESSAGES) == "好。"
    assert sleeps == [3.0]
    llm_server.script(
        Reply(status=429, headers={"Retry-After": "3"}), Reply(status=429, headers={"Retry-After": "600"}), Reply("好。")
    )
    with pytest.raises(LLMUnavailable, match=r"rate-limiting requests \(HTTP 429, 2 attempts\): scripted failure 429"):
        c.complete(MESSAGES)  # waiting 600 s would end past the 10 s deadline: not retried
    assert sleeps == [3.0, 3.0] and len(llm_server.requests) == 4


def test_retries_are_bounded(llm_server, sleeps):
    llm_server.script(Reply(status=500))
    c = client(llm_server.url, retries=2)
    with pytest.raises(LLMUnavailable, match=r"failed \(HTTP 500, 3 attempts\): scripted failure 500"):
        c.complete(MESSAGES)
    assert len(llm_server.requests) == 3 and len(sleeps) == 2


def test_no_retries_when_set_to_zero(llm_server, sleeps):
    llm_server.script(Reply(status=503))
    c = client(llm_server.url, retries=0)
    with pytest.raises(LLMUnavailable, match=r"HTTP 503, 1 attempt\)"):
        c.complete(MESSAGES)
    assert len(llm_server.requests) == 1 and sleeps == []


def test_a_slow_reply_times_out_without_retrying(llm_server, sleeps):
    llm_server.script(Reply("太慢了。", delay=1.0))
    c = client(llm_server.url, timeout=0.3)
    with pytest.raises(LLMUnavailable, match=r"did not answer within 0.3 s \(DOCQA_LLM_TIMEOUT\)"):
        c.complete(MESSAGES)
    assert len(llm_server.requests) == 1 and sleeps == []


def test_a_trickling_stream_is_cut_at_the_total_timeout(llm_server):
    llm_server.script(Reply("一二三四五六七八九十", chunks=list("一二三四五六七八九十"), chunk_delay=0.3))
    c = client(llm_server.url, timeout=1.0)
    got = []
    with pytest.raises(LLMUnavailable, match="took longer than 1 s"):
        for piece in c.stream_chat(MESSAGES):
            got.append(piece)
    assert len(got) < 10  # cut off after about a second, although every piece came within the timeout


def test_connection_refused_is_retried_then_reported(sleeps):
    url = f"http://127.0.0.1:{free_port()}/v1"
    c = client(url, retries=1)
    with pytest.raises(LLMUnavailable) as err:
        c.complete(MESSAGES)
    assert f"cannot reach the LLM at {url} (connection refused); is the server running? (tried 2 times)" == str(err.value)
    assert len(sleeps) == 1


def test_a_wrong_key_is_a_configuration_error_and_never_shown(caplog, sleeps):
    caplog.set_level(logging.DEBUG)
    with FakeLLMServer(api_key="good") as server:
        c = client(server.url, api_key="sk-very-secret-123")
        with pytest.raises(LLMConfigError) as err:
            c.complete(MESSAGES)
    assert "refused the API key (HTTP 401): Incorrect API key provided; check DOCQA_LLM_API_KEY" in str(err.value)
    assert sleeps == []  # not retried
    assert server.headers[-1]["Authorization"] == "Bearer sk-very-secret-123"
    assert "sk-very-secret-123" not in str(err.value) + caplog.text + repr(c)


def test_the_key_is_scrubbed_from_server_messages(llm_server):
    llm_server.script(Reply(status=400, body=b'{"error": {"message": "bad request for key sk-echoed-9"}}'))
    c = client(llm_server.url, api_key="sk-echoed-9")
    with pytest.raises(LLMConfigError) as err:
        c.complete(MESSAGES)
    assert "rejected the request (HTTP 400): bad request for key ***" in str(err.value)


def test_a_wrong_path_or_model_says_what_to_check(llm_server):
    c = client(llm_server.url.removesuffix("/v1"))
    with pytest.raises(
        LLMConfigError, match=r"HTTP 404 .*check DOCQA_LLM_BASE_URL \(it usually ends in /v1\) and DOCQA_LLM_MODEL"
    ):
        c.complete(MESSAGES)


def test_a_reply_in_another_format_is_a_configuration_error(llm_server):
    llm_server.script(Reply(body=b"<html>welcome to nginx</html>"))
    c = client(llm_server.url)
    with pytest.raises(LLMConfigError, match="did not answer in the chat-completions format"):
        c.complete(MESSAGES)


@pytest.mark.parametrize("url", ["localhost:8080/v1", "ftp://x/v1", "", "http://", "http://host:port/v1"])
def test_malformed_base_urls_are_refused(url):
    with pytest.raises(LLMConfigError, match="DOCQA_LLM_BASE_URL"):
        check_base_url(url)


def test_urls_in_messages_hide_credentials():
    assert shown_url("https://user:pw@api.example.com/v1?key=abc") == "https://api.example.com/v1"
    assert check_base_url(" http://127.0.0.1:8080/v1/ ") == "http://127.0.0.1:8080/v1"


def test_an_empty_model_name_is_refused():
    with pytest.raises(LLMConfigError, match="DOCQA_LLM_MODEL is empty"):
        ChatClient("http://127.0.0.1:1/v1", "")
