"""`docqa serve`: the chat window, the portal widget and the HTTP API on one port.

Kept light to import (typer and the standard library only): the CLI imports
this module for every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docqa.errors import DocQAError


def _settings(**overrides):
    from docqa.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # validated, env filled in


def prepare_engine(settings, echo=typer.echo, live: bool = False, embedder=None):
    """The engine over ``settings.index_path``; when there is no index yet, the
    bundled report is ingested first (one embedder shared by both).  ``live``:
    a ``LiveEngine`` that follows the index's live generation (hot reload)."""
    from docqa.errors import IndexNotFound
    from docqa.factory import make_embedder, make_engine, make_ingestor
    from docqa.settings import BUNDLED_CORPUS

    embedder = embedder or make_embedder(settings)
    try:
        engine = make_engine(settings, embedder)
    except IndexNotFound:
        echo(f"no index at {settings.index_path}; ingesting the bundled report ({BUNDLED_CORPUS})")
        report = make_ingestor(settings, embedder).ingest([BUNDLED_CORPUS])
        echo(report.summary())
        engine = make_engine(settings, embedder)
    engine.warmup()  # load dictionaries and run the model once before the first visitor
    return _live(engine, settings, embedder, settings.index_path) if live else engine


def _live(engine, settings, embedder, index_dir: Path):
    from docqa.factory import make_engine
    from docqa.index.store import live_generation
    from docqa.web.live import LiveEngine

    def generation() -> str | None:
        gen = live_generation(index_dir)
        return gen.name if gen is not None else None

    return LiveEngine(engine, lambda: make_engine(settings, embedder, index_dir), generation).start()


def prepare_shelf(settings, echo=typer.echo):
    """Every collection of ``settings.home`` for one server: the default one
    (the bundled report is ingested when it has no index yet) and the named
    ones, each following its own index generations."""
    from docqa.factory import make_embedder, make_engine
    from docqa.index.store import live_generation
    from docqa.web.shelf import Shelf

    embedder = make_embedder(settings)
    default = prepare_engine(settings, echo, live=True, embedder=embedder)

    def open_collection(name: str):
        index_dir = settings.collection_index(name)
        engine = make_engine(settings, embedder, index_dir)  # IndexNotFound when it has none
        engine.warmup()
        return _live(engine, settings, embedder, index_dir)

    def names() -> list[str]:  # a folder whose first ingest failed is not a collection
        return [n for n in settings.collection_names() if live_generation(settings.collection_index(n)) is not None]

    return Shelf(default, open_collection, names)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (env DOCQA_HOST, default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env DOCQA_PORT, default 7860).")] = None,
    root_path: Annotated[
        str | None,
        typer.Option("--root-path", help="Public sub-path behind a reverse proxy, e.g. /docqa (env DOCQA_ROOT_PATH)."),
    ] = None,
    allowed_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-origin",
            help="Origin allowed to embed the widget and call the API (repeatable) "
            "(env DOCQA_ALLOWED_ORIGINS as a JSON list). Same origin and localhost are always allowed.",
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Questions answered at once (env DOCQA_CONCURRENCY, default 4).")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Default passages to retrieve (env DOCQA_TOP_K).")] = None,
    lang: Annotated[str, typer.Option(envvar="DOCQA_LANG", help="Interface language: zh or en.")] = "zh",
    index: Annotated[Path | None, typer.Option("--index", help="Index directory (default: $DOCQA_HOME/index).")] = None,
) -> None:
    """Serve the chat UI, the portal widget and the HTTP API."""
    if lang not in ("zh", "en"):
        raise DocQAError(f"--lang must be zh or en, got {lang!r}")
    if root_path and not root_path.startswith("/"):
        raise DocQAError(f"--root-path must start with '/', e.g. /docqa; got {root_path!r}")
    settings = _settings(
        host=host,
        port=port,
        root_path=root_path.rstrip("/") if root_path else None,
        allowed_origins=allowed_origin or None,
        concurrency=concurrency,
        top_k=top_k,
        index_dir=index,
    )
    from docqa.web.server import serve as run_server

    shelf = prepare_shelf(settings)  # each collection follows `docqa ingest` / `remove` / `rollback` while serving
    run_server(shelf, settings, lang)
