"""Who may embed DocQA and call its API.

Default: the same origin and any localhost / 127.0.0.1 port; more origins come
from ``Settings.allowed_origins`` (``--allowed-origin``, ``DOCQA_ALLOWED_ORIGINS``).
Pages get ``Content-Security-Policy: frame-ancestors …``; the API gets CORS for
the same origins only."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docqa.errors import DocQAError

LOCAL_FRAME_ANCESTORS = ("'self'", "http://localhost:*", "http://127.0.0.1:*")
LOCAL_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1)(:\d{1,5})?"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:*]+$")

# The widget page runs only its own script and talks only to its own server.
WIDGET_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)


def check_origins(origins: Iterable[str]) -> list[str]:
    """Normalised allowed origins; raises ``DocQAError`` for anything that is
    not a bare ``scheme://host[:port]`` (or ``*``)."""
    out = []
    for origin in origins:
        o = origin.strip().rstrip("/")
        if o != "*" and not _ORIGIN.match(o):
            raise DocQAError(
                f"allowed origin {origin!r} is not an origin; give scheme, host and optional port, "
                "e.g. https://portal.example.com or http://intranet:8080"
            )
        out.append(o)
    return out


def frame_ancestors(origins: list[str]) -> str:
    return "frame-ancestors " + " ".join([*LOCAL_FRAME_ANCESTORS, *origins])


class SecurityHeaders:
    """ASGI middleware: adds ``frame-ancestors`` (merged into any CSP a route
    set) and the usual hardening headers to every HTTP response."""

    def __init__(self, app: ASGIApp, origins: list[str]):
        self.app = app
        self.ancestors = frame_ancestors(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                csp = headers.get("content-security-policy")
                headers["Content-Security-Policy"] = f"{csp}; {self.ancestors}" if csp else self.ancestors
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)
