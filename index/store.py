"""The persisted index: FAISS vectors, the chunk store keyed by FAISS id, the
cleaned documents, and a manifest saying how it was built.

Layout of an index directory::

    CURRENT              name of the live generation (replaced atomically)
    gen-…/manifest.json  format version, model id and dimension, chunker
                         settings, documents and their hashes, build time
    gen-…/vectors.faiss  IndexIDMap2(IndexFlatIP) over L2-normalised vectors
    gen-…/chunks.jsonl   one line per FAISS id: the chunk and its BM25 terms
    gen-…/docs.jsonl     one line per document: cleaned text and metadata
    gen-…/units.npy      one vector per sentence of each chunk, in chunk-id order

A write builds a new generation in a temporary directory, renames it into
place, then swaps ``CURRENT``: a crash or Ctrl-C at any point leaves the
previous generation live and intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from docqa.collection import Collection
from docqa.errors import DocQAError, IndexCorrupt, IndexNotFound, ModelMismatch
from docqa.records import Chunk, Document

FORMAT_VERSION = 1
CURRENT = "CURRENT"
KEEP_GENERATIONS = 3  # generations kept on disk: the live one and two to roll back to
REINGEST = "run `docqa ingest --rebuild PATH…` to rebuild the index"


def _version() -> str:
    try:
        return metadata.version("docqa")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class IndexSpec:
    """What the running configuration expects an index to have been built with."""

    model_id: str
    dim: int
    chunker: dict


@dataclass
class IndexData:
    spec: IndexSpec
    vectors: np.ndarray  # (n, dim) float32, row i <-> ids[i]
    ids: np.ndarray  # (n,) int64 FAISS ids
    chunks: dict[int, Chunk]
    terms: dict[int, list[str]]
    docs: dict[str, Document]
    unit_vectors: dict[int, np.ndarray] = field(default_factory=dict)  # FAISS id -> (units, dim)
    built_at: str = ""
    path: Path | None = None
    generation: str = ""
    collection: Collection = field(default_factory=Collection)  # title, examples, refusal wording
    _faiss: object = field(default=None, repr=False)

    @classmethod
    def empty(cls, spec: IndexSpec) -> IndexData:
        return cls(spec, np.zeros((0, spec.dim), np.float32), np.zeros(0, np.int64), {}, {}, {})

    @property
    def faiss_index(self):
        if self._faiss is None:
            self._faiss = build_faiss(self.vectors, self.ids, self.spec.dim)
        return self._faiss

    def manifest(self) -> dict:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        per_doc: dict[str, int] = {}
        for c in self.chunks.values():
            per_doc[c.doc] = per_doc.get(c.doc, 0) + 1
        return {
            "format_version": FORMAT_VERSION,
            "docqa_version": _version(),
            "model": {"id": self.spec.model_id, "dim": self.spec.dim, "normalized": True, "metric": "inner_product"},
            "chunker": self.spec.chunker,
            "segmenter": f"jieba {_dist_version('jieba')} cut_for_search",
            "faiss": {"type": "IndexIDMap2(IndexFlatIP)", "ntotal": int(len(self.ids)), "version": _dist_version("faiss-cpu")},
            "collection": self.collection.to_dict(),
            "built_at": self.built_at or now,
            "updated_at": now,
            "counts": {"documents": len(self.docs), "chunks": len(self.chunks)},
            "documents": {
                d.doc_id: {"sha256": d.sha256, "title": d.title, "path": d.path, "chunks": per_doc.get(d.doc_id, 0)}
                for d in self.docs.values()
            },
        }


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_faiss(vectors: np.ndarray, ids: np.ndarray, dim: int):
    import faiss

    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
    return index


def live_generation(root: Path) -> Path | None:
    pointer = Path(root) / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return Path(root) / name if name else None


def _live_or_raise(root: Path) -> Path:
    gen = live_generation(root)
    if gen is None:
        raise IndexNotFound(f"no index at {root}; run `docqa ingest PATH…` first (or `docqa ingest` for the bundled report)")
    return gen


def read_manifest(root: Path) -> dict:
    gen = _live_or_raise(root)
    try:
        return json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({exc}); {REINGEST}") from exc


def check_manifest(manifest: dict, spec: IndexSpec, root: Path) -> None:
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"the index at {root} has format version {manifest.get('format_version')}, this DocQA reads "
            f"version {FORMAT_VERSION}; {REINGEST}"
        )
    model = manifest.get("model", {})
    if model.get("id") != spec.model_id or model.get("dim") != spec.dim:
        raise ModelMismatch(
            f"the index at {root} was built with model {model.get('id')!r} (dim {model.get('dim')}), but DocQA is "
            f"configured for {spec.model_id!r} (dim {spec.dim}); {REINGEST}, or set DOCQA_MODEL={model.get('id')}"
        )
    if manifest.get("chunker") != spec.chunker:
        raise ModelMismatch(
            f"the index at {root} was built with chunker settings {manifest.get('chunker')}, but DocQA is "
            f"configured with {spec.chunker}; {REINGEST}, or change DOCQA_CHUNK_SIZE/DOCQA_CHUNK_OVERLAP back"
        )


def load(root: Path, spec: IndexSpec) -> IndexData:
    import faiss

    root = Path(root)
    manifest = read_manifest(root)
    check_manifest(manifest, spec, root)
    gen = _live_or_raise(root)
    try:
        index = faiss.read_index(str(gen / "vectors.faiss"))
        if not isinstance(index, faiss.IndexIDMap2):
            raise TypeError(f"vectors.faiss holds a {type(index).__name__}, not an IndexIDMap2")
        chunks: dict[int, Chunk] = {}
        terms: dict[int, list[str]] = {}
        with (gen / "chunks.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                chunks[rec["id"]] = Chunk.from_dict(rec["chunk"])
                terms[rec["id"]] = rec["terms"].split(" ") if rec["terms"] else []
        docs: dict[str, Document] = {}
        with (gen / "docs.jsonl").open(encoding="utf-8") as f:
            for line in f:
                d = Document(**json.loads(line))
                docs[d.doc_id] = d
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        flat = faiss.downcast_index(index.index)
        if not isinstance(flat, faiss.IndexFlat):
            raise TypeError(f"vectors.faiss holds an IndexIDMap2 over a {type(flat).__name__}, not over a flat index")
        vectors = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d).copy()
    except (OSError, RuntimeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({exc}); {REINGEST}") from exc
    if set(ids.tolist()) != set(chunks):
        raise IndexCorrupt(f"the index at {root} is inconsistent (vectors and chunks differ); {REINGEST}")
    try:
        stacked = np.load(gen / "units.npy").astype(np.float32)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({exc}); {REINGEST}") from exc
    unit_vectors, row = {}, 0
    for cid in sorted(chunks):
        n = len(chunks[cid].units)
        unit_vectors[cid] = stacked[row : row + n]
        row += n
    if row != len(stacked):
        raise IndexCorrupt(f"the index at {root} is inconsistent (sentence vectors and chunks differ); {REINGEST}")
    try:
        collection = Collection.from_dict(manifest.get("collection"))
    except DocQAError as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({exc}); {REINGEST}") from exc
    return IndexData(
        spec, vectors, ids, chunks, terms, docs, unit_vectors, manifest.get("built_at", ""), root, gen.name, collection, index
    )


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def write(root: Path, data: IndexData) -> Path:
    """Write ``data`` as a new generation and make it live atomically."""
    import faiss

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        data._faiss = None
        faiss.write_index(data.faiss_index, str(tmp / "vectors.faiss"))
        order = sorted(data.chunks)
        _write_jsonl(
            tmp / "chunks.jsonl",
            ({"id": i, "chunk": data.chunks[i].to_dict(), "terms": " ".join(data.terms.get(i, []))} for i in order),
        )
        _write_jsonl(tmp / "docs.jsonl", (asdict(d) for d in data.docs.values()))
        units = [data.unit_vectors[i] for i in order]
        stacked = np.concatenate(units) if units else np.zeros((0, data.spec.dim), np.float32)
        with (tmp / "units.npy").open("wb") as f:
            np.save(f, stacked.astype(np.float16))
        manifest = data.manifest()
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        now = time.time()  # names sort by the time they were written (to the millisecond)
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}{int(now * 1000) % 1000:03d}-{uuid.uuid4().hex[:8]}"
        os.rename(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    previous = live_generation(root)
    pointer_tmp = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, root / CURRENT)
    _prune(root, keep={name, previous.name if previous else ""})
    data.path, data.generation, data.built_at = root, name, manifest["built_at"]
    return root / name


def generations(root: Path) -> list[str]:
    """The complete generations in ``root``, oldest first (names sort by time)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("gen-") and (p / "manifest.json").exists())


def rollback(root: Path) -> tuple[str, str]:
    """Make the generation before the live one live again (a running server
    switches to it); (the one that was live, the one live now)."""
    root = Path(root)
    live = _live_or_raise(root).name
    kept = generations(root)
    older = [g for g in kept if g < live]
    if not older:
        raise IndexNotFound(f"no generation older than {live} is kept in {root}; nothing to roll back to")
    pointer_tmp = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    pointer_tmp.write_text(older[-1], encoding="utf-8")
    os.replace(pointer_tmp, root / CURRENT)
    return live, older[-1]


def _prune(root: Path, keep: set[str]) -> None:
    """Delete all but the newest ``KEEP_GENERATIONS`` generations (the live one
    and its predecessor always stay: a reader may still be loading that; the
    others are there for ``docqa rollback``), and temporary leftovers of
    crashed writes.  A running server holds its generation in memory."""
    newest = set(generations(root)[-KEEP_GENERATIONS:])
    for p in root.iterdir():
        if p.name in keep or p.name in newest or not p.is_dir():
            continue
        if p.name.startswith("gen-") or p.name.startswith(".tmp-"):
            shutil.rmtree(p, ignore_errors=True)
