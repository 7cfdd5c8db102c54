"""``app.py`` and ``docqa serve``: nothing heavy at import time, flags and
``DOCQA_*`` variables reach the server, the bundled report is ingested when
there is no index, the interface comes in Chinese and English."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from docqa.settings import REPO_ROOT
from tests.fakes import FakeEmbedder
from tests.test_web_support import tiny_engine  # noqa: F401  (fixture)


def test_importing_app_and_cli_loads_no_model_and_starts_nothing():
    code = (
        "import sys, threading, docqa.cli\n"
        "light = 'gradio' not in sys.modules and 'torch' not in sys.modules\n"
        "import app\n"
        "print(light, 'sentence_transformers' in sys.modules, 'torch' in sys.modules,"
        " callable(app.build_app), threading.active_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    light, st, torch, callable_, threads = out.stdout.split()
    assert (light, st, torch, callable_) == ("True", "False", "False", "True")
    assert int(threads) == 1  # no server, no analytics thread


def _labels(blocks) -> set[str]:
    cfg = blocks.get_config_file()
    return {str(c["props"].get(key)) for c in cfg["components"] for key in ("label", "value", "placeholder")}


def test_build_app_in_chinese_and_english(tiny_engine):
    from docqa.web.ui import build_app

    zh = _labels(build_app(tiny_engine))
    assert {"提问", "设置", "检索段落数（top-k）", "回答模式"} <= zh
    en = _labels(build_app(tiny_engine, lang="en"))
    assert {"Ask", "Settings", "Passages to retrieve (top-k)", "Answer mode"} <= en
    with pytest.raises(ValueError, match="choose one of zh, en"):
        build_app(tiny_engine, lang="fr")


@pytest.fixture
def captured(monkeypatch):
    """``docqa serve`` with the fake embedder and the server call captured."""
    import docqa.factory
    import docqa.web.server

    calls = {}
    monkeypatch.setattr(docqa.factory, "make_embedder", lambda settings: FakeEmbedder())

    def fake_serve(engine, settings, lang):
        calls.update(engine=engine, settings=settings, lang=lang)

    monkeypatch.setattr(docqa.web.server, "serve", fake_serve)
    return calls


def test_serve_ingests_the_bundled_report_when_there_is_no_index(captured, settings, monkeypatch):
    from docqa.cli import app as cli

    monkeypatch.setenv("DOCQA_HOST", "0.0.0.0")
    monkeypatch.setenv("DOCQA_CONCURRENCY", "8")
    monkeypatch.setenv("DOCQA_LANG", "en")
    result = CliRunner().invoke(
        cli,
        ["serve", "--port", "8123", "--root-path", "/docqa/", "--allowed-origin", "https://portal.example.com"],
    )
    assert result.exit_code == 0, result.output
    assert "ingesting the bundled report" in result.output
    s = captured["settings"]
    assert (s.host, s.port, s.root_path, s.concurrency) == ("0.0.0.0", 8123, "/docqa", 8)
    assert s.allowed_origins == ["https://portal.example.com"]
    assert captured["lang"] == "en"
    assert captured["engine"].info()["documents"] == 1
    assert (settings.index_path / "manifest.json").exists() or any(settings.index_path.iterdir())

    # second start: the index is there, nothing is ingested
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0 and "ingesting" not in result.output
    assert captured["settings"].port == 7860 and captured["lang"] == "en"


@pytest.mark.parametrize(
    "args, message",
    [(["--lang", "fr"], "--lang must be zh or en"), (["--root-path", "docqa"], "must start with '/'")],
)
def test_serve_refuses_bad_options(captured, args, message):
    from docqa.cli import app as cli
    from docqa.errors import DocQAError

    result = CliRunner().invoke(cli, ["serve", *args])
    assert isinstance(result.exception, DocQAError) and message in str(result.exception)
    assert captured == {}


def test_public_url():
    from docqa.settings import Settings
    from docqa.web.server import public_url

    assert public_url(Settings()) == "http://127.0.0.1:7860/"
    assert public_url(Settings(host="0.0.0.0", port=80, root_path="/docqa")) == "http://localhost:80/"
