"""The persisted index: segments of chunks with their vectors, sentence
vectors, BM25 postings and documents, and generations that say which segments
(and which of their rows) are live.

Layout of an index directory::

    CURRENT              name of the live generation (replaced atomically)
    segments/seg-…/      rows added by one ingest or written by one merge,
                         never changed once written (see ``segment.py``)
    gen-…/manifest.json  format version, model id and dimension, chunker
                         settings, the segments and their dense index types,
                         documents and their hashes, build time
    gen-…/deleted.npy    chunk ids of the listed segments that are no longer live

Adding documents writes one segment with their rows and a new generation that
lists it: the cost grows with what is added, not with the corpus.  Removing
or replacing a document marks its rows deleted; a segment with many deleted
rows, and ``MERGE_FACTOR`` segments of similar size, are merged into a new one
(as Lucene's tiered merging does: every row is rewritten a logarithmic number
of times, and a search visits a few segments per order of magnitude).  A
write makes the new generation live by swapping ``CURRENT``: a crash or Ctrl-C
at any point leaves the previous generation live and intact.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from docqa.collection import Collection
from docqa.errors import DocQAError, IndexCorrupt, IndexNotFound, ModelMismatch
from docqa.index.segment import Segment, merge_segments, timestamped, write_segment
from docqa.index.tables import ByChunkId, ChunkTable, DocTable, Rows
from docqa.records import Chunk, Document

FORMAT_VERSION = 2
CURRENT = "CURRENT"
SEGMENTS = "segments"
KEEP_GENERATIONS = 3  # generations kept on disk: the live one and two to roll back to
MERGE_FACTOR = 8  # this many segments of one size tier are merged into one of the next
TIER_FLOOR = 1024  # tiers: rows < 8k, < 64k, < 512k, ... (each MERGE_FACTOR times the last)
MAX_DELETED = 0.3  # a segment with a larger share of deleted rows is rewritten
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
class NewRows:
    """Chunks to add, with their vectors, sentence vectors and BM25 terms."""

    docs: list[Document]
    chunks: list[Chunk]
    vectors: np.ndarray  # (n, dim) float32
    units: list[np.ndarray]
    terms: list[list[str]]


@dataclass
class IndexData:
    spec: IndexSpec
    segments: list[Segment] = field(default_factory=list)
    deleted: frozenset[int] = frozenset()
    listing: dict[str, dict] = field(default_factory=dict)  # doc id -> sha256, title, path, chunks, ids, segment
    next_id: int = 0
    built_at: str = ""
    path: Path | None = None
    generation: str = ""
    collection: Collection = field(default_factory=Collection)  # title, examples, refusal wording

    def __post_init__(self) -> None:
        self.rows = Rows(self.segments, self.deleted)
        self.chunks = ChunkTable(self.rows)
        self.unit_vectors: ByChunkId[np.ndarray] = ByChunkId(self.rows, Segment.unit_vectors)  # float32, one row per sentence
        self.docs = DocTable(self.listing, {s.name: s for s in self.segments})

    @classmethod
    def empty(cls, spec: IndexSpec) -> IndexData:
        return cls(spec)

    @property
    def ids(self) -> np.ndarray:
        """The live chunk ids, ascending."""
        return self.rows.live

    def section_titles(self) -> Iterator[str]:
        """The section headings of the indexed chunks (from each segment's list)."""
        for seg in self.segments:
            yield from seg.titles

    def manifest(self) -> dict:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return {
            "format_version": FORMAT_VERSION,
            "docqa_version": _version(),
            "model": {"id": self.spec.model_id, "dim": self.spec.dim, "normalized": True, "metric": "inner_product"},
            "chunker": self.spec.chunker,
            "segmenter": f"jieba {_dist_version('jieba')} cut_for_search",
            "faiss": {
                "version": _dist_version("faiss-cpu"),
                "segments": [{"name": s.name, "rows": s.rows, "type": s.dense_type} for s in self.segments],
            },
            "segments": [s.name for s in self.segments],
            "next_id": self.next_id,
            "collection": self.collection.to_dict(),
            "built_at": self.built_at or now,
            "updated_at": now,
            "counts": {"documents": len(self.listing), "chunks": len(self.rows.live)},
            "documents": self.listing,
        }


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


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
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        advice = (
            "run `docqa ingest` once to convert it (nothing is embedded again)"
            if isinstance(found, int) and found < FORMAT_VERSION
            else f"upgrade DocQA, or {REINGEST}"
        )
        raise IndexCorrupt(
            f"the index at {root} has format version {found}, this DocQA reads version {FORMAT_VERSION}; {advice}"
        )
    model = manifest.get("model", {})
    if model.get("id") != spec.model_id or model.get("dim") != spec.dim:
        raise ModelMismatch(
            f"the index at {root} was built with model {model.get('id')!r} (dim {model.get('dim')}), but DocQA is "
            f"configured for {spec.model_id!r} (dim {spec.dim}); {REINGEST}, or set DOCQA_MODEL={model.get('id')}"
        )
    built, version = manifest.get("chunker"), spec.chunker.get("version")
    if built == spec.chunker:
        return
    if isinstance(built, dict) and {**built, "version": version} == spec.chunker:  # only the version differs
        raise ModelMismatch(
            f"the index at {root} was split into passages by an older DocQA (chunker version {built.get('version')}; "
            f"this one is version {version}, see docs/documents.md); {REINGEST} once"
        )
    raise ModelMismatch(
        f"the index at {root} was built with chunker settings {built}, but DocQA is "
        f"configured with {spec.chunker}; {REINGEST}, or change DOCQA_CHUNK_SIZE/DOCQA_CHUNK_OVERLAP back"
    )


def load(root: Path, spec: IndexSpec) -> IndexData:
    root = Path(root)
    manifest = read_manifest(root)
    check_manifest(manifest, spec, root)
    gen = _live_or_raise(root)
    try:
        segments = [Segment(root / SEGMENTS / name) for name in manifest["segments"]]
        deleted = frozenset(np.load(gen / "deleted.npy").tolist())
        listing = manifest["documents"]
        collection = Collection.from_dict(manifest.get("collection"))
        data = IndexData(
            spec, segments, deleted, listing, int(manifest["next_id"]), manifest.get("built_at", ""), root, gen.name, collection
        )
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError, DocQAError) as exc:
        raise IndexCorrupt(f"the index at {root} is damaged ({exc}); {REINGEST}") from exc
    if any(s.dim != spec.dim for s in segments):
        raise IndexCorrupt(f"the index at {root} is inconsistent (a segment's dimension is not {spec.dim}); {REINGEST}")
    if sum(d.get("chunks", 0) for d in listing.values()) != len(data.ids):
        raise IndexCorrupt(f"the index at {root} is inconsistent (documents and chunks differ); {REINGEST}")
    return data


def commit(root: Path, base: IndexData, new: NewRows | None, remove: set[str], collection: Collection) -> IndexData:
    """Write the change as a new generation and make it live atomically: the
    documents in ``remove`` (and those ``new`` replaces) go, ``new``'s rows
    come in as one new segment.  Returns the new generation, loaded."""
    root = Path(root)
    segs_dir = root / SEGMENTS
    replaced = set(remove) | ({d.doc_id for d in new.docs} if new else set())
    listing = {k: v for k, v in base.listing.items() if k not in replaced}
    deleted = set(base.deleted)
    for doc_id in replaced & base.listing.keys():
        lo, hi = base.listing[doc_id]["ids"]
        deleted.update(range(lo, hi))
    segments = list(base.segments)
    next_id = base.next_id
    if new is not None and (new.chunks or new.docs):
        ids = np.arange(next_id, next_id + len(new.chunks), dtype=np.int64)
        next_id += len(new.chunks)
        terms = [Counter(t) for t in new.terms]
        lengths = [len(t) or 1 for t in new.terms]  # an empty passage counts as one (as the bm25s library did)
        path = write_segment(segs_dir, ids, new.vectors, new.units, new.chunks, terms, lengths, new.docs)
        seg = Segment(path)
        segments.append(seg)
        per_doc = Counter(c.doc for c in new.chunks)
        start = int(ids[0]) if len(ids) else next_id
        for d in new.docs:
            n = per_doc[d.doc_id]
            entry = {"sha256": d.sha256, "title": d.title, "path": d.path, "chunks": n, "ids": [start, start + n]}
            listing[d.doc_id] = {**entry, "segment": seg.name}
            start += n
    segments, deleted = _compact(segs_dir, segments, deleted, listing)
    data = IndexData(base.spec, segments, frozenset(deleted), listing, next_id, base.built_at, root, "", collection)
    _write_generation(root, data)
    return data


def tier(rows: int) -> int:
    return int(math.log(max(rows, TIER_FLOOR) / TIER_FLOOR, MERGE_FACTOR) + 1e-9)


def _compact(
    segs_dir: Path, segments: list[Segment], deleted: set[int], listing: dict[str, dict]
) -> tuple[list[Segment], set[int]]:
    """Drop segments with no live row or document; merge MERGE_FACTOR segments
    of one size tier, and any segment with more than MAX_DELETED of its rows deleted."""

    live = {s.name: np.delete(np.arange(s.rows), s.rows_of(deleted)) for s in segments}
    holding_docs = {v["segment"] for v in listing.values()}
    dropped = [s for s in segments if not len(live[s.name]) and s.name not in holding_docs]
    for seg in dropped:
        deleted -= set(seg.ids.tolist())
    kept = [s for s in segments if s not in dropped]
    merge = [s for s in kept if s.rows and 1 - len(live[s.name]) / s.rows > MAX_DELETED]
    tiers = Counter(tier(len(live[s.name])) for s in kept)
    full = {t for t, n in tiers.items() if n >= MERGE_FACTOR}
    merge += [s for s in kept if tier(len(live[s.name])) in full and s not in merge]
    if not merge:
        return kept, deleted
    docs = [d for d, v in listing.items() if v["segment"] in {s.name for s in merge}]
    merged = Segment(merge_segments(segs_dir, [(s, live[s.name]) for s in merge], docs))
    for d in docs:
        listing[d] = {**listing[d], "segment": merged.name}
    gone = {s.name for s in merge}
    for seg in merge:
        deleted -= set(seg.ids.tolist())
    return [s for s in kept if s.name not in gone] + [merged], deleted


def _write_generation(root: Path, data: IndexData) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        with (tmp / "deleted.npy").open("wb") as f:
            np.save(f, np.asarray(sorted(data.deleted), np.int64))
            f.flush()
            os.fsync(f.fileno())
        manifest = data.manifest()
        (tmp / "segments.json").write_text(json.dumps(manifest["segments"]), encoding="utf-8")  # for pruning
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        name = timestamped("gen")
        os.rename(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    previous = live_generation(root)
    _make_live(root, name)
    _prune(root, keep={name, previous.name if previous else ""})
    data.generation, data.built_at = name, manifest["built_at"]


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
    _make_live(root, older[-1])
    return live, older[-1]


def _make_live(root: Path, generation: str) -> None:
    """Point ``CURRENT`` at ``generation`` (replaced atomically: readers see the old name or the new one)."""
    pointer_tmp = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    pointer_tmp.write_text(generation, encoding="utf-8")
    os.replace(pointer_tmp, root / CURRENT)


def _prune(root: Path, keep: set[str]) -> None:
    """Delete all but the newest ``KEEP_GENERATIONS`` generations (the live one
    and its predecessor always stay: a reader may still be loading that; the
    others are there for ``docqa rollback``), the segments no kept generation
    lists, and temporary leftovers of crashed writes.  A running server holds
    its generation's segments open (memory-mapped files stay readable after
    they are deleted)."""
    newest = set(generations(root)[-KEEP_GENERATIONS:])
    for p in root.iterdir():
        if p.name in keep or p.name in newest or not p.is_dir():
            continue
        if p.name.startswith("gen-") or p.name.startswith(".tmp-"):
            shutil.rmtree(p, ignore_errors=True)
    used: set[str] = set()
    for name in generations(root):
        try:
            listed = root / name / "segments.json"  # (a format-1 generation has none, and no segments)
            used.update(json.loads(listed.read_text(encoding="utf-8")) if listed.exists() else [])
        except (OSError, json.JSONDecodeError):
            return  # cannot tell what is in use: delete no segment
    segs = root / SEGMENTS
    if segs.is_dir():
        for p in segs.iterdir():
            if p.is_dir() and p.name not in used:
                shutil.rmtree(p, ignore_errors=True)
