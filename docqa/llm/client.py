"""An OpenAI-compatible chat-completions client (hosted APIs, vLLM, Ollama,
llama.cpp's server): the official ``openai`` SDK, with DocQA's rules on top.

- ``timeout`` bounds both the wait for any byte from the server and the whole
  reply, counted from the call: a reply still coming then is cut off, even
  while the server keeps it alive.  A slow reply is not retried (it would be
  as slow again), and no retry waits past the deadline (``deadline.py``).
- The SDK retries connection failures, HTTP 408, 409, 429 and 5xx ``retries``
  times with exponential backoff, honouring ``Retry-After``.  It returns once
  the reply's headers arrived, so every retry comes before the first token.
- Failures raise ``LLMUnavailable`` or ``LLMConfigError`` (``backend.py``)
  with messages that name the server and what to do; the API key never
  appears in a message or a log line.  Only DocQA's settings decide what is
  sent: no ``OPENAI_*`` variable adds a key or a header.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import httpx2
import openai

from docqa.errors import LLMError
from docqa.llm.backend import ChatStats, LLMConfigError, LLMUnavailable, check_base_url, shown_url
from docqa.llm.deadline import DeadlineClient, Overdue, SlowReply, until

__all__ = ["ChatClient", "ChatStats", "LLMConfigError", "LLMUnavailable", "check_base_url", "shown_url"]

log = logging.getLogger("docqa.llm")

MAX_MESSAGE_CHARS = 300
CONNECT_TIMEOUT = 10.0


class ChatClient:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0, retries: int = 2):
        if not model:
            raise LLMConfigError("DOCQA_LLM_MODEL is empty; set it to the model name the server knows")
        self.base_url = check_base_url(base_url)
        self.model = model
        self._key = api_key or None
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        omitted = ["OpenAI-Organization", "OpenAI-Project"] + ([] if self._key else ["Authorization"])
        self._headers = {name: openai.Omit() for name in omitted}
        self._sdk = openai.OpenAI(
            base_url=self.base_url,
            api_key=self._key or "unused",  # without a key no Authorization header is sent
            timeout=openai.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT, self.timeout)),
            max_retries=self.retries,
            http_client=DeadlineClient(),
        )

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient({shown_url(self.base_url)!r}, model={self.model!r})"

    @property
    def where(self) -> str:
        return shown_url(self.base_url)

    def close(self) -> None:
        self._sdk.close()

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
        t0 = time.monotonic()
        try:
            with until(t0 + self.timeout):
                # The SDK's overloads want stream as a Literal and typed message dicts; here it is a runtime flag.
                raw = self._sdk.chat.completions.with_raw_response.create(  # type: ignore[call-overload]
                    model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature,
                    stream=stream,
                    extra_headers=self._headers,
                    **({"stream_options": {"include_usage": True}} if stream else {}),
                )  # fmt: skip
        except openai.APIError as exc:
            stats.attempts = _attempts(exc)
            raise self._error(exc, stats.attempts, replying=False) from exc
        stats.attempts = raw.retries_taken + 1
        try:
            yield from self._pieces(raw.http_response, raw.parse, stats, t0)
        except (openai.APIError, httpx2.TransportError, Overdue, ValueError) as exc:
            raise self._error(exc, stats.attempts, replying=True) from exc
        finally:
            raw.http_response.close()  # also when the caller stops reading
        stats.total_s = time.monotonic() - t0
        log.info("LLM %s answered: %s", self.where, stats.to_dict())

    def complete(self, messages: list[dict], **kwargs) -> str:
        return "".join(self.stream_chat(messages, **kwargs))

    def first_token(self, messages: list[dict], top: int = 20) -> tuple[str, dict[str, float]]:
        """The reply's first token and the log-probabilities of the ``top``
        tokens the model weighed for it (empty when the server sends none)."""
        t0 = time.monotonic()
        try:
            with until(t0 + self.timeout):
                reply = self._sdk.chat.completions.create(
                    model=self.model, messages=messages, max_tokens=1, temperature=0.0,  # type: ignore[arg-type]
                    logprobs=True, top_logprobs=top, extra_headers=self._headers,
                )  # fmt: skip
        except openai.APIError as exc:
            raise self._error(exc, _attempts(exc), replying=False) from exc
        except (httpx2.TransportError, Overdue) as exc:
            raise self._error(exc, 1, replying=True) from exc
        choice = (getattr(reply, "choices", None) or [None])[0]
        if choice is None:
            raise self._error(ValueError("no choices"), 1, replying=True)
        text = (choice.message.content if choice.message else None) or ""
        content = getattr(choice.logprobs, "content", None) or []
        weighed = {t.token: float(t.logprob) for t in (content[0].top_logprobs or [])} if content else {}
        return text, weighed

    def _pieces(self, response: httpx2.Response, parse: Callable, stats: ChatStats, t0: float) -> Iterator[str]:
        if "text/event-stream" in response.headers.get("content-type", ""):
            for chunk in parse():
                if getattr(chunk, "usage", None):
                    stats.count(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in getattr(chunk, "choices", None) or []:
                    if piece := getattr(choice.delta, "content", None):
                        if stats.first_token_s is None:
                            stats.first_token_s = time.monotonic() - t0
                        stats._chunks += 1
                        yield piece
            stats.completion_tokens = stats.completion_tokens or stats._chunks
            return
        data = json.loads(response.read())  # a plain completion (stream off, or ignored)
        if not isinstance(data, dict):
            raise ValueError(f"sent {type(data).__name__}, not a chat completion")
        if data.get("error"):
            raise LLMUnavailable(self._scrub(f"the LLM at {self.where} reported an error: {_error_text(data)}"))
        choice = (data.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or choice.get("text") or ""
        usage = data["usage"] if isinstance(data.get("usage"), dict) else {}
        stats.first_token_s = time.monotonic() - t0
        stats.count(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        stats.completion_tokens = stats.completion_tokens or int(bool(text))
        if text:
            yield text

    def _error(self, exc: Exception, attempts: int, replying: bool) -> LLMError:
        """DocQA's error for what the SDK raised, the key scrubbed from its message."""
        kind, message = self._explain(exc, attempts, replying)
        return kind(self._scrub(message))

    def _explain(self, exc: Exception, attempts: int, replying: bool) -> tuple[type[LLMError], str]:
        at, limit = f"the LLM at {self.where}", f"{self.timeout:g} s (DOCQA_LLM_TIMEOUT)"
        if isinstance(exc, Overdue):
            return LLMUnavailable, f"{at} took longer than {limit}"
        if isinstance(exc, (SlowReply, httpx2.TimeoutException)) or (replying and isinstance(exc, openai.APITimeoutError)):
            return LLMUnavailable, f"{at} did not answer within {limit}"
        if isinstance(exc, (openai.APIConnectionError, httpx2.TransportError)):
            why = _why(exc.__cause__ or exc)
            if replying:
                return LLMUnavailable, f"{at} broke off its reply ({why})"
            return LLMUnavailable, f"cannot reach {at} ({why}); is the server running? (tried {attempts} times)"
        if isinstance(exc, ValueError):
            return LLMConfigError, (
                f"the server at {self.where} did not answer in the chat-completions format "
                f"({exc}); check DOCQA_LLM_BASE_URL (it usually ends in /v1)"
            )
        if not isinstance(exc, openai.APIStatusError):  # an error event in the stream
            return LLMUnavailable, f"{at} reported an error: {getattr(exc, 'message', exc)}"
        code = exc.status_code
        detail = exc.response.text if exc.body is None else _error_text(exc.body)
        said = (": " + self._scrub(" ".join(detail.split()))[:MAX_MESSAGE_CHARS]) if detail.strip() else ""
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if code in (401, 403):
            return LLMConfigError, f"{at} refused the API key (HTTP {code}){said}; check DOCQA_LLM_API_KEY"
        if code == 404:
            return LLMConfigError, (
                f"{at} answered HTTP 404 for /chat/completions with model {self.model!r}{said}; "
                "check DOCQA_LLM_BASE_URL (it usually ends in /v1) and DOCQA_LLM_MODEL"
            )
        if code == 429:
            return LLMUnavailable, f"{at} is rate-limiting requests (HTTP 429, {tries}){said}"
        if code >= 500 or code in (408, 409):
            return LLMUnavailable, f"{at} failed (HTTP {code}, {tries}){said}"
        return LLMConfigError, f"{at} rejected the request (HTTP {code}){said}"

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _attempts(exc: openai.APIError) -> int:
    """How many times the SDK sent the request that failed (its retry count header)."""
    return int(exc.request.headers.get("x-stainless-retry-count", 0)) + 1


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    return " ".join(text.split())[:MAX_MESSAGE_CHARS]


def _error_text(data: object) -> str:
    if isinstance(data, dict):
        err = data.get("error", data)
        return str(err.get("message") or err.get("detail") or err) if isinstance(err, dict) else str(err)
    return str(data)
