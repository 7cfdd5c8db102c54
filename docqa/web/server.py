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

from docqa.collection import Collection
from docqa.engine import Engine
from docqa.feedback import FeedbackStore
from docqa.settings import Settings
from docqa.web.api import api_router
from docqa.web.feedback_api import feedback_recorder, feedback_router
from docqa.web.labels import labels
from docqa.web.metrics import MeteredEngine, Metrics, Observed, access_log
from docqa.web.openai_api import openai_router
from docqa.web.security import LOCAL_ORIGIN_REGEX, WIDGET_CSP, SecurityHeaders, check_origins
from docqa.web.theme import STATIC_DIR, mount_options

STATIC_URL = "/docqa-static"


def _widget_page(lang: str, collection: Collection) -> str:
    page = (STATIC_DIR / "widget.html").read_text(encoding="utf-8")
    examples = html.escape(json.dumps(list(collection.examples), ensure_ascii=False), quote=True)
    return (
        page.replace("{{lang}}", lang)
        .replace("{{title}}", html.escape(collection.title or labels(lang)["title"]))
        .replace("{{examples}}", examples)
    )


def create_server(engine: Engine, settings: Settings, lang: str = "zh") -> FastAPI:
    """The FastAPI app serving ``engine``; nothing is started here."""
    from docqa.web.ui import build_app

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry (the Blocks say so too)
    labels(lang)  # fail early on an unknown language
    origins = check_origins(settings.allowed_origins)
    server = FastAPI(title="DocQA", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    server.add_middleware(
        CORSMiddleware,
        allow_origins=[o for o in origins if o != "*"] or [],
        allow_origin_regex=".*" if "*" in origins else LOCAL_ORIGIN_REGEX,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    server.add_middleware(SecurityHeaders, origins=origins)
    metrics = Metrics(engine)
    server.add_middleware(Observed, metrics=metrics)  # outermost: counts and logs every response
    engine = cast(Engine, MeteredEngine(engine, metrics))  # stands in for the engine: counts answers and refusals

    @server.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        return Response(metrics.scrape(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    server.include_router(api_router(engine, settings.concurrency))
    feedback = FeedbackStore.beside_index(settings.index_path)
    server.include_router(feedback_router(engine, settings, feedback))
    server.include_router(openai_router(engine, settings.concurrency))

    widget_html = _widget_page(lang, engine.collection)

    @server.get("/widget", response_class=HTMLResponse, include_in_schema=False)
    def widget() -> HTMLResponse:
        return HTMLResponse(widget_html, headers={"Content-Security-Policy": WIDGET_CSP})

    @server.get("/widget.js", include_in_schema=False)
    def widget_loader() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "widget.js",
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
        )

    server.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="docqa-static")
    blocks = build_app(engine, lang=lang, concurrency=settings.concurrency, feedback=feedback_recorder(engine, feedback))
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
        proxy_headers=True,
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


def serve(engine: Engine, settings: Settings, lang: str = "zh") -> None:
    """Serve until interrupted (Ctrl-C); the access log (JSON lines) goes to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
    app = create_server(engine, settings, lang)
    url = public_url(settings)
    print(f"DocQA: chat {url}  widget {url}widget  API {url}api/ask", flush=True)
    if settings.root_path:
        print(f"DocQA: public under {settings.root_path.rstrip('/')}/ behind a reverse proxy that strips it", flush=True)
    uvicorn.Server(uvicorn_config(app, settings)).run()
