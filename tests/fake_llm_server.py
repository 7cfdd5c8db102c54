"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions
protocol, with scripted replies — for the LLM client, generator and guard tests.

    with FakeLLMServer() as server:
        server.script(Reply("答案[1]。"), Reply(status=500), Reply(text="…", stream=False))
        client = ChatClient(server.url, "fake-model")

Each request takes the next scripted reply (the last one repeats).  A reply
streams as ``data: {...}`` SSE chunks ending in ``data: [DONE]`` when the
request asks for ``stream: true`` (unless the reply says ``stream=False``),
else it is one JSON completion.  ``status`` sends an HTTP error with an OpenAI
error body; ``delay`` waits before the headers, ``chunk_delay`` between chunks.
Every request body is kept in ``server.requests``, its headers in ``server.headers``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    stream: bool | None = None  # None: as the request asks
    delay: float = 0.0
    chunk_delay: float = 0.0
    headers: dict = field(default_factory=dict)
    chunks: list[str] | None = None  # how to cut the text (default: ~3 characters each)
    body: bytes | None = None  # send these bytes instead of a completion


class FakeLLMServer:
    def __init__(self, model: str = "fake-model", api_key: str | None = None):
        self.model = model
        self.api_key = api_key
        self.requests: list[dict] = []
        self.headers: list[Message] = []  # each request's headers (names case-insensitive, as in HTTP)
        self._script: list[Reply] = [Reply("")]
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script = list(replies)

    def _next(self) -> Reply:
        with self._lock:
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send_json(self, status: int, payload: dict, extra: dict | None = None) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                server.headers.append(self.headers)
                if self.path != "/v1/chat/completions":
                    return self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send_json(401, {"error": {"message": "Incorrect API key provided"}})
                reply = server._next()
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                if reply.status != 200:
                    return self._send_json(
                        reply.status,
                        {"error": {"message": f"scripted failure {reply.status}", "code": reply.status}},
                        reply.headers,
                    )
                stream = body.get("stream", False) if reply.stream is None else reply.stream
                if not stream:
                    return self._send_json(
                        200,
                        {
                            "id": "cmpl-fake",
                            "object": "chat.completion",
                            "model": server.model,
                            "choices": [
                                {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
                            ],
                            "usage": {"prompt_tokens": 100, "completion_tokens": max(1, len(reply.text) // 2)},
                        },
                    )
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = (
                    reply.chunks if reply.chunks is not None else [reply.text[i : i + 3] for i in range(0, len(reply.text), 3)]
                )
                first = {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"role": "assistant"}}],
                }
                self._event(first)
                for piece in pieces:
                    if reply.chunk_delay:
                        time.sleep(reply.chunk_delay)
                    self._event({"id": "c", "object": "chat.completion.chunk", "model": server.model,
                                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})  # fmt: skip
                self._event(
                    {
                        "id": "c",
                        "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    }
                )
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
                self.wfile.flush()

        return Handler
