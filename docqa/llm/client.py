"""An OpenAI-compatible chat-completions client (hosted APIs, vLLM, Ollama,
llama.cpp's server), streaming, with timeouts and bounded retries.

- ``timeout`` bounds both the wait for any byte from the server and the whole
  reply; a slow reply is not retried (it would be as slow again).
- Connection failures, HTTP 429 and 5xx are retried ``retries`` times with
  exponential backoff (``Retry-After`` honoured up to ``max_backoff``), and
  only before the first token arrived (a retry would repeat streamed text).
- Failures raise ``LLMUnavailable`` (transient: the caller may fall back to
  the extractive answer) or ``LLMConfigError`` (the key, URL or model is
  wrong: the user must fix a setting).  Messages name the server and what to
  do; the API key never appears in a message or a log line.
"""
from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from docqa.errors import LLMError

log = logging.getLogger("docqa.llm")

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
MAX_MESSAGE_CHARS = 300


class LLMUnavailable(LLMError):
    """The backend could not answer now (down, overloaded, too slow)."""


class LLMConfigError(LLMError):
    """The backend refused the configuration (URL, model, key, request)."""

    exit_code = 2


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash; ``LLMConfigError`` when it is not an http(s) URL."""
    u = (url or "").strip()
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LLMConfigError(
            f"DOCQA_LLM_BASE_URL {shown_url(u)!r} is not an http(s) URL; "
            "set it to the API root, e.g. http://127.0.0.1:8080/v1 or https://api.openai.com/v1"
        )
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError as exc:
        raise LLMConfigError(f"DOCQA_LLM_BASE_URL {shown_url(u)!r} has a bad port ({exc})") from exc
    return u.rstrip("/")


def shown_url(url: str) -> str:
    """``url`` fit for messages: any user:password@ part removed, no query string."""
    try:
        p = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = p.hostname or ""
    try:
        port = p.port
    except ValueError:
        port = None
    if port:
        host = f"{host}:{port}"
    return urlunsplit((p.scheme, host, p.path, "", "")) if p.scheme else url.split("@")[-1]


@dataclass
class ChatStats:
    """What one request cost: attempts, tokens, timings (for logs and the eval)."""

    attempts: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int = 0  # from the server's usage when it reports it, else streamed chunks
    first_token_s: float | None = None
    total_s: float = 0.0
    _chunks: int = field(default=0, repr=False)

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed: tokens after the first, over the time after it."""
        if self.first_token_s is None or self.completion_tokens < 2:
            return None
        gen = self.total_s - self.first_token_s
        return (self.completion_tokens - 1) / gen if gen > 0 else None

    def to_dict(self) -> dict:
        tps = self.tokens_per_s
        return {
            "attempts": self.attempts,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "first_token_ms": None if self.first_token_s is None else round(self.first_token_s * 1e3, 1),
            "total_ms": round(self.total_s * 1e3, 1),
            "tokens_per_s": None if tps is None else round(tps, 2),
        }


class ChatClient:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        connect_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        if not model:
            raise LLMConfigError("DOCQA_LLM_MODEL is empty; set it to the model name the server knows")
        self.base_url = check_base_url(base_url)
        self.model = model
        self._key = api_key or None
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(connect_timeout, self.timeout)),
            transport=transport,
            trust_env=True,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient({shown_url(self.base_url)!r}, model={self.model!r})"

    @property
    def where(self) -> str:
        return shown_url(self.base_url)

    def close(self) -> None:
        self._http.close()

    # -- requests ----------------------------------------------------------
    def stream_chat(
        self,
        messages: list[dict],
        max_tokens: int = 320,
        temperature: float = 0.0,
        stats: ChatStats | None = None,
        stream: bool = True,
    ) -> Iterator[str]:
        """Yield the reply's text as it arrives (one piece when ``stream`` is False)."""
        stats = stats if stats is not None else ChatStats()
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        url = f"{self.base_url}/chat/completions"
        t0 = time.monotonic()
        last: LLMError | None = None
        for attempt in range(self.retries + 1):
            stats.attempts = attempt + 1
            delay = None
            yielded = False
            try:
                with self._http.stream("POST", url, json=payload, headers=headers) as resp:
                    if resp.status_code >= 400:
                        resp.read()
                        last = self._http_error(resp, attempt + 1)
                        if resp.status_code in RETRY_STATUS and attempt < self.retries:
                            delay = self._delay(attempt, resp.headers)
                        else:
                            raise last
                    else:
                        for piece in self._pieces(resp, stats, t0):
                            yielded = True
                            yield piece
                        stats.total_s = time.monotonic() - t0
                        log.info("LLM %s answered: %s", self.where, stats.to_dict())
                        return
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if yielded:
                    raise LLMUnavailable(f"the LLM at {self.where} broke off its reply ({_why(exc)})") from exc
                last = LLMUnavailable(f"cannot reach the LLM at {self.where} ({_why(exc)}); is the server running?")
                if attempt < self.retries:
                    delay = self._delay(attempt, {})
                else:
                    raise LLMUnavailable(f"{last} (tried {attempt + 1} times)") from exc
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
                raise LLMUnavailable(
                    f"the LLM at {self.where} did not answer within {self.timeout:g} s (DOCQA_LLM_TIMEOUT)"
                ) from exc
            except httpx.HTTPError as exc:  # anything else httpx reports (bad proxy, TLS, …)
                raise LLMUnavailable(f"request to the LLM at {self.where} failed: {_why(exc)}") from exc
            log.warning("LLM %s attempt %d failed (%s); retrying in %.2f s", self.where, attempt + 1, last, delay)
            self.sleep(delay)
        raise last or LLMUnavailable(f"the LLM at {self.where} did not answer")  # pragma: no cover

    def complete(self, messages: list[dict], **kwargs) -> str:
        return "".join(self.stream_chat(messages, **kwargs))

    # -- helpers -----------------------------------------------------------
    def _delay(self, attempt: int, headers) -> float:
        wait = min(self.max_backoff, self.backoff * 2**attempt) * (0.75 + 0.25 * random.random())
        after = headers.get("retry-after") if headers else None
        if after:
            try:
                wait = max(0.0, min(self.max_backoff, float(after)))
            except ValueError:
                pass
        return wait

    def _pieces(self, resp: httpx.Response, stats: ChatStats, t0: float) -> Iterator[str]:
        ctype = resp.headers.get("content-type", "")
        deadline = t0 + self.timeout
        if "text/event-stream" not in ctype:  # a plain JSON reply (stream off, or ignored)
            data = self._json(resp.read())
            self._check_error(data)
            text = _message_text(data)
            stats.first_token_s = time.monotonic() - t0
            self._usage(data, stats)
            if not stats.completion_tokens and text:
                stats.completion_tokens = 1
            if text:
                yield text
            return
        for line in resp.iter_lines():
            if time.monotonic() > deadline:
                raise LLMUnavailable(f"the LLM at {self.where} took longer than {self.timeout:g} s (DOCQA_LLM_TIMEOUT)")
            line = line.strip()
            if not line.startswith("data:"):
                continue  # comments, event names, keep-alives
            body = line[5:].strip()
            if body == "[DONE]":
                break
            data = self._json(body.encode())
            self._check_error(data)
            self._usage(data, stats)
            for choice in data.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    if stats.first_token_s is None:
                        stats.first_token_s = time.monotonic() - t0
                    stats._chunks += 1
                    yield piece
        if not stats.completion_tokens:
            stats.completion_tokens = stats._chunks

    def _json(self, body: bytes) -> dict:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LLMConfigError(
                f"the server at {self.where} did not answer in the chat-completions format "
                f"({exc}); check DOCQA_LLM_BASE_URL (it usually ends in /v1)"
            ) from exc
        if not isinstance(data, dict):
            raise LLMConfigError(f"the server at {self.where} sent {type(data).__name__}, not a chat completion")
        return data

    def _check_error(self, data: dict) -> None:
        if data.get("error"):
            raise LLMUnavailable(f"the LLM at {self.where} reported an error: {self._scrub(_error_text(data))}")

    @staticmethod
    def _usage(data: dict, stats: ChatStats) -> None:
        usage = data.get("usage") or {}
        if isinstance(usage, dict):
            if isinstance(usage.get("prompt_tokens"), int):
                stats.prompt_tokens = usage["prompt_tokens"]
            if isinstance(usage.get("completion_tokens"), int) and usage["completion_tokens"]:
                stats.completion_tokens = usage["completion_tokens"]

    def _http_error(self, resp: httpx.Response, attempts: int) -> LLMError:
        code = resp.status_code
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        try:
            detail = _error_text(resp.json())
        except (ValueError, UnicodeDecodeError):
            detail = resp.text
        detail = self._scrub(" ".join(detail.split()))[:MAX_MESSAGE_CHARS]
        said = f": {detail}" if detail else ""
        if code in (401, 403):
            return LLMConfigError(f"the LLM at {self.where} refused the API key (HTTP {code}){said}; check DOCQA_LLM_API_KEY")
        if code == 404:
            return LLMConfigError(
                f"the LLM at {self.where} answered HTTP 404 for /chat/completions with model {self.model!r}{said}; "
                "check DOCQA_LLM_BASE_URL (it usually ends in /v1) and DOCQA_LLM_MODEL"
            )
        if code == 429:
            return LLMUnavailable(f"the LLM at {self.where} is rate-limiting requests (HTTP 429, {tries}){said}")
        if code >= 500 or code in RETRY_STATUS:
            return LLMUnavailable(f"the LLM at {self.where} failed (HTTP {code}, {tries}){said}")
        return LLMConfigError(f"the LLM at {self.where} rejected the request (HTTP {code}){said}")

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _why(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    return " ".join(text.split())[:MAX_MESSAGE_CHARS]


def _error_text(data) -> str:
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)
        return str(err)
    return str(data)


def _message_text(data: dict) -> str:
    choices = data.get("choices") or []
    if not choices:
        return ""
    msg = choices[0].get("message") or {}
    return msg.get("content") or choices[0].get("text") or ""
