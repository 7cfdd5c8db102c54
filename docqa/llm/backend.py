"""The LLM backend as the rest of DocQA sees it, whatever client talks to it:
its URL (checked when the engine is built, shown without credentials), the
two ways it fails, and what one request cost.

- ``LLMUnavailable``: transient (down, overloaded, too slow); the caller may
  fall back to the extractive answer.
- ``LLMConfigError``: the key, URL or model is wrong; the user must fix a
  setting (exit code 2 on the command line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from docqa.errors import LLMError


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

    def count(self, prompt_tokens: object, completion_tokens: object) -> None:
        """Take the token counts the server reported, when they are numbers."""
        if isinstance(prompt_tokens, int):
            self.prompt_tokens = prompt_tokens
        if isinstance(completion_tokens, int) and completion_tokens:
            self.completion_tokens = completion_tokens
