"""Rate limits and back-pressure on the public endpoints.

``RateLimit`` counts questions per client address in a moving window (the
``limits`` library, in memory: one process, one server).  ``RateLimited`` is a
pure ASGI middleware that asks it before a POST to a listed path and answers
429 with ``Retry-After`` when the client is over its limit; everything else —
GETs, other paths, streamed answers — passes through message by message.
``AnswerQueue`` bounds the answers being computed and waiting: beyond
``concurrency + queue_size`` a question is refused at once with ``Overloaded``
(503), rather than queueing until the client gives up.

The client address is ``scope["client"]``.  Behind a reverse proxy, wrap the
app with ``trust_proxies`` (uvicorn's ``ProxyHeadersMiddleware``) so that
X-Forwarded-For replaces it — but only when the direct peer is a trusted proxy;
anyone else could otherwise pick a fresh address for every request."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread
from limits import RateLimitItem, parse_many, storage, strategies
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from docqa.errors import DocQAError, Overloaded

T = TypeVar("T")

RETRY_AFTER_BUSY = Overloaded.retry_after  # seconds: the Retry-After sent with a 503 from a full AnswerQueue


def client_address(scope: Scope) -> str:
    """The client's IP as the server sees it (after ``trust_proxies``, if any); "unknown" when absent."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def trust_proxies(app: ASGIApp, trusted: list[str]) -> ASGIApp:
    """``app`` behind uvicorn's ``ProxyHeadersMiddleware``: X-Forwarded-For (and -Proto) are
    believed only when the direct peer is in ``trusted`` (IPs, networks such as
    "10.0.0.0/8", or "*" for any peer).  An empty list trusts no one: ``app`` itself."""
    if not trusted:
        return app
    return cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=list(trusted)))


class RateLimit:
    """Questions allowed per client key, in the ``limits`` notation ("30/minute",
    "5/second;100/hour"); "" or None turns the limit off.

    ``setting`` names where the rate came from, for the error message.  ``hit`` is
    safe to call from the event loop and from worker threads alike."""

    def __init__(self, rate: str | None, setting: str = "DOCQA_RATE_LIMIT") -> None:
        self.rate = (rate or "").strip()
        self._items: list[RateLimitItem] = parse_rate(self.rate, setting) if self.rate else []
        self._limiter: strategies.MovingWindowRateLimiter | None = None
        if self._items:
            self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._limiter is not None

    def hit(self, key: str) -> int | None:
        """Count one question from ``key``: None when allowed, else the whole seconds
        (at least 1) until ``key`` may ask again.  A refused question is not counted."""
        if self._limiter is None:
            return None
        limiter = self._limiter
        with self._lock:
            # test every limit before counting any, so a refusal by "100/hour" does not
            # also use up "5/second"; the lock makes test-then-hit one step
            blocked = [item for item in self._items if not limiter.test(item, key)]
            if not blocked:
                for item in self._items:
                    limiter.hit(item, key)
                return None
            now = time.time()
            wait = max(limiter.get_window_stats(item, key).reset_time - now for item in blocked)
        return max(1, math.ceil(wait))


def parse_rate(rate: str, setting: str = "DOCQA_RATE_LIMIT") -> list[RateLimitItem]:
    """The limits in ``rate`` ("30/minute", "5/second;100/hour"), or a DocQAError saying how to write one."""
    try:
        items = parse_many(rate)
    except ValueError:
        raise DocQAError(
            f"{setting}={rate!r}: not a rate; write e.g. 30/minute or 5/second;100/hour, or '' to turn the limit off"
        ) from None
    if any(item.amount < 1 for item in items):
        raise DocQAError(
            f"{setting}={rate!r}: a rate of 0 would refuse every question; write e.g. 30/minute, or '' to turn the limit off"
        )
    return items


class RateLimited:
    """Pure ASGI middleware: a POST to one of ``paths`` counts against the client's
    ``limit``; over it, the answer is 429 with ``Retry-After`` and a JSON error
    (OpenAI's error shape under /v1/), and ``on_limited`` is called with the entry
    of ``paths`` that matched (a fixed set, fit for a metrics label).

    ``paths`` are matched against the request path without the root path; an entry
    ending in "*" matches every path that starts with what precedes the "*"."""

    def __init__(
        self,
        app: ASGIApp,
        limit: RateLimit,
        paths: tuple[str, ...],
        on_limited: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.exact = frozenset(p for p in paths if not p.endswith("*"))
        self.prefixes = tuple(p for p in paths if p.endswith("*"))
        self.on_limited = on_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not self.limit.enabled:
            await self.app(scope, receive, send)
            return
        path = request_path(scope)
        matched = self.match(path)
        if matched is None:
            await self.app(scope, receive, send)
            return
        retry_after = self.limit.hit(client_address(scope))
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        if self.on_limited is not None:
            self.on_limited(matched)
        await too_many_requests(path, retry_after)(scope, receive, send)

    def match(self, path: str) -> str | None:
        """The entry of ``paths`` that ``path`` falls under, or None."""
        if path in self.exact:
            return path
        for prefix in self.prefixes:
            if path.startswith(prefix[:-1]):
                return prefix
        return None


def request_path(scope: Scope) -> str:
    """``scope["path"]`` without the root path (uvicorn puts the root path in front of it)."""
    path: str = scope.get("path", "")
    root = scope.get("root_path", "").rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
    return path


def too_many_requests(path: str, retry_after: int) -> JSONResponse:
    message = f"too many questions from your address; try again in {retry_after} s"
    body: dict[str, Any]
    if path.startswith("/v1/"):
        body = {"error": {"message": message, "type": "rate_limit_exceeded", "param": None, "code": "rate_limit_exceeded"}}
    else:
        body = {"error": message}
    headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=429, headers=headers)


class AnswerQueue:
    """At most ``concurrency`` answers computed at once (``limiter``, for
    ``anyio.to_thread.run_sync``) and at most ``queue_size`` more waiting for a slot;
    one more is refused at once with ``Overloaded``.  Share one queue between the
    routers so the bound holds for the server as a whole.

    The admitted count is a plain int, changed only without an ``await`` between
    the check and the change: use ``admit``/``run`` from the server's one event loop
    (never from worker threads)."""

    def __init__(self, concurrency: int, queue_size: int) -> None:
        if concurrency < 1 or queue_size < 0:
            raise DocQAError(
                f"concurrency={concurrency}, queue_size={queue_size}: "
                "set DOCQA_CONCURRENCY to 1 or more and DOCQA_QUEUE_SIZE to 0 or more"
            )
        self.concurrency = concurrency
        self.queue_size = queue_size
        self.limiter = anyio.CapacityLimiter(concurrency)
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Questions admitted and not yet finished: computing or waiting for a slot."""
        return self._admitted

    @property
    def in_flight(self) -> int:
        """Answers being computed now (slots of ``limiter`` taken)."""
        return int(self.limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        """Admitted questions not computing now."""
        return max(0, self._admitted - self.in_flight)

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Count a question until the block ends; ``Overloaded`` at once when full."""
        if self._admitted >= self.concurrency + self.queue_size:
            raise Overloaded("the server is busy answering other questions; try again in a few seconds")
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread, once admitted and a slot is free."""
        async with self.admit():
            return await anyio.to_thread.run_sync(fn, limiter=self.limiter)
