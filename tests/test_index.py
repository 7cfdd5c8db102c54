"""The persisted index: manifest, incremental updates, atomic writes, mismatches."""

from __future__ import annotations

import json

import pytest

from docqa.errors import DocumentError, IndexNotFound, ModelMismatch
from docqa.factory import make_engine, make_ingestor
from docqa.index import store
from docqa.ingest.chunker import CHUNKER_VERSION
from docqa.settings import Settings
from tests.fakes import FakeEmbedder


def _write(d, name, text):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")
    return d / name


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "docs"
    _write(d, "a.txt", "甲机构\n\n甲机构累计备案36家研发机构。\n\n第二段内容讲述海试。")
    _write(d, "b.md", "# 乙报告\n\n乙公司发布了新的操作系统。")
    return d


def test_ingest_writes_manifest_and_chunk_store(settings, fake_embedder, corpus):
    report = make_ingestor(settings, fake_embedder).ingest([corpus])
    assert len(report.added) == 2 and report.chunks_added > 0
    manifest = store.read_manifest(settings.index_path)
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == {"id": "multilingual-e5-small", "dim": 64, "normalized": True, "metric": "inner_product"}
    assert manifest["chunker"] == {"chunk_size": 320, "chunk_overlap": 1, "version": CHUNKER_VERSION}
    docs = manifest["documents"]
    assert {d["title"] for d in docs.values()} == {"a", "乙报告"}
    assert all(len(d["sha256"]) == 64 for d in docs.values())
    assert manifest["counts"] == {"documents": 2, "chunks": report.chunks}
    gen = store.live_generation(settings.index_path)
    assert {p.name for p in gen.iterdir()} == {"manifest.json", "vectors.faiss", "chunks.jsonl", "docs.jsonl", "units.npy"}
    ids = [json.loads(line)["id"] for line in (gen / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    data = store.load(settings.index_path, store.IndexSpec("multilingual-e5-small", 64, manifest["chunker"]))
    assert sorted(ids) == sorted(data.ids.tolist())
    for cid, chunk in data.chunks.items():
        assert data.docs[chunk.doc].text[chunk.start : chunk.end] == chunk.text
        assert len(data.unit_vectors[cid]) == len(chunk.units)


def test_reingest_unchanged_does_no_embedding(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    gen = store.live_generation(settings.index_path)
    again = FakeEmbedder()
    report = make_ingestor(settings, again).ingest([corpus])
    assert again.passages_embedded == 0
    assert len(report.unchanged) == 2 and not report.changed
    assert store.live_generation(settings.index_path) == gen  # nothing rewritten


def test_adding_one_document_embeds_only_it(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    before = store.read_manifest(settings.index_path)["counts"]["chunks"]
    _write(corpus, "c.txt", "丙研究院发布台风模型。")
    emb = FakeEmbedder()
    report = make_ingestor(settings, emb).ingest([corpus])
    assert report.added == [str((corpus / "c.txt").resolve())]
    assert emb.passages_embedded == report.chunks_added == 1
    assert report.chunks == before + 1


def test_changed_document_is_replaced_and_removed_one_dropped(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    (corpus / "a.txt").write_text("甲机构已经更新。", encoding="utf-8")
    (corpus / "b.md").unlink()
    report = make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    assert len(report.updated) == 1 and len(report.removed) == 1
    engine = make_engine(settings, FakeEmbedder())
    texts = [c.text for c in engine.index.chunks.values()]
    assert texts == ["甲机构已经更新。"]


def test_remove_command(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    report = make_ingestor(settings, FakeEmbedder()).remove([str(corpus / "b.md")])
    assert report.removed == [str((corpus / "b.md").resolve())]
    assert store.read_manifest(settings.index_path)["counts"]["documents"] == 1
    with pytest.raises(Exception, match="not in the index"):
        make_ingestor(settings, FakeEmbedder()).remove(["nope.txt"])


def test_no_index_yet(settings):
    with pytest.raises(IndexNotFound, match="docqa ingest"):
        make_engine(settings, FakeEmbedder())


def test_model_and_chunker_mismatch_tell_the_user_to_reingest(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    other_model = settings.model_copy(update={"model": "some/other-model"})
    with pytest.raises(ModelMismatch, match="was built with model 'multilingual-e5-small'.*docqa ingest --rebuild"):
        make_engine(other_model, FakeEmbedder())
    other_chunks = settings.model_copy(update={"chunk_size": 500})
    with pytest.raises(ModelMismatch, match="chunker settings.*docqa ingest --rebuild"):
        make_engine(other_chunks, FakeEmbedder())
    with pytest.raises(ModelMismatch):
        make_ingestor(other_chunks, FakeEmbedder()).ingest([corpus])
    # --rebuild is the way out
    make_ingestor(other_chunks, FakeEmbedder()).ingest([corpus], rebuild=True)
    assert make_engine(other_chunks, FakeEmbedder()).info()["documents"] == 2


class _Interrupting(FakeEmbedder):
    def embed_passage_units(self, texts, spans):
        raise KeyboardInterrupt


def test_interrupted_ingest_keeps_the_previous_index(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    before = store.read_manifest(settings.index_path)
    _write(corpus, "c.txt", "新文档内容。")
    with pytest.raises(KeyboardInterrupt):
        make_ingestor(settings, _Interrupting()).ingest([corpus])
    assert store.read_manifest(settings.index_path) == before
    assert make_engine(settings, FakeEmbedder()).info()["documents"] == 2


def test_crash_while_writing_keeps_the_previous_index(settings, corpus, monkeypatch):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    before = store.read_manifest(settings.index_path)
    _write(corpus, "c.txt", "新文档内容。")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "_write_jsonl", crash)
    with pytest.raises(OSError):
        make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    monkeypatch.undo()
    assert store.read_manifest(settings.index_path) == before
    leftovers = [p.name for p in settings.index_path.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert make_engine(settings, FakeEmbedder()).info()["documents"] == 2


def test_bad_file_aborts_without_touching_the_index(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    before = store.read_manifest(settings.index_path)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(DocumentError, match="broken.pdf"):
        make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    assert store.read_manifest(settings.index_path) == before
    report = make_ingestor(settings, FakeEmbedder()).ingest([corpus], skip_errors=True)
    assert [p for p, _ in report.failed] == [str(corpus / "broken.pdf")]


def test_thousands_of_small_files(settings, tmp_path):
    d = tmp_path / "many"
    for i in range(1500):
        _write(d / f"sub{i % 10}", f"f{i}.txt", f"第{i}号文件记录了编号为{i}的项目。")
    report = make_ingestor(settings, FakeEmbedder()).ingest([d])
    assert len(report.added) == 1500 and report.chunks == 1500
    engine = make_engine(settings, FakeEmbedder())
    top = engine.ask("编号为1234的项目", top_k=3)
    assert "第1234号文件" in top.passages[0].chunk.text


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCQA_TOP_K", "7")
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(tmp_path / "idx"))
    s = Settings()
    assert s.top_k == 7 and s.index_path == tmp_path / "idx"
    monkeypatch.setenv("DOCQA_TOP_K", "0")
    with pytest.raises(Exception, match="top_k"):
        Settings()


def test_cli_reports_a_bad_setting_in_one_line(monkeypatch, capsys):
    from docqa.cli import main

    monkeypatch.setenv("DOCQA_MIN_CONFIDENCE", "1.5")
    monkeypatch.setattr("sys.argv", ["docqa", "ask", "上海累计备案了多少家新型研发机构？"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert err.startswith("docqa: error: DOCQA_MIN_CONFIDENCE='1.5': input should be less than or equal to 1")
