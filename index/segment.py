"""One segment of an index: the rows one ingest added (or one merge wrote),
immutable once written, shared by every generation that lists it.

Layout of ``segments/seg-…/``::

    meta.json        rows, dimension, dense index type
    ids.npy          (n,) int64 chunk ids, ascending
    vectors.npy      (n, dim) float32 L2-normalised passage vectors
    dense.faiss      HNSW graph over the vectors (only above EXACT_MAX rows;
                     smaller segments are searched exactly)
    units.npy        one float16 vector per sentence of each chunk, in row order
    units_at.npy     (n + 1,) int64: row i's sentence vectors are units[at[i]:at[i+1]]
    chunks.jsonl     one chunk per row; chunks_at.npy: byte offset of each line
    docs.jsonl       the documents whose chunks this segment holds; docs.json: id -> offset
    titles.json      the section headings of its chunks, in order
    bm25_*.npy       term counts as a CSC matrix (rows x this segment's vocabulary),
                     each row's length; vocab.json the vocabulary

Arrays are memory-mapped when loaded: memory holds the dense index and the
vocabulary, while texts, sentence vectors and postings stay on disk until a
search touches them.  Adding N chunks writes one segment of N rows.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from docqa.records import Chunk, Document

EXACT_MAX = 50_000  # rows searched exactly; a larger segment gets an HNSW graph
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 1024  # recall@10 >= 0.95 against exact on bench_scale's vectors (bench/scale_index.py)


def dense_type(rows: int) -> str:
    return "Flat" if rows <= EXACT_MAX else f"HNSW{HNSW_M},SQ8"


class Segment:
    """A written segment, opened for search."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = self.path.name
        meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        self.rows, self.dim, self.dense_type = int(meta["rows"]), int(meta["dim"]), meta["dense"]
        self.ids = np.load(self.path / "ids.npy")
        self.vectors = np.load(self.path / "vectors.npy", mmap_mode="r")
        self.units = np.load(self.path / "units.npy", mmap_mode="r")
        self.units_at = np.load(self.path / "units_at.npy")
        self.chunks_at = np.load(self.path / "chunks_at.npy")
        self.tf = np.load(self.path / "bm25_tf.npy", mmap_mode="r")
        self.tf_rows = np.load(self.path / "bm25_rows.npy", mmap_mode="r")
        self.tf_at = np.load(self.path / "bm25_at.npy")
        self.lengths = np.load(self.path / "bm25_len.npy")
        vocab = json.loads((self.path / "vocab.json").read_text(encoding="utf-8"))
        self.vocab = {t: i for i, t in enumerate(vocab)}
        self.doc_at: dict[str, int] = json.loads((self.path / "docs.json").read_text(encoding="utf-8"))
        self.titles: list[str] = json.loads((self.path / "titles.json").read_text(encoding="utf-8"))
        if not (len(self.ids) == len(self.vectors) == len(self.chunks_at) == len(self.lengths) == self.rows):
            raise ValueError(f"segment {self.name} is inconsistent (its arrays differ in length)")
        if len(self.units_at) != self.rows + 1 or self.units_at[-1] != len(self.units):
            raise ValueError(f"segment {self.name} is inconsistent (sentence vectors and chunks differ)")
        self._chunks_file = _map(self.path / "chunks.jsonl")
        self._docs_file = _map(self.path / "docs.jsonl")
        self._dense = None

    # -- rows ---------------------------------------------------------------
    def chunk(self, row: int) -> Chunk:
        return Chunk.from_dict(_line_at(self._chunks_file, int(self.chunks_at[row])))

    def iter_chunks(self) -> Iterator[Chunk]:
        for at in self.chunks_at.tolist():
            yield Chunk.from_dict(_line_at(self._chunks_file, at))

    def unit_vectors(self, row: int) -> np.ndarray:
        return np.asarray(self.units[self.units_at[row] : self.units_at[row + 1]], dtype=np.float32)

    def document(self, doc_id: str) -> Document:
        return Document(**_line_at(self._docs_file, self.doc_at[doc_id]))

    def row_terms(self, rows: np.ndarray) -> list[Counter]:
        """Term counts of ``rows`` (for merging segments and for taking deleted
        rows out of the statistics)."""
        out: list[Counter] = [Counter() for _ in rows]
        if not len(rows):
            return out
        slot = np.full(self.rows, -1, np.int64)
        slot[np.asarray(rows, np.int64)] = np.arange(len(rows))
        at = np.nonzero(slot[np.asarray(self.tf_rows)] >= 0)[0]
        cols = np.searchsorted(self.tf_at, at, side="right") - 1
        words = list(self.vocab)
        for p, col in zip(at.tolist(), cols.tolist()):
            out[slot[self.tf_rows[p]]][words[col]] = int(self.tf[p])
        return out

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, counts) of the rows holding ``term``."""
        col = self.vocab.get(term)
        if col is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        lo, hi = self.tf_at[col], self.tf_at[col + 1]
        return np.asarray(self.tf_rows[lo:hi]), np.asarray(self.tf[lo:hi], dtype=np.float32)

    def doc_freqs(self) -> np.ndarray:
        return np.diff(self.tf_at)

    # -- dense search -------------------------------------------------------
    def load_dense(self) -> None:
        self.dense  # noqa: B018 (built or read on first use)

    @property
    def dense(self):
        if self._dense is None:
            import faiss

            if self.dense_type == "Flat":
                index = faiss.IndexFlatIP(self.dim)
                if self.rows:
                    index.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
            else:
                index = faiss.read_index(str(self.path / "dense.faiss"))
                index.hnsw.efSearch = HNSW_EF_SEARCH
            self._dense = index
        return self._dense

    def search(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, exact inner products) of the ``k`` nearest rows, best first."""
        k = min(k, self.rows)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        _, rows = self.dense.search(qvec.reshape(1, -1).astype(np.float32), k)
        rows = rows[0][rows[0] >= 0]
        scores = self.exact(rows, qvec)
        order = np.argsort(-scores, kind="stable")
        return rows[order], scores[order]

    def exact(self, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, np.float32)
        return np.asarray(np.asarray(self.vectors[rows]) @ qvec, dtype=np.float32)


def _map(path: Path) -> bytes | mmap.mmap:
    """The file, memory-mapped (it stays readable after the segment is deleted)."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _line_at(data: bytes | mmap.mmap, at: int) -> dict:
    end = data.find(b"\n", at)
    return json.loads(data[at : end if end >= 0 else len(data)])


def write_segment(
    folder: Path,
    ids: np.ndarray,
    vectors: np.ndarray,
    units: Sequence[np.ndarray],
    chunks: Sequence[Chunk],
    terms: Sequence[Counter],
    lengths: Sequence[int],
    docs: Sequence[Document],
) -> Path:
    """Write rows as a new segment under ``folder`` (atomically: a crash leaves
    no half-written segment) and return its path.  ``terms`` are each row's
    BM25 term counts, ``lengths`` its BM25 length."""
    n, dim = len(ids), vectors.shape[1]
    if not (len(vectors) == len(units) == len(chunks) == len(terms) == len(lengths) == n):
        raise ValueError("a segment's rows must all have the same length")
    order = np.argsort(ids, kind="stable")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
    try:
        kind = dense_type(n)
        _save(tmp / "ids.npy", np.asarray(ids, np.int64)[order])
        vecs = np.ascontiguousarray(np.asarray(vectors, np.float32)[order])
        _save(tmp / "vectors.npy", vecs)
        if kind != "Flat":
            _write_hnsw(tmp / "dense.faiss", vecs)
        ordered_units = [np.asarray(units[i], np.float16) for i in order]
        at = np.zeros(n + 1, np.int64)
        at[1:] = np.cumsum([len(u) for u in ordered_units])
        _save(tmp / "units.npy", np.concatenate(ordered_units) if ordered_units else np.zeros((0, dim), np.float16))
        _save(tmp / "units_at.npy", at)
        _save(tmp / "chunks_at.npy", _write_lines(tmp / "chunks.jsonl", (chunks[i].to_dict() for i in order)))
        offsets = _write_lines(tmp / "docs.jsonl", (asdict(d) for d in docs))
        _write_json(tmp / "docs.json", {d.doc_id: int(o) for d, o in zip(docs, offsets)})
        _write_json(tmp / "titles.json", list(dict.fromkeys(t for i in order for t in chunks[i].section_path)))
        _write_postings(tmp, [terms[i] for i in order])
        _save(tmp / "bm25_len.npy", np.asarray(lengths, np.float32)[order])
        _write_json(tmp / "meta.json", {"rows": n, "dim": dim, "dense": kind})
        now = time.time()
        name = f"seg-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}{int(now * 1000) % 1000:03d}-{uuid.uuid4().hex[:8]}"
        os.rename(tmp, folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / name


def _write_hnsw(path: Path, vectors: np.ndarray) -> None:
    import faiss

    index = faiss.index_factory(vectors.shape[1], dense_type(len(vectors)), faiss.METRIC_INNER_PRODUCT)
    graph = faiss.downcast_index(index)
    assert isinstance(graph, faiss.IndexHNSW)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.train(vectors)
    index.add(vectors)
    faiss.write_index(index, str(path))


def _write_postings(folder: Path, terms: list[Counter]) -> None:
    vocab = sorted({t for c in terms for t in c})
    col = {t: i for i, t in enumerate(vocab)}
    cols, rows, counts = [], [], []
    for r, c in enumerate(terms):
        for t, k in c.items():
            cols.append(col[t])
            rows.append(r)
            counts.append(k)
    cols_a = np.asarray(cols, np.int64)
    order = np.lexsort((np.asarray(rows, np.int64), cols_a))
    at = np.zeros(len(vocab) + 1, np.int64)
    np.cumsum(np.bincount(cols_a, minlength=len(vocab)), out=at[1:])
    _save(folder / "bm25_rows.npy", np.asarray(rows, np.int32)[order])
    _save(folder / "bm25_tf.npy", np.asarray(counts, np.float32)[order])
    _save(folder / "bm25_at.npy", at)
    _write_json(folder / "vocab.json", vocab)


def _save(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, obj) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())


def _write_lines(path: Path, rows) -> np.ndarray:
    """Write JSON lines; the byte offset of each."""
    offsets = []
    with path.open("wb") as f:
        for row in rows:
            offsets.append(f.tell())
            f.write(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            f.write(b"\n")
        f.flush()
        os.fsync(f.fileno())
    return np.asarray(offsets, np.int64)
