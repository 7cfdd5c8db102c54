"""One HTTP server for the three ways people use DocQA: the chat window (``/``),
the portal widget (``/widget``, ``/widget.js``) and the JSON API
(``/api/ask``, ``/healthz``), plus Gradio's own API under ``/gradio_api``."""

from __future__ import annotations

import html
import json
import logging
import os
import socket
import sys
import threading
import time
from typing import cast

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from docqa.admin import AuditLog
from docqa.collection import Collection
from docqa.engine import Engine
from docqa.errors import DocQAError
from docqa.feedback import FeedbackStore
from docqa.settings import Settings
from docqa.web.admin import Admin
from docqa.web.admin_api import admin_router
from docqa.web.api import api_router, engine_for
from docqa.web.feedback_api import feedback_recorder, feedback_router, feedback_stores
from docqa.web.labels import labels
from docqa.web.limits import AnswerQueue, RateLimit, RateLimited
from docqa.web.metrics import MeteredEngine, Metrics, Observed, access_log
from docqa.web.openai_api import openai_router
from docqa.web.security import LOCAL_ORIGIN_REGEX, WIDGET_CSP, SecurityHeaders, check_origins
from docqa.web.shelf import Shelf, as_shelf
from docqa.web.theme import STATIC_DIR, mount_options

STATIC_URL = "/docqa-static"
# POSTs counted against DOCQA_RATE_LIMIT per client address (the chat window's questions are counted in its handler)
LIMITED_PATHS = ("/api/ask", "/v1/chat/completions", "/api/feedback")


def _widget_page(template: str, lang: str, collection: Collection) -> str:
    examples = html.escape(json.dumps(list(collection.examples), ensure_ascii=False), quote=True)
    return (
        template.replace("{{lang}}", lang)
        .replace("{{title}}", html.escape(collection.title or labels(lang)["title"]))
        .replace("{{examples}}", examples)
    )


def create_server(served: Engine | Shelf, settings: Settings, lang: str = "zh") -> FastAPI:
    """The FastAPI app answering from ``served`` (one engine, or a shelf of
    collections); nothing is started here."""
    from docqa.web.ui import build_app

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry (the Blocks say so too)
    labels(lang)  # fail early on an unknown language
    origins = check_origins(settings.allowed_origins)
    shelf = as_shelf(served)
    limit = RateLimit(settings.rate_limit)
    queue = AnswerQueue(settings.concurrency, settings.queue_size)
    server = FastAPI(title="DocQA", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    # middleware: the last added is outermost; the rate limit sits inside CORS so a 429 can be read cross-origin
    server.add_middleware(RateLimited, limit=limit, paths=LIMITED_PATHS)
    server.add_middleware(
        CORSMiddleware,
        allow_origins=[o for o in origins if o != "*"] or [],
        allow_origin_regex=".*" if "*" in origins else LOCAL_ORIGIN_REGEX,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    server.add_middleware(SecurityHeaders, origins=origins)
    metrics = Metrics(shelf)
    server.add_middleware(Observed, metrics=metrics)  # counts and logs every response
    # outermost: X-Forwarded-For becomes the client's address, from trusted proxies only
    server.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    shelf.wrap_with(lambda name, engine: cast(Engine, MeteredEngine(engine, metrics, name)))  # counts answers, refusals

    @server.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        return Response(metrics.scrape(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    server.include_router(api_router(shelf, queue))
    feedback = FeedbackStore.beside_index(settings.index_path)
    server.include_router(feedback_router(shelf, settings, feedback))
    server.include_router(openai_router(shelf, queue))
    if settings.admin_token is not None and settings.admin_token.get_secret_value():
        server.include_router(admin_router(make_admin(settings, shelf), settings.admin_token.get_secret_value(), shelf))
    template = (STATIC_DIR / "widget.html").read_text(encoding="utf-8")

    @server.get("/widget", response_class=HTMLResponse, include_in_schema=False)
    async def widget(collection: str = "") -> HTMLResponse:
        csp = {"Content-Security-Policy": WIDGET_CSP}
        try:
            engine = await engine_for(shelf, collection or None)
        except DocQAError as exc:
            return HTMLResponse(html.escape(str(exc)), status_code=exc.http_status, headers=csp)
        return HTMLResponse(_widget_page(template, lang, engine.collection), headers=csp)

    @server.get("/widget.js", include_in_schema=False)
    def widget_loader() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "widget.js",
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
        )

    server.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="docqa-static")
    blocks = build_app(
        shelf,
        lang=lang,
        concurrency=settings.concurrency,
        feedback=feedback_recorder(shelf, feedback_stores(settings, feedback)),
        limit=limit,
        queue_size=settings.concurrency + settings.queue_size,  # the chat window waits as the API does
        on_limited=lambda: metrics.rate_limited.labels("chat").inc(),
    )
    return gr.mount_gradio_app(
        server,
        blocks,
        path="/",
        root_path=settings.root_path.rstrip("/") or None,
        footer_links=["api", "settings"],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        show_error=True,
        **mount_options(),
    )


def make_admin(settings: Settings, shelf: Shelf) -> Admin:
    """The admin service: ingests with the served model (one embedder), audit log beside the default index."""
    from docqa.factory import make_ingestor

    embedder = shelf.default.embedder
    return Admin(
        settings,
        lambda name: make_ingestor(settings, embedder, settings.collection_index(name)),
        AuditLog.in_dir(settings.index_path),
    )


def public_url(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    """Where the server itself answers (a reverse proxy adds the root path)."""
    host = host or settings.host
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{port or settings.port}/"


def uvicorn_config(app: FastAPI, settings: Settings, port: int | None = None, log_level: str = "info") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=port or settings.port,
        root_path=settings.root_path.rstrip("/"),
        log_level=log_level,
        timeout_graceful_shutdown=3,
        proxy_headers=False,  # the app's own ProxyHeadersMiddleware trusts DOCQA_TRUSTED_PROXIES only
        access_log=False,  # the JSON access log (docqa.access) says it, without the client's address
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class BackgroundServer:
    """Run an app with uvicorn in a thread (tests, benchmarks, ``python app.py
    --help``-free embedding).  ``with BackgroundServer(app, settings) as url: …``"""

    def __init__(self, app: FastAPI, settings: Settings, port: int | None = None):
        self.port = port or free_port(settings.host)
        self.settings = settings
        self.server = uvicorn.Server(uvicorn_config(app, settings, self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name=f"docqa-server-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the DocQA server did not start on port {self.port}")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(served: Engine | Shelf, settings: Settings, lang: str = "zh") -> None:
    """Serve until interrupted (Ctrl-C); the access log (JSON lines) goes to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    app = create_server(served, settings, lang)
    url = public_url(settings)
    print(f"DocQA: chat {url}  widget {url}widget  API {url}api/ask", flush=True)
    if settings.root_path:
        print(f"DocQA: public under {settings.root_path.rstrip('/')}/ behind a reverse proxy that strips it", flush=True)
    uvicorn.Server(uvicorn_config(app, settings)).run()
