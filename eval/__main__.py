"""``python -m docqa.eval``: the same command as ``docqa eval``, with the same
error handling (one line on stderr and a non-zero exit for a ``DocQAError``)."""

from __future__ import annotations

import sys

import typer

from docqa.eval.commands import eval_command


def main() -> None:
    from pydantic import ValidationError

    from docqa.api import DocQAError, settings_error

    app = typer.Typer(add_completion=False)
    app.command()(eval_command)
    try:
        code = app(prog_name="docqa eval", standalone_mode=False)
    except DocQAError as exc:
        typer.echo(f"eval: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except ValidationError as exc:  # DOCQA_* variables
        typer.echo(f"eval: error: {settings_error(exc)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("eval: interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors and aborts: click's, or typer's own copies of them (typer >= 0.24)
        import click

        show = getattr(exc, "show", None)
        if isinstance(exc, click.exceptions.ClickException | typer.TyperException) and callable(show):
            show()
            sys.exit(getattr(exc, "exit_code", 2))
        if isinstance(exc, click.exceptions.Abort | typer.Abort):
            sys.exit(1)
        raise
    if isinstance(code, int) and code:  # click returns a typer.Exit's code when not standalone
        sys.exit(code)


if __name__ == "__main__":
    main()
