"""The command line's own behaviour (commands are tested with what they call)."""

from __future__ import annotations

import pytest


def test_ctrl_c_says_the_index_was_not_changed_and_how_to_resume(monkeypatch, capsys):
    """Typer answers Ctrl-C with exit code 130 (returned, not raised, when not
    standalone), click with Abort; either way the user gets one line and 130."""
    import click

    from docqa import cli

    for raised in (KeyboardInterrupt(), click.exceptions.Abort(), None):

        def app(*a, _raised=raised, **k):
            if _raised is None:
                return 130
            raise _raised

        monkeypatch.setattr(cli, "app", app)
        with pytest.raises(SystemExit) as exit_:
            cli.main()
        assert exit_.value.code == 130
        assert "interrupted; the index was not changed (`docqa ingest` again resumes" in capsys.readouterr().err
