from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from docqa.settings import BUNDLED_CORPUS, DEFAULT_MODEL, Settings
from tests.fakes import FakeEmbedder, use_embedder

REPORT = next(BUNDLED_CORPUS.glob("*.txt"))
# The real model is built once into the user's model cache (the README's main
# command builds it there too), or where DOCQA_TEST_MODELS points.
MODELS_DIR = Path(os.environ.get("DOCQA_TEST_MODELS", Path.home() / ".docqa" / "models"))


def _no_real_model(models_dir):
    raise AssertionError(
        "a test not marked `model` built the real embedding model; hand it a fake "
        "(patch docqa.api.make_embedder too: modules that imported it keep their own name)"
    )


@pytest.fixture(autouse=True)
def docqa_home(tmp_path, monkeypatch, request) -> Path:
    """Every test gets its own DOCQA_HOME and no stray DOCQA_* configuration;
    only tests marked `model` may build the real embedding model (~470 MB a copy)."""
    if request.node.get_closest_marker("model") is None:
        monkeypatch.setattr("docqa.index.embedder.ensure_default_model", _no_real_model)
    for key in list(os.environ):
        if key.startswith("DOCQA_") and key != "DOCQA_TEST_MODELS":
            monkeypatch.delenv(key)
    home = tmp_path / "docqa-home"
    monkeypatch.setenv("DOCQA_HOME", str(home))
    monkeypatch.setenv("DOCQA_RATE_LIMIT", "")  # tests ask fast from one address; tests/test_rate_limits.py sets one
    # each test's home would build its own ONNX encoder (~35 s); tests/test_onnx_encoder.py tests that path
    monkeypatch.setenv("DOCQA_ENCODER", "torch")
    return home


@pytest.fixture
def settings(docqa_home) -> Settings:
    return Settings()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_model(monkeypatch, fake_embedder) -> FakeEmbedder:
    """Every embedder the engine's factory builds is the fake one."""
    use_embedder(monkeypatch, fake_embedder)
    return fake_embedder


@pytest.fixture
def report_copy(tmp_path) -> Path:
    """The bundled report (and its metadata) copied into a fresh directory."""
    d = tmp_path / "corpus"
    d.mkdir()
    for f in BUNDLED_CORPUS.iterdir():
        shutil.copy(f, d / f.name)
    return d


@pytest.fixture(scope="session")
def real_embedder():
    from docqa.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(DEFAULT_MODEL, MODELS_DIR)


@pytest.fixture(scope="session")
def report_engine(real_embedder, tmp_path_factory):
    """The real engine over the bundled report, built once per session."""
    from docqa.factory import make_engine, make_ingestor

    home = tmp_path_factory.mktemp("report-home")
    s = Settings(home=home)
    make_ingestor(s, real_embedder).ingest([BUNDLED_CORPUS])
    return make_engine(s, real_embedder)
