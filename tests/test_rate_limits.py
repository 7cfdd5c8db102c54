"""Rate limits per client address (429) and the bounded answer queue (503)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message

from docqa.errors import DocQAError
from docqa.web.limits import (
    AnswerQueue,
    Overloaded,
    RateLimit,
    RateLimited,
    client_address,
    request_path,
    trust_proxies,
)

PATHS = ("/api/ask", "/v1/chat/completions", "/api/feedback*")


def tiny_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/ask")
    def ask() -> dict[str, str]:
        return {"answer": "42"}

    @app.get("/api/ask")
    def ask_get() -> dict[str, str]:
        return {"answer": "42"}

    @app.post("/v1/chat/completions")
    def chat() -> dict[str, str]:
        return {"object": "chat.completion"}

    @app.post("/api/feedback/{item}")
    def feedback(item: str) -> dict[str, str]:
        return {"saved": item}

    @app.post("/api/page")
    def page() -> dict[str, str]:
        return {"page": "1"}

    @app.post("/api/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter(["one ", "two ", "three"]), media_type="text/plain")

    @app.post("/whoami")
    def whoami() -> dict[str, str]:
        return {"client": "see the header"}

    return app


def limited(
    rate: str,
    trusted: list[str] | None = None,
    paths: tuple[str, ...] = PATHS,
    on_limited: Callable[[str], None] | None = None,
) -> TestClient:
    app: ASGIApp = RateLimited(tiny_app(), RateLimit(rate), paths, on_limited)
    return TestClient(trust_proxies(app, trusted or []))


def test_allowed_until_the_limit_then_429_with_retry_after():
    seen: list[str] = []
    client = limited("3/minute", on_limited=seen.append)

    for _ in range(3):
        assert client.post("/api/ask").json() == {"answer": "42"}
    refused = client.post("/api/ask")

    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.json() == {"error": f"too many questions from your address; try again in {retry_after} s"}
    assert seen == ["/api/ask"]


def test_limits_are_shared_across_the_listed_paths_of_one_client():
    client = limited("2/minute")

    assert client.post("/api/ask").status_code == 200
    assert client.post("/api/feedback/7").status_code == 200
    assert client.post("/api/ask").status_code == 429


def test_openai_error_shape_under_v1():
    client = limited("1/minute")

    assert client.post("/v1/chat/completions").status_code == 200
    refused = client.post("/v1/chat/completions")

    assert refused.status_code == 429
    retry_after = refused.headers["Retry-After"]
    assert refused.json() == {
        "error": {
            "message": f"too many questions from your address; try again in {retry_after} s",
            "type": "rate_limit_exceeded",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_gets_and_unlisted_paths_are_never_limited():
    client = limited("1/minute")
    assert client.post("/api/ask").status_code == 200

    for _ in range(5):
        assert client.get("/api/ask").json() == {"answer": "42"}
        assert client.post("/api/page").json() == {"page": "1"}
    assert client.post("/api/ask").status_code == 429


def test_prefix_entries_match_every_path_under_them_and_report_the_entry():
    seen: list[str] = []
    client = limited("1/minute", on_limited=seen.append)

    assert client.post("/api/feedback/1").json() == {"saved": "1"}
    assert client.post("/api/feedback/2").status_code == 429
    assert client.post("/api/feedback/3").status_code == 429
    assert seen == ["/api/feedback*", "/api/feedback*"]


def test_paths_are_matched_without_the_root_path():
    # uvicorn --root-path /docqa puts the root path in front of scope["path"], as here
    client = TestClient(RateLimited(tiny_app(), RateLimit("1/minute"), PATHS), root_path="/docqa")

    assert client.post("/docqa/api/ask").json() == {"answer": "42"}
    refused = client.post("/docqa/api/ask")
    assert refused.status_code == 429
    assert "try again in" in refused.json()["error"]
    assert client.post("/docqa/api/page").status_code == 200


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/docqa/api/ask", "/docqa", "/api/ask"),
        ("/api/ask", "/docqa", "/api/ask"),  # a server that leaves the root path out of scope["path"]
        ("/docqa", "/docqa/", "/"),
        ("/docqa-other/api/ask", "/docqa", "/docqa-other/api/ask"),
        ("/api/ask", "", "/api/ask"),
    ],
)
def test_request_path_drops_the_root_path(path, root_path, expected):
    assert request_path({"type": "http", "path": path, "root_path": root_path}) == expected


def test_forwarded_addresses_count_separately_behind_a_trusted_proxy():
    client = limited("1/minute", trusted=["testclient"])

    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429


def test_any_peer_trusted_with_a_star():
    client = limited("1/minute", trusted=["*"])

    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200


@pytest.mark.parametrize("trusted", [[], ["10.0.0.1"]])
def test_forwarded_for_is_ignored_from_an_untrusted_peer(trusted):
    client = limited("1/minute", trusted=trusted)

    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    # a new made-up address does not buy a new allowance: both count as the peer "testclient"
    assert client.post("/api/ask", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429


def test_client_address_reads_the_scope():
    assert client_address({"type": "http", "client": ("198.51.100.7", 4321)}) == "198.51.100.7"
    assert client_address({"type": "http", "client": None}) == "unknown"
    assert client_address({"type": "http"}) == "unknown"


@pytest.mark.parametrize("rate", ["", None, "  "])
def test_an_empty_rate_turns_limiting_off(rate):
    limit = RateLimit(rate)
    assert not limit.enabled
    assert all(limit.hit("203.0.113.1") is None for _ in range(100))

    client = TestClient(RateLimited(tiny_app(), limit, PATHS))
    assert all(client.post("/api/ask").status_code == 200 for _ in range(20))


@pytest.mark.parametrize("rate", ["abc", "30/fortnight", "30 minute", "/minute"])
def test_an_unparsable_rate_is_a_clear_error(rate):
    with pytest.raises(DocQAError) as caught:
        RateLimit(rate)
    assert str(caught.value) == (
        f"DOCQA_RATE_LIMIT={rate!r}: not a rate; write e.g. 30/minute or 5/second;100/hour, or '' to turn the limit off"
    )


def test_a_zero_rate_is_refused_with_the_way_to_turn_limits_off():
    with pytest.raises(DocQAError, match=r"DOCQA_RATE_LIMIT='0/minute': a rate of 0 would refuse every question"):
        RateLimit("0/minute")


def test_several_limits_all_apply_and_a_refusal_uses_none_of_them():
    limit = RateLimit("2/minute;3/hour")

    assert limit.hit("a") is None
    assert limit.hit("a") is None
    first = limit.hit("a")  # over 2/minute
    assert first is not None and 1 <= first <= 60
    assert limit.hit("b") is None  # another key has its own allowance


def test_the_hour_limit_gives_the_longer_wait():
    limit = RateLimit("5/second;1/hour")

    assert limit.hit("a") is None
    wait = limit.hit("a")
    assert wait is not None and 60 < wait <= 3600


def test_streamed_responses_pass_through():
    client = limited("5/minute")

    with client.stream("POST", "/api/stream") as response:
        chunks = list(response.iter_text())
    assert "".join(chunks) == "one two three"


def test_the_middleware_forwards_each_streamed_chunk_before_the_app_finishes():
    """The app sends its second chunk only after the first has reached the client:
    a middleware that buffered the response would never deliver it."""
    first_delivered = anyio.Event()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"one ", "more_body": True})
        await first_delivered.wait()
        await send({"type": "http.response.body", "body": b"two", "more_body": False})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body") == b"one ":
            first_delivered.set()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/api/ask", "root_path": "", "headers": [], "client": ("c", 1)}

    async def main() -> None:
        with anyio.fail_after(10):  # a guard against hanging, not a timing assertion
            await RateLimited(app, RateLimit("5/minute"), PATHS)(scope, receive, send)

    anyio.run(main)
    assert [m.get("body") for m in sent] == [None, b"one ", b"two"]
    assert [m.get("more_body") for m in sent[1:]] == [True, False]


def test_answer_queue_refuses_at_once_when_slots_and_queue_are_full():
    queue = AnswerQueue(concurrency=1, queue_size=1)
    release = anyio.Event()
    entered: list[int] = []

    async def hold(n: int) -> None:
        async with queue.admit():
            entered.append(n)
            await release.wait()

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, 1)
            tg.start_soon(hold, 2)
            await wait_all_tasks_blocked()
            assert sorted(entered) == [1, 2]
            assert queue.admitted == 2

            with pytest.raises(Overloaded) as caught:
                async with queue.admit():
                    pytest.fail("a third question was admitted")
            assert str(caught.value) == "the server is busy answering other questions; try again in a few seconds"
            assert caught.value.http_status == 503
            assert queue.admitted == 2
            release.set()
        assert queue.admitted == 0

    anyio.run(main)


def test_answer_queue_runs_in_threads_one_slot_at_a_time():
    queue = AnswerQueue(concurrency=1, queue_size=1)
    started, release = threading.Event(), threading.Event()
    results: list[str] = []

    def slow() -> str:
        started.set()
        release.wait(timeout=10)
        return "slow"

    async def answer(fn: Callable[[], str]) -> None:
        results.append(await queue.run(fn))

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(answer, slow)
            await anyio.to_thread.run_sync(started.wait, 10)
            tg.start_soon(answer, lambda: "quick")
            await wait_all_tasks_blocked()
            assert (queue.in_flight, queue.waiting) == (1, 1)

            with pytest.raises(Overloaded):
                await queue.run(lambda: "refused")
            release.set()
        assert (queue.admitted, queue.in_flight, queue.waiting) == (0, 0, 0)

    anyio.run(main)
    assert results == ["slow", "quick"]


def test_answer_queue_errors_leave_the_counts_right():
    queue = AnswerQueue(concurrency=2, queue_size=0)

    def broken() -> str:
        raise DocQAError("no index; run `docqa ingest` first")

    async def main() -> None:
        with pytest.raises(DocQAError, match="no index"):
            await queue.run(broken)
        assert (queue.admitted, queue.in_flight, queue.waiting) == (0, 0, 0)
        assert await queue.run(lambda: "fine") == "fine"

    anyio.run(main)


def test_answer_queue_rejects_impossible_sizes():
    with pytest.raises(DocQAError, match="DOCQA_CONCURRENCY to 1 or more"):
        AnswerQueue(concurrency=0, queue_size=4)
