"""``DOCQA_ENCODER=onnx``: questions through the int8 ONNX build of the model
(built once beside it), passages through torch; the question vectors stay
close to torch's and retrieve the same passages on the bundled report."""

from __future__ import annotations

import numpy as np
import pytest

from docqa.errors import ModelUnavailable
from docqa.settings import BUNDLED_CORPUS, DEFAULT_MODEL, Settings
from tests.conftest import MODELS_DIR

QUESTIONS = [
    "上海累计备案了多少家新型研发机构？",
    "第二批长三角创新联合体有多少家？",
    "How many AI models did the Shanghai Asia-Pacific Typhoon Research Center release?",
    "火星上有多少人？",
]


@pytest.fixture(scope="module")
def onnx_embedder():
    from docqa.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(DEFAULT_MODEL, MODELS_DIR, encoder="onnx")


@pytest.mark.model
def test_onnx_question_vectors_are_close_to_torch(onnx_embedder, real_embedder):
    fast, exact = onnx_embedder.embed_queries(QUESTIONS), real_embedder.embed_queries(QUESTIONS)
    assert fast.shape == exact.shape == (len(QUESTIONS), 384) and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-4)
    assert (fast * exact).sum(1).min() > 0.97
    passages = ["上海累计备案新型研发机构201家。"]
    assert np.allclose(onnx_embedder.embed_passages(passages), real_embedder.embed_passages(passages))  # torch


@pytest.mark.model
def test_onnx_questions_retrieve_what_torch_retrieves(onnx_embedder, report_engine, tmp_path):
    from docqa.factory import make_engine, make_ingestor

    settings = Settings(home=tmp_path)
    make_ingestor(settings, onnx_embedder).ingest([BUNDLED_CORPUS])  # passages through torch: the same index
    fast = make_engine(settings, onnx_embedder)
    for q in QUESTIONS[:3]:
        assert fast.ask(q).passages[0].chunk.text == report_engine.ask(q).passages[0].chunk.text


def test_onnx_needs_a_local_mean_pooling_model(tmp_path):
    from docqa.index.embedder import SentenceTransformerEmbedder

    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model"), tmp_path, encoder="onnx")
    with pytest.raises(ValueError, match="encoder"):
        Settings(encoder="tensorrt")


@pytest.mark.model
def test_auto_encoder_falls_back_to_torch_for_a_model_onnx_cannot_take(monkeypatch, caplog):
    """DOCQA_ENCODER=auto (the default) takes ONNX where it can; for a model it cannot
    (a hub name, another pooling) questions go through torch, with a line in the log."""
    from docqa.index.embedder import SentenceTransformerEmbedder

    assert Settings.model_fields["encoder"].default == "auto"

    def cannot(self, folder):
        raise ModelUnavailable("not a local mean-pooling model")

    monkeypatch.setattr(SentenceTransformerEmbedder, "_check_onnx", cannot)
    with caplog.at_level("WARNING"):
        embedder = SentenceTransformerEmbedder(DEFAULT_MODEL, MODELS_DIR, encoder="auto")
    assert embedder._query_encoder() is None and "encoded by torch" in caplog.text
    assert embedder.embed_queries(["上海累计备案了多少家新型研发机构？"]).shape == (1, embedder.dim)
    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder(DEFAULT_MODEL, MODELS_DIR, encoder="onnx")
