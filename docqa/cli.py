"""``docqa``: the command line.  Parses input, calls the engine, prints the result.
Every ``DocQAError`` becomes one line on stderr and a non-zero exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from docqa.errors import DocQAError
from docqa.settings import BUNDLED_CORPUS, Settings, settings_error

app = typer.Typer(add_completion=False, no_args_is_help=True, help="DocQA: cited answers from your documents.")

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory (default: $DOCQA_HOME/index).")]
CollectionOpt = Annotated[
    str | None,
    typer.Option(
        "--collection",
        help="A named collection (its index is $DOCQA_HOME/collections/NAME; `docqa serve` serves them all). "
        "Default: the default collection.",
    ),
]


def _settings(index: Path | None = None, collection: str | None = None, **overrides) -> Settings:
    s = Settings()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if index is not None and collection:
        raise DocQAError("give --index or --collection, not both: a collection's index is $DOCQA_HOME/collections/NAME")
    if index is not None:
        updates["index_dir"] = index
    elif collection:
        updates["index_dir"] = s.collection_index(collection)  # checks the name
    return s.model_copy(update=updates) if updates else s


def _err(msg: str) -> None:
    typer.echo(f"docqa: error: {msg}", err=True)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or directories (default: the bundled report).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Discard the index and build it from these paths.")] = False,
    skip_errors: Annotated[bool, typer.Option("--skip-errors", help="Skip unreadable files instead of stopping.")] = False,
    index: IndexOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Add, update or (for directories) sync documents in the index."""
    from tqdm import tqdm

    from docqa.factory import make_ingestor

    settings = _settings(index, collection)
    bar: dict = {}

    def on_plan(n: int) -> None:
        if n:
            bar["bar"] = tqdm(total=n, unit="chunk", desc="embedding", file=sys.stderr)

    def progress(k: int) -> None:
        if "bar" in bar:
            bar["bar"].update(k)

    def ocr_progress(path: str, done: int, total: int) -> None:  # a scanned PDF, page by page
        if bar.get("ocr_of") != path:
            if "ocr" in bar:
                bar["ocr"].close()
            bar["ocr"] = tqdm(total=total, unit="page", desc=f"OCR {Path(path).name}", file=sys.stderr)
            bar["ocr_of"] = path
        bar["ocr"].n = done
        bar["ocr"].refresh()
        if done == total:
            bar.pop("ocr").close()

    try:
        report = make_ingestor(settings).ingest(
            list(paths or [BUNDLED_CORPUS]),
            rebuild=rebuild,
            skip_errors=skip_errors,
            on_plan=on_plan,
            progress=progress,
            ocr_progress=ocr_progress,
        )
    finally:
        for key in ("ocr", "bar"):
            if key in bar:
                bar[key].close()
    for _path, why in report.failed:
        _err(f"skipped {why}")
    typer.echo(report.summary())


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in Chinese or English.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer contract as JSON.")] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages to retrieve (1-50).")] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="extractive (quote the source) or llm (DOCQA_LLM_*); default DOCQA_MODE.")
    ] = None,
    index: IndexOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Answer a question from the indexed documents, with citations."""
    from docqa.factory import make_engine

    settings = _settings(index, collection)
    engine = make_engine(settings)
    answer = engine.ask(question, top_k=top_k, mode=mode)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(answer.answer)
    if answer.notice:
        typer.echo(f"({answer.notice})")
    if answer.citations:
        typer.echo("")
    for c in answer.citations:
        where = " › ".join(x for x in (c.title, c.section) if x)
        page = f", page {c.page}" if c.page else ""
        typer.echo(f"[{c.n}] {where} (chars {c.start}-{c.end}{page})")
        typer.echo(f"    “{c.quote}”")


@app.command()
def docs(index: IndexOpt = None, collection: CollectionOpt = None) -> None:
    """List the indexed documents."""
    from docqa.index.store import read_manifest

    manifest = read_manifest(_settings(index, collection).index_path)
    for doc_id, d in manifest["documents"].items():
        typer.echo(f"{d['chunks']:5d} chunks  {d['title']}  ({doc_id})")
    c = manifest["counts"]
    typer.echo(f"{c['documents']} documents, {c['chunks']} chunks; model {manifest['model']['id']}")


@app.command()
def remove(
    documents: Annotated[list[str], typer.Argument(help="Document ids or paths, as `docqa docs` lists them.")],
    index: IndexOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Remove documents from the index."""
    from docqa.factory import make_ingestor

    report = make_ingestor(_settings(index, collection)).remove(documents)
    typer.echo(report.summary())


@app.command()
def rollback(index: IndexOpt = None, collection: CollectionOpt = None) -> None:
    """Make the previous index generation live again (a running server switches to it)."""
    from docqa.index.store import rollback as roll_back

    was, now = roll_back(_settings(index, collection).index_path)
    typer.echo(f"live generation: {now} (was {was}); `docqa rollback` again goes one further back")


def _register_client_commands() -> None:
    """Commands whose code lives with the client they start (kept light to import)."""
    from docqa.eval.commands import eval_command
    from docqa.feedback.commands import feedback_app
    from docqa.llm.commands import llm_server
    from docqa.train.commands import calibrate_check, train_selector
    from docqa.web.commands import serve

    app.command("serve")(serve)
    app.command("eval")(eval_command)
    app.command("llm-server")(llm_server)
    app.command("train-selector")(train_selector)
    app.command("calibrate-check")(calibrate_check)
    app.add_typer(feedback_app, name="feedback")


_register_client_commands()


def _interrupted() -> NoReturn:
    _err("interrupted; the index was not changed (`docqa ingest` again resumes the embedding where it stopped)")
    sys.exit(130)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except DocQAError as exc:
        _err(str(exc))
        sys.exit(exc.exit_code)
    except ValidationError as exc:  # DOCQA_* variables (flags are checked by typer)
        _err(settings_error(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors and aborts: click's, or typer's own copies of them (typer >= 0.24)
        import click

        show = getattr(exc, "show", None)
        if isinstance(exc, click.exceptions.ClickException | typer.TyperException) and callable(show):
            show()
            sys.exit(getattr(exc, "exit_code", 2))
        if isinstance(exc, click.exceptions.Abort | typer.Abort):  # what click makes of Ctrl-C
            _interrupted()
        raise
    if code == 130:  # typer's answer to Ctrl-C, returned when not standalone
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
