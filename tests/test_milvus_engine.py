"""The engine on DOCQA_VECTOR_STORE=milvus (milvus-lite): the same passages,
scores and answers as on the FAISS store, and in step after every change."""

from __future__ import annotations

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from docqa.factory import make_engine, make_ingestor  # noqa: E402
from docqa.index.milvus_retriever import MilvusRetriever  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402

QUESTIONS = ["甲机构累计备案多少家研发机构？", "乙公司发布了什么？", "海试", "编号为7的项目在哪里？"]


def _write(d, name, text):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "docs"
    _write(d, "a.txt", "甲机构\n\n甲机构累计备案36家研发机构。\n\n第二段内容讲述海试。")
    _write(d, "b.md", "# 乙报告\n\n乙公司发布了新的操作系统。")
    for i in range(12):
        _write(d, f"p{i}.txt", f"第{i}号项目位于{'浦东' if i % 2 else '静安'}，编号为{i}。")
    return d


def _seen(engine, q):
    a = engine.ask(q, top_k=8)
    return a.answer, sorted((-round(h.score, 6), h.chunk.text, round(h.lexical, 4), round(h.dense, 4)) for h in a.passages)


def test_milvus_answers_as_the_faiss_store_does_and_follows_changes(settings, corpus, tmp_path):
    milvus = settings.model_copy(update={"vector_store": "milvus", "milvus_uri": str(tmp_path / "m" / "docqa.db")})
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    engine = make_engine(milvus, FakeEmbedder())
    assert isinstance(engine.retriever, MilvusRetriever) and engine.retriever.synced == (14, 0)
    faiss_engine = make_engine(settings, FakeEmbedder())
    for q in QUESTIONS:
        assert _seen(engine, q) == _seen(faiss_engine, q)
    # a change: one document replaced, one removed; the next engine (a hot reload) brings Milvus in step
    _write(corpus, "p7.txt", "第7号项目迁到宝山，编号为7。")
    (corpus / "p3.txt").unlink()
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    engine = make_engine(milvus, FakeEmbedder())
    assert engine.retriever.synced == (1, 2)
    assert set(engine.retriever.milvus.ids()) == set(engine.index.ids.tolist())
    faiss_engine = make_engine(settings, FakeEmbedder())
    for q in QUESTIONS:
        assert _seen(engine, q) == _seen(faiss_engine, q)
    assert "宝山" in engine.ask("宝山").passages[0].chunk.text
