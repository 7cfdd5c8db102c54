"""``docqa feedback stats`` and ``docqa feedback export``: what users thought of
the answers, and the disliked ones as eval questions.

Kept light to import (typer and the standard library only): the CLI imports
this module for every command."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

feedback_app = typer.Typer(
    no_args_is_help=True,
    help="Users' 👍/👎 on answers (POST /api/feedback): statistics, and export as eval questions.",
)

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory (default: $DOCQA_HOME/index).")]


def _store(index: Path | None):
    from docqa.feedback.store import FeedbackStore
    from docqa.settings import Settings

    settings = Settings(index_dir=index) if index is not None else Settings()  # else DOCQA_INDEX_DIR, DOCQA_HOME
    return FeedbackStore.beside_index(settings.index_path)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        from docqa.errors import BadRequest

        raise BadRequest(f"--since takes a date (2025-01-31) or an ISO time (2025-01-31T08:00:00, UTC), got {text!r}") from None


def _nobody_yet(store) -> str:
    return (
        f"no feedback yet in {store.path}; ratings arrive through POST /api/feedback "
        "(the 👍/👎 buttons of the chat window and the widget)"
    )


def _counts(c) -> str:
    share = f" ({c.down / c.total:.0%} down)" if c.total else ""
    return f"{c.up} up, {c.down} down{share}"


@feedback_app.command("stats")
def stats(index: IndexOpt = None) -> None:
    """Ratings overall, by mode, by index generation, over the last 7 days, and how many have a comment."""
    store = _store(index)
    s = store.stats()
    if not s.all.total:
        typer.echo(_nobody_yet(store))
        return
    typer.echo(f"{s.all.total} ratings in {store.path}, {s.first} to {s.last}")
    typer.echo(f"  all:           {_counts(s.all)}")
    typer.echo(f"  last 7 days:   {_counts(s.last_7_days)}")
    typer.echo(f"  with comment:  {s.with_comment} of {s.all.total} ({s.with_comment / s.all.total:.0%})")
    typer.echo("by mode:")
    for mode, c in sorted(s.by_mode.items()):
        typer.echo(f"  {mode or '(not sent)':<14} {_counts(c)}")
    typer.echo("by index generation:")
    for gen, c in sorted(s.by_generation.items()):
        typer.echo(f"  {gen or '(unknown)'}  {_counts(c)}")


@feedback_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this JSONL file (default: standard output).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only ratings from this date on (YYYY-MM-DD, UTC).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Export 👍 ratings too, not only the disliked (👎) answers.")] = False,
    index: IndexOpt = None,
) -> None:
    """Write the disliked answers (👎) as eval-question lines for a maintainer to finish.

    Answers and evidence are left empty; stderr says how to fill them in (docs/feedback.md)."""
    from docqa.feedback.export import finish_hint, write_eval_lines

    store = _store(index)
    records = store.records(rating=None if all_ else "down", since=_since(since))
    if not records:
        what = "ratings" if all_ else "disliked answers (👎)"
        when = f" since {since}" if since else ""
        typer.echo(f"no {what}{when} in {store.path}; nothing to export" if store.exists() else _nobody_yet(store), err=True)
        return
    if out is None:
        n = write_eval_lines(records, sys.stdout)
        typer.echo(finish_hint(n, "standard output"), err=True)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        n = write_eval_lines(records, f)
    typer.echo(finish_hint(n, str(out)), err=True)
