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

BATCH = 50_000  # rows a writer holds at once
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
        self.words: list[str] = json.loads((self.path / "vocab.json").read_text(encoding="utf-8"))
        self.vocab = {t: i for i, t in enumerate(self.words)}
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
        return Chunk.from_dict(json.loads(self.line(row)))

    def iter_chunks(self) -> Iterator[Chunk]:
        for row in range(self.rows):
            yield self.chunk(row)

    def rows_of(self, ids: frozenset[int] | set[int]) -> np.ndarray:
        """The rows holding chunk ids ``ids`` (those of them this segment has)."""
        if not ids:
            return np.zeros(0, np.int64)
        return np.nonzero(np.isin(self.ids, np.fromiter(ids, np.int64, len(ids))))[0]

    def unit_vectors(self, row: int) -> np.ndarray:
        return np.asarray(self.units[self.units_at[row] : self.units_at[row + 1]], dtype=np.float32)

    def document(self, doc_id: str) -> Document:
        return Document(**json.loads(self.raw_document(doc_id)))

    def raw_document(self, doc_id: str) -> bytes:
        return _raw_line(self._docs_file, self.doc_at[doc_id])

    def row_terms(self, rows: np.ndarray) -> list[Counter]:
        """Term counts of ``rows`` (to take deleted rows out of the statistics)."""
        out: list[Counter] = [Counter() for _ in rows]
        if len(rows):
            for word, i, count in zip(*self.postings_of(rows)):
                out[i][word] = int(count)
        return out

    def line(self, row: int) -> bytes:
        """Row ``row``'s chunk as stored (a JSON line)."""
        return _raw_line(self._chunks_file, int(self.chunks_at[row]))

    def postings_of(self, rows: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The postings of ``rows``: (term, index into ``rows``, count) for each."""
        slot = np.full(self.rows, -1, np.int64)
        slot[np.asarray(rows, np.int64)] = np.arange(len(rows))
        tf_rows = np.asarray(self.tf_rows)
        at = np.nonzero(slot[tf_rows] >= 0)[0]
        cols = np.searchsorted(self.tf_at, at, side="right") - 1
        words = self.words
        return [words[c] for c in cols.tolist()], slot[tf_rows[at]], np.asarray(self.tf[at], np.float32)

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


def _raw_line(data: bytes | mmap.mmap, at: int) -> bytes:
    end = data.find(b"\n", at)
    return data[at : end if end >= 0 else len(data)]


class SegmentWriter:
    """Writes a segment row batch by row batch, holding no more than a batch of
    rows in memory (plus the BM25 postings as three arrays): a merge of a
    million rows copies their lines and vectors, it does not rebuild objects."""

    def __init__(self, folder: Path, dim: int, rows: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.dim, self.rows = folder, dim, rows
        self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        self.ids = np.zeros(rows, np.int64)
        self.vectors = (  # a memory map cannot be empty
            np.lib.format.open_memmap(self.tmp / "vectors.npy", "w+", np.float32, (rows, dim))
            if rows
            else np.zeros((0, dim), np.float32)
        )
        self.lengths = np.zeros(rows, np.float32)
        self.units_at = np.zeros(rows + 1, np.int64)
        self.chunks_at = np.zeros(rows, np.int64)
        self._units = (self.tmp / "units.raw").open("wb")
        self._chunks = (self.tmp / "chunks.jsonl").open("wb")
        self._docs = (self.tmp / "docs.jsonl").open("wb")
        self.doc_at: dict[str, int] = {}
        self.titles: dict[str, None] = {}
        self.vocab: dict[str, int] = {}
        self._post: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (term ids, rows, counts) per batch
        self.n = 0

    def add(self, ids, vectors, units: Sequence[np.ndarray], lines: Sequence[bytes], terms, lengths, titles=()) -> None:
        """Rows in ascending id order: ``lines`` are the chunks' JSON lines;
        ``terms`` either each row's term counts (Counters) or (terms, row in
        this batch, count) of each posting."""
        n, at = len(ids), self.n
        self.ids[at : at + n] = ids
        self.vectors[at : at + n] = vectors
        self.lengths[at : at + n] = lengths
        for i, u in enumerate(units):
            self._units.write(np.asarray(u, np.float16).tobytes())
            self.units_at[at + i + 1] = self.units_at[at + i] + len(u)
        for i, line in enumerate(lines):
            self.chunks_at[at + i] = self._chunks.tell()
            self._chunks.write(line.rstrip(b"\n") + b"\n")
        self.titles.update(dict.fromkeys(titles))
        if isinstance(terms, tuple):
            words, rows, counts = terms
        else:
            words, rows, counts = [], [], []
            for r, c in enumerate(terms):
                words.extend(c)
                rows.extend([r] * len(c))
                counts.extend(c.values())
        term_ids = np.fromiter((self.vocab.setdefault(w, len(self.vocab)) for w in words), np.int64, len(words))
        self._post.append((term_ids, np.asarray(rows, np.int64) + at, np.asarray(counts, np.float32)))
        self.n += n

    def add_doc(self, doc_id: str, line: bytes) -> None:
        self.doc_at[doc_id] = self._docs.tell()
        self._docs.write(line.rstrip(b"\n") + b"\n")

    def finish(self) -> Path:
        """Sort the postings, write the rest, build the dense index, and move
        the segment into place atomically; its path."""
        try:
            if self.n != self.rows:
                raise ValueError(f"a segment of {self.rows} rows got {self.n}")
            for f in (self._units, self._chunks, self._docs):
                f.flush()
                os.fsync(f.fileno())
                f.close()
            if isinstance(self.vectors, np.memmap):
                self.vectors.flush()
            else:
                _save(self.tmp / "vectors.npy", self.vectors)
            _save(self.tmp / "units.npy", np.fromfile(self.tmp / "units.raw", np.float16).reshape(-1, self.dim))
            (self.tmp / "units.raw").unlink()
            _save(self.tmp / "ids.npy", self.ids)
            _save(self.tmp / "units_at.npy", self.units_at)
            _save(self.tmp / "chunks_at.npy", self.chunks_at)
            _save(self.tmp / "bm25_len.npy", self.lengths)
            _write_json(self.tmp / "docs.json", self.doc_at)
            _write_json(self.tmp / "titles.json", list(self.titles))
            self._write_postings()
            kind = dense_type(self.rows)
            if kind != "Flat":
                _write_hnsw(self.tmp / "dense.faiss", self.vectors)
            _write_json(self.tmp / "meta.json", {"rows": self.rows, "dim": self.dim, "dense": kind})
            name = timestamped("seg")
            os.rename(self.tmp, self.folder / name)
        except BaseException:
            self.abort()
            raise
        return self.folder / name

    def abort(self) -> None:
        for f in (self._units, self._chunks, self._docs):
            f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _write_postings(self) -> None:
        """Postings grouped by term, terms in sorted order (as vocab.json lists them)."""
        words = list(self.vocab)
        order = sorted(range(len(words)), key=words.__getitem__)
        rank = np.empty(len(words), np.int64)
        rank[order] = np.arange(len(words))
        post, self._post = self._post, []
        terms = rank[np.concatenate([t for t, _, _ in post])] if post else np.zeros(0, np.int64)
        rows = np.concatenate([r for _, r, _ in post]) if post else np.zeros(0, np.int64)
        counts = np.concatenate([c for _, _, c in post]) if post else np.zeros(0, np.float32)
        by = np.lexsort((rows, terms))
        at = np.zeros(len(words) + 1, np.int64)
        np.cumsum(np.bincount(terms, minlength=len(words)), out=at[1:])
        _save(self.tmp / "bm25_rows.npy", rows[by].astype(np.int32))
        _save(self.tmp / "bm25_tf.npy", counts[by])
        _save(self.tmp / "bm25_at.npy", at)
        _write_json(self.tmp / "vocab.json", [words[i] for i in order])


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
    """Write new rows as a segment under ``folder`` (atomically: a crash leaves
    no half-written segment) and return its path.  ``terms`` are each row's
    BM25 term counts, ``lengths`` its BM25 length."""
    n = len(ids)
    if not (len(vectors) == len(units) == len(chunks) == len(terms) == len(lengths) == n):
        raise ValueError("a segment's rows must all have the same length")
    order = np.argsort(ids, kind="stable")
    writer = SegmentWriter(folder, vectors.shape[1], n)
    try:
        for start in range(0, n, BATCH):
            rows = order[start : start + BATCH].tolist()
            writer.add(
                np.asarray(ids)[rows],
                np.asarray(vectors, np.float32)[rows],
                [units[i] for i in rows],
                [json.dumps(chunks[i].to_dict(), ensure_ascii=False).encode("utf-8") for i in rows],
                [terms[i] for i in rows],
                np.asarray(lengths, np.float32)[rows],
                (t for i in rows for t in chunks[i].section_path),
            )
        for d in docs:
            writer.add_doc(d.doc_id, json.dumps(asdict(d), ensure_ascii=False).encode("utf-8"))
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def merge_segments(folder: Path, parts: Sequence[tuple[Segment, np.ndarray]], doc_ids: Sequence[str]) -> Path:
    """One segment of the given rows of several segments, in id order, copied
    batch by batch (lines and vectors as they are stored); ``doc_ids`` are the
    documents (held by those segments) to carry over."""
    src = np.concatenate([np.full(len(rows), i, np.int64) for i, (_, rows) in enumerate(parts)])
    row = np.concatenate([np.asarray(rows, np.int64) for _, rows in parts])
    ids = np.concatenate([seg.ids[np.asarray(rows, np.int64)] for seg, rows in parts])
    order = np.argsort(ids, kind="stable")
    writer = SegmentWriter(folder, parts[0][0].dim, len(ids))
    try:
        for start in range(0, len(order), BATCH):
            take = order[start : start + BATCH]
            vectors = np.zeros((len(take), writer.dim), np.float32)
            units: list[np.ndarray] = [np.zeros((0, writer.dim), np.float16)] * len(take)
            lines: list[bytes] = [b""] * len(take)
            lengths = np.zeros(len(take), np.float32)
            words: list[str] = []
            post_rows, counts = [], []
            for i, (seg, _) in enumerate(parts):
                here = np.nonzero(src[take] == i)[0]
                if not len(here):
                    continue
                rows = row[take[here]]
                vectors[here] = seg.vectors[rows]
                lengths[here] = seg.lengths[rows]
                for j, r in zip(here.tolist(), rows.tolist()):
                    units[j] = seg.units[seg.units_at[r] : seg.units_at[r + 1]]
                    lines[j] = seg.line(r)
                w, at, c = seg.postings_of(rows)
                words.extend(w)
                post_rows.append(here[at])
                counts.append(c)
            terms = (words, np.concatenate(post_rows), np.concatenate(counts))
            writer.add(ids[take], vectors, units, lines, terms, lengths)
        for seg, _ in parts:
            writer.titles.update(dict.fromkeys(seg.titles))
            for d in doc_ids:
                if d in seg.doc_at:
                    writer.add_doc(d, seg.raw_document(d))
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def _write_hnsw(path: Path, vectors: np.ndarray) -> None:
    """The HNSW graph over ``vectors`` (read in batches: it may be a memory map
    larger than what should be in memory at once)."""
    import faiss

    index = faiss.index_factory(vectors.shape[1], dense_type(len(vectors)), faiss.METRIC_INNER_PRODUCT)
    graph = faiss.downcast_index(index)
    assert isinstance(graph, faiss.IndexHNSW)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    sample = np.sort(np.random.default_rng(0).choice(len(vectors), size=min(len(vectors), 100_000), replace=False))
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for start in range(0, len(vectors), 100_000):
        index.add(np.ascontiguousarray(vectors[start : start + 100_000], dtype=np.float32))
    faiss.write_index(index, str(path))


def timestamped(prefix: str) -> str:
    """A new folder name that sorts by the time it was made (to the millisecond)."""
    now = time.time()
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}{int(now * 1000) % 1000:03d}-{uuid.uuid4().hex[:8]}"


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
