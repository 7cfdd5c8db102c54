"""With the real model: the answer reader trains (LoRA adapters, peft), is
written, loads into a copy of the embedding model and scores pairs, and the
embedding model itself is left as it was.  Marked `model`."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.model


def test_the_reader_trains_loads_and_leaves_the_embedder_alone(real_embedder, tmp_path, monkeypatch):
    pytest.importorskip("peft")
    from docqa.answer.reader import AnswerReader, save
    from docqa.train import reader_fit

    question = "上海累计备案了多少家新型研发机构？"
    before = real_embedder.embed_queries([question])
    pairs = reader_fit.Pairs(
        [question] * 4,
        ["新型研发机构\n上海累计备案新型研发机构36家。", "科技金融\n科创板上市企业数量居全国前列。"] * 2,
        np.array([1, 0, 1, 0], np.float32),
        np.arange(4),
    )
    monkeypatch.setattr(reader_fit, "BATCH", 2)
    tensors = reader_fit.train(real_embedder.transformer, pairs, bfloat16=False, log=lambda _: None)
    assert {"head.weight", "head.bias"} <= set(tensors) and any(k.endswith(".A") for k in tensors)
    path = tmp_path / "m.reader.safetensors"
    save(path, tensors, reader_fit.scale())
    scores = AnswerReader(path, real_embedder.transformer).score_pairs(pairs.questions, pairs.texts)
    assert scores.shape == (4,) and np.all((scores > 0) & (scores < 1))
    assert scores[0] == pytest.approx(scores[2], abs=1e-5)  # the same pair, the same score
    np.testing.assert_allclose(real_embedder.embed_queries([question]), before, atol=1e-6)
