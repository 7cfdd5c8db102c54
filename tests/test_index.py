"""The persisted index: manifest, incremental updates, atomic writes, mismatches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from docqa.errors import DocumentError, IndexCorrupt, IndexNotFound, ModelMismatch
from docqa.factory import make_engine, make_ingestor
from docqa.index import segment, store, updater
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
    assert {d["title"] for d in docs.values()} == {"甲机构", "乙报告"}  # a.txt's first line, b.md's # title
    assert all(len(d["sha256"]) == 64 for d in docs.values())
    assert manifest["counts"] == {"documents": 2, "chunks": report.chunks}
    gen = store.live_generation(settings.index_path)
    assert {p.name for p in gen.iterdir()} == {"manifest.json", "deleted.npy", "segments.json"}
    [segment] = manifest["segments"]
    assert manifest["faiss"]["segments"] == [{"name": segment, "rows": report.chunks, "type": "Flat"}]
    ids = np.load(settings.index_path / "segments" / segment / "ids.npy").tolist()
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


def test_an_index_chunked_by_an_older_docqa_says_so(settings, corpus, monkeypatch):
    """After an upgrade that splits documents differently, the message names the versions and
    the way out, not settings the user never changed."""
    from docqa.index import ingestion

    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    monkeypatch.setattr(ingestion, "CHUNKER_VERSION", ingestion.CHUNKER_VERSION + 1)
    with pytest.raises(ModelMismatch, match=r"older DocQA \(chunker version \d+; this one is version \d+.*--rebuild") as err:
        make_engine(settings, FakeEmbedder())
    assert "DOCQA_CHUNK_SIZE" not in str(err.value)
    make_ingestor(settings, FakeEmbedder()).ingest([corpus], rebuild=True)
    assert make_engine(settings, FakeEmbedder()).info()["documents"] == 2


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

    monkeypatch.setattr(segment, "_write_json", crash)
    with pytest.raises(OSError):
        make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    monkeypatch.undo()
    assert store.read_manifest(settings.index_path) == before
    for folder in (settings.index_path, settings.index_path / "segments"):
        assert [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")] == []
    assert make_engine(settings, FakeEmbedder()).info()["documents"] == 2


def test_a_segment_no_generation_lists_is_removed_by_the_next_write(settings, corpus, monkeypatch):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    _write(corpus, "c.txt", "新文档内容。")
    monkeypatch.setattr(store, "_write_generation", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    monkeypatch.undo()
    assert len(list((settings.index_path / "segments").iterdir())) == 2  # written, listed by no generation
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    listed = set(store.read_manifest(settings.index_path)["segments"])
    assert {p.name for p in (settings.index_path / "segments").iterdir()} == listed | {
        n
        for g in store.generations(settings.index_path)
        for n in json.loads((settings.index_path / g / "manifest.json").read_text())["segments"]
    }
    assert make_engine(settings, FakeEmbedder()).info()["documents"] == 3


class _Killed(Exception):
    pass


class _DiesAfter(FakeEmbedder):
    """Embeds ``batches`` batches of passages, then dies like a killed process."""

    def __init__(self, batches: int):
        super().__init__()
        self.left = batches

    def embed_passage_units(self, texts, spans):
        if self.left == 0:
            raise _Killed()
        self.left -= 1
        return super().embed_passage_units(texts, spans)


def test_a_killed_ingest_resumes_where_it_stopped(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(updater, "EMBED_BATCH", 10)
    d = tmp_path / "many"
    for i in range(60):
        _write(d, f"f{i}.txt", f"第{i}号文件记录了编号为{i}的项目。")
    with pytest.raises(_Killed):
        make_ingestor(settings, _DiesAfter(4)).ingest([d])
    assert store.live_generation(settings.index_path) is None  # nothing went live
    again = FakeEmbedder()
    report = make_ingestor(settings, again).ingest([d])
    assert report.chunks == 60 and again.passages_embedded == 20  # the 40 embedded before the kill were kept
    assert not (settings.index_path / updater.CACHE).exists()  # emptied once the change is live
    fresh = tmp_path / "fresh-home"
    make_ingestor(settings.model_copy(update={"home": fresh}), FakeEmbedder()).ingest([d])
    q = "编号为37的项目"
    resumed = make_engine(settings, FakeEmbedder()).ask(q)
    rebuilt = make_engine(settings.model_copy(update={"home": fresh}), FakeEmbedder()).ask(q)
    assert [h.chunk.text for h in resumed.passages] == [h.chunk.text for h in rebuilt.passages]


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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["docqa", "ask", "--nope"], "No such option: --nope"),
        (["docqa", "calibrate-check", "--limit", "5"], "Invalid value for '--limit'"),
        (["docqa", "eval", "--limit", "-3"], "Invalid value for '--limit'"),
    ],
)
def test_cli_usage_errors_show_usage_not_a_traceback(monkeypatch, capsys, argv, message):
    from docqa.cli import main as docqa_main
    from docqa.eval.__main__ import main as eval_main

    monkeypatch.setattr("sys.argv", argv if argv[1] != "eval" else ["docqa eval", *argv[2:]])
    with pytest.raises(SystemExit) as exit_:
        (eval_main if argv[1] == "eval" else docqa_main)()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err and err.startswith("Usage: ")


@pytest.mark.parametrize("exact_max", [50_000, 2])
def test_many_small_ingests_merge_and_search_like_one_rebuild(settings, tmp_path, monkeypatch, exact_max):
    """Segments, deleted rows and merges are invisible to search: the same
    documents give the same passages and scores as one fresh build (with
    exact_max 2, merged segments and the fresh build search an HNSW graph)."""
    monkeypatch.setattr(store, "MERGE_FACTOR", 3)
    monkeypatch.setattr(segment, "EXACT_MAX", exact_max)
    d = tmp_path / "docs"
    for i in range(8):
        _write(d, f"f{i}.txt", f"第{i}号文件记录了编号为{i}的项目，项目位于{'浦东' if i % 2 else '静安'}。")
        make_ingestor(settings, FakeEmbedder()).ingest([d])
    _write(d, "f3.txt", "第3号文件改写了：项目迁到宝山。")  # replaced
    (d / "f5.txt").unlink()  # removed
    make_ingestor(settings, FakeEmbedder()).ingest([d])
    manifest = store.read_manifest(settings.index_path)
    assert len(manifest["segments"]) < 4 and manifest["counts"] == {"documents": 7, "chunks": 7}
    kinds = {s["type"] for s in manifest["faiss"]["segments"]}
    assert ("HNSW32,SQ8" in kinds) == (exact_max < 10)
    fresh = settings.model_copy(update={"home": tmp_path / "fresh-home"})
    make_ingestor(fresh, FakeEmbedder()).ingest([d])
    grown, rebuilt = make_engine(settings, FakeEmbedder()), make_engine(fresh, FakeEmbedder())
    for q in ("项目位于浦东", "宝山的项目", "编号为5的项目", "第7号文件"):
        a, b = grown.ask(q, top_k=7), rebuilt.ask(q, top_k=7)
        seen = [
            sorted((-round(h.score, 6), h.chunk.text, round(h.lexical, 4), round(h.dense, 4)) for h in x.passages)
            for x in (a, b)
        ]
        assert seen[0] == seen[1]  # (ids differ, so a tie in the fused score may be broken the other way)
    assert "迁到宝山" in grown.ask("宝山的项目").passages[0].chunk.text


def _write_format_1(settings, data) -> None:
    """The index as DocQA wrote it before segments (format 1)."""
    import faiss

    gen = settings.index_path / "gen-20260101-000000000-00000000"
    gen.mkdir()
    ids = data.ids
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(data.spec.dim))
    flat.add_with_ids(np.stack([data.segments[0].vectors[data.rows.find(int(c))[1]] for c in ids]), ids)
    faiss.write_index(flat, str(gen / "vectors.faiss"))
    with (gen / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for c in ids.tolist():
            terms = " ".join(data.segments[0].row_terms(np.asarray([data.rows.find(c)[1]]))[0].elements())
            f.write(json.dumps({"id": c, "chunk": data.chunks[c].to_dict(), "terms": terms}, ensure_ascii=False) + "\n")
    with (gen / "docs.jsonl").open("w", encoding="utf-8") as f:
        for d in data.docs.values():
            f.write(json.dumps(d.__dict__, ensure_ascii=False) + "\n")
    np.save(gen / "units.npy", np.concatenate([data.unit_vectors[c] for c in ids.tolist()]).astype(np.float16))
    manifest = store.read_manifest(settings.index_path)
    manifest.update(
        format_version=1,
        documents={k: {kk: v[kk] for kk in ("sha256", "title", "path", "chunks")} for k, v in manifest["documents"].items()},
    )
    (gen / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (settings.index_path / "CURRENT").write_text(gen.name, encoding="utf-8")


def test_an_index_from_an_earlier_docqa_is_converted_without_embedding(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    engine = make_engine(settings, FakeEmbedder())
    before = engine.ask("甲机构累计备案多少家研发机构？")
    _write_format_1(settings, engine.index)
    with pytest.raises(IndexCorrupt, match="format version 1.*run `docqa ingest` once to convert it"):
        store.load(settings.index_path, engine.index.spec)
    quiet = FakeEmbedder()
    report = make_ingestor(settings, quiet).ingest([corpus])  # converts, then finds nothing changed
    assert quiet.passages_embedded == 0 and len(report.unchanged) == 2
    assert store.read_manifest(settings.index_path)["format_version"] == store.FORMAT_VERSION
    after = make_engine(settings, FakeEmbedder()).ask("甲机构累计备案多少家研发机构？")
    assert after.to_dict()["citations"] == before.to_dict()["citations"] and after.answer == before.answer
    assert [(h.chunk.text, round(h.lexical, 5), round(h.dense, 5)) for h in after.passages] == [
        (h.chunk.text, round(h.lexical, 5), round(h.dense, 5)) for h in before.passages
    ]


def test_the_server_converts_an_earlier_index_on_load(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    _write_format_1(settings, make_engine(settings, FakeEmbedder()).index)
    assert make_engine(settings, FakeEmbedder()).info()["documents"] == 2
    assert store.read_manifest(settings.index_path)["format_version"] == store.FORMAT_VERSION
