"""An HTTP client for the ``openai`` SDK that holds each call to a deadline.

The SDK retries timeouts, waits as long as ``Retry-After`` says (up to two
minutes) and reads a streamed reply for as long as it lasts.  This client
changes that for every request the SDK sends through it, retries included:

- a reply that sends nothing for the read timeout raises ``SlowReply``, an SDK
  error, which the SDK passes on without retrying (it would be as slow again).

Inside ``with until(deadline):``, besides,

- an error reply whose ``Retry-After`` ends past the deadline is marked
  ``x-should-retry: false``, so the SDK gives up at once instead of waiting;
- a reply body still coming at the deadline raises ``Overdue`` (also while the
  server only sends keep-alive comments).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx2
import openai

_DEADLINE: ContextVar[float | None] = ContextVar("docqa_llm_deadline", default=None)


@contextmanager
def until(deadline: float) -> Iterator[None]:
    """Hold the requests sent inside the block to ``deadline`` (``time.monotonic()``)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class SlowReply(openai.APITimeoutError):
    """Nothing came within the read timeout.  An SDK error, so the SDK does not retry it."""


class Overdue(Exception):
    """The reply was still coming at the deadline."""


class _Until(httpx2.SyncByteStream):
    """A response body that ends at the deadline."""

    def __init__(self, body: httpx2.SyncByteStream, deadline: float):
        self.body, self.deadline = body, deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            if time.monotonic() > self.deadline:
                raise Overdue
            yield chunk

    def close(self) -> None:
        self.body.close()


class DeadlineClient(httpx2.Client):
    """The SDK's HTTP client: slow replies are not retried, calls end at their deadline."""

    def send(self, request: httpx2.Request, **kwargs) -> httpx2.Response:
        deadline = _DEADLINE.get()
        try:
            response = super().send(request, **kwargs)
        except (httpx2.ReadTimeout, httpx2.WriteTimeout, httpx2.PoolTimeout) as exc:
            raise SlowReply(request) from exc
        if deadline is None:
            return response
        if not response.is_error:
            response.stream = _Until(response.stream, deadline)  # type: ignore[arg-type]
        elif time.monotonic() + _seconds(response.headers.get("retry-after")) > deadline:
            response.headers["x-should-retry"] = "false"  # the SDK would retry it, after the deadline
        return response


def _seconds(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:  # an HTTP date: the SDK's own rules apply
        return 0.0
