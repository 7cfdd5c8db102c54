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


def test_a_bad_setting_is_one_line_naming_the_variable_and_its_values(monkeypatch, capsys):
    from docqa import cli

    monkeypatch.setenv("DOCQA_PRECISION", "half")
    monkeypatch.setattr("sys.argv", ["docqa", "docs"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1
    assert "DOCQA_PRECISION='half'" in err and "'auto', 'float32' or 'bfloat16'" in err and "fix or unset it" in err


def test_a_kept_reader_cannot_be_told_to_read_english(monkeypatch, capsys):
    """`train-selector --keep-reader --english-reader` would score English
    questions with a reader that may never have read one: refused before any work."""
    from docqa import cli

    monkeypatch.setattr("sys.argv", ["docqa", "train-selector", "--keep-reader", "--english-reader"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2 and "drop --keep-reader" in capsys.readouterr().err


def test_keeping_a_reader_that_is_not_there_is_one_clear_error(monkeypatch, capsys, tmp_path):
    """`train-selector --keep-reader --out DIR` without a reader in DIR says so
    before building any training example (it would otherwise train one)."""
    from docqa import cli

    monkeypatch.setattr("sys.argv", ["docqa", "train-selector", "--keep-reader", "--out", str(tmp_path / "new")])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "no answer reader at" in err and "copy the one to keep there" in err
    assert not (tmp_path / "new").exists()
