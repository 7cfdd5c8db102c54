"""Ingest: files -> documents -> chunks -> vectors, applied to the index as one
atomic change.  Unchanged documents (same content hash) cost nothing; the
embedding model is not even loaded when nothing changed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from docqa.collection import Collection
from docqa.errors import DocQAError, DocumentError, IndexCorrupt, IndexNotFound
from docqa.index import store
from docqa.index.embedder import Embedder
from docqa.index.store import IndexData, IndexSpec
from docqa.index.tokenize import Segmenter
from docqa.index.updater import EmbeddingCache, NewDocument, embed_new
from docqa.index.upgrade import OLD_FORMAT, upgrade
from docqa.ingest.chunker import CHUNKER_VERSION, chunk_document
from docqa.ingest.discover import discover
from docqa.ingest.loaders import file_sha256, load_document


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.removed)} removed",
        ]
        if self.unsupported:
            parts.append(f"{len(self.unsupported)} unsupported skipped")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return (
            f"documents: {', '.join(parts)}; chunks: +{self.chunks_added} -{self.chunks_removed}; "
            f"index now {self.documents} documents, {self.chunks} chunks ({self.seconds:.1f} s)"
        )


def chunker_settings(chunk_size: int, chunk_overlap: int) -> dict:
    return {"chunk_size": chunk_size, "chunk_overlap": chunk_overlap, "version": CHUNKER_VERSION}


# Code whose output is stored in an index (query-time code such as the
# retriever is left out: changing it does not change what an index holds).
_QUERY_TIME_ONLY = {"retriever.py"}


def pipeline_sources() -> list[Path]:
    """The source files that shape what an index holds (for cache keys)."""
    import docqa.index
    import docqa.ingest
    import docqa.lang
    import docqa.records
    import docqa.text

    files = sorted(Path(docqa.ingest.__file__).parent.glob("*.py"))
    files += sorted(p for p in Path(docqa.index.__file__).parent.glob("*.py") if p.name not in _QUERY_TIME_ONLY)
    # the sentence splitter and the stopwords (docqa/lang/*.toml) shape units and BM25 terms
    files += [Path(docqa.text.__file__)] + sorted(Path(docqa.lang.__file__).parent.glob("*.toml"))
    return files + [Path(docqa.records.__file__)]


class Ingestor:
    """Keeps one index directory up to date with documents on disk."""

    def __init__(
        self,
        root: Path,
        model_id: str,
        embedder: Callable[[], Embedder],
        segmenter: Segmenter,
        chunk_size: int,
        chunk_overlap: int,
    ):
        self.root = Path(root)
        self.model_id = model_id
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.segmenter = segmenter
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def _spec(self, dim: int) -> IndexSpec:
        return IndexSpec(self.model_id, dim, chunker_settings(self.chunk_size, self.chunk_overlap))

    def _current(self, rebuild: bool) -> IndexData | None:
        """The live index, checked against this configuration (None when there is none)."""
        if rebuild:
            return None
        try:
            manifest = store.read_manifest(self.root)
        except IndexNotFound:
            return None
        dim = manifest.get("model", {}).get("dim")
        spec = self._spec(dim if isinstance(dim, int) else self.embedder.dim)
        if manifest.get("format_version") == OLD_FORMAT:  # written by an earlier DocQA: converted once
            upgrade(self.root, spec)
        return store.load(self.root, spec)

    def _next_id(self) -> int:
        try:
            return int(store.read_manifest(self.root).get("next_id", 0))
        except (IndexNotFound, IndexCorrupt, TypeError, ValueError):
            return 0

    def upgrade(self) -> bool:
        """Convert an index written by an earlier DocQA to the current format
        (nothing is embedded again); False when there was nothing to do."""
        with self._lock():
            manifest = store.read_manifest(self.root)
            dim = manifest.get("model", {}).get("dim")
            return upgrade(self.root, self._spec(dim if isinstance(dim, int) else 0))

    def _lock(self):
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / ".lock"), timeout=600)

    def ingest(
        self,
        paths: list[str | Path],
        rebuild: bool = False,
        skip_errors: bool = False,
        on_plan: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
        ocr_progress: Callable[[str, int, int], None] | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Bring the index in line with ``paths`` (``force``: read the files
        again even when they have not changed).  ``on_plan(n)`` is called with
        the number of chunks about to be embedded, ``progress(k)`` as they are;
        ``ocr_progress(path, done, total)`` as the pages of a scan are read."""
        t0 = time.perf_counter()
        found = discover(paths)
        report = IngestReport(unsupported=[str(p) for p in found.unsupported])
        with self._lock():
            current = self._current(rebuild)
            known = current.listing if current else {}
            new_docs: list[NewDocument] = []
            seen: set[str] = set()
            for path in found.files:
                doc_id = str(path.resolve())
                seen.add(doc_id)
                try:
                    sha = file_sha256(path)
                    if doc_id in known and known[doc_id]["sha256"] == sha and not force:
                        report.unchanged.append(doc_id)
                        continue
                    on_page = None if ocr_progress is None else partial(ocr_progress, str(path))
                    doc = load_document(path, doc_id=doc_id, sha256=sha, ocr_progress=on_page)
                except DocumentError as exc:
                    if not skip_errors:
                        raise
                    report.failed.append((str(path), str(exc)))
                    continue
                except OSError as exc:
                    err = DocumentError(f"{path}: cannot read the file ({exc})")
                    if not skip_errors:
                        raise err from exc
                    report.failed.append((str(path), str(err)))
                    continue
                chunks = chunk_document(doc, self.chunk_size, self.chunk_overlap)
                (report.updated if doc_id in known else report.added).append(doc_id)
                new_docs.append(NewDocument(doc, chunks))
            for doc_id, entry in known.items():
                under_root = any(Path(entry["path"]).is_relative_to(r) for r in found.roots)
                if under_root and doc_id not in seen:
                    report.removed.append(doc_id)
            collection = self._collection(found.settings, current)
            if rebuild or report.changed or (current is not None and collection != current.collection):
                report = self._commit(current, new_docs, set(report.removed), report, on_plan, progress, collection)
            else:
                report.documents = len(known)
                report.chunks = len(current.chunks) if current else 0
        report.seconds = time.perf_counter() - t0
        return report

    @staticmethod
    def _collection(settings: list[Path], current: IndexData | None) -> Collection:
        """The collection settings of the first directory named that has them,
        else what the index already has (neutral wording for a new index)."""
        if settings:
            return Collection.read(settings[0])
        return current.collection if current is not None else Collection()

    def remove(self, refs: list[str]) -> IngestReport:
        """Remove documents by id or path."""
        report = IngestReport()
        with self._lock():
            current = self._current(rebuild=False)
            if current is None:
                raise IndexNotFound(f"no index at {self.root}; nothing to remove")
            by_path = {str(Path(d["path"])): doc_id for doc_id, d in current.listing.items()}
            for ref in refs:
                doc_id = ref if ref in current.listing else by_path.get(str(Path(ref).resolve()))
                if doc_id is None:
                    raise DocQAError(f"{ref}: not in the index; `docqa docs` lists what is indexed")
                report.removed.append(doc_id)
            report = self._commit(current, [], set(report.removed), report, None, None, current.collection)
        return report

    def _commit(self, current, new_docs, remove, report, on_plan, progress, collection: Collection) -> IngestReport:
        embedder = self.embedder if any(n.chunks for n in new_docs) or current is None else None
        dim = embedder.dim if embedder is not None else current.spec.dim
        base = current or IndexData.empty(self._spec(dim))
        if current is None:  # a rebuild numbers on from the old index: an id never names two chunks (Milvus relies on it)
            base.next_id = self._next_id()
        if embedder is not None and embedder.dim != base.spec.dim:
            raise DocQAError(f"embedder dimension {embedder.dim} does not match index dimension {base.spec.dim}")
        n_new = sum(len(n.chunks) for n in new_docs)
        if on_plan:
            on_plan(n_new)
        replaced = remove | {n.doc.doc_id for n in new_docs}
        gone = sum(base.listing[d]["chunks"] for d in replaced if d in base.listing)
        cache = EmbeddingCache(self.root, self.model_id, base.spec.dim)
        rows = embed_new(new_docs, embedder, self.segmenter, base.spec.dim, cache, progress)
        updated = store.commit(self.root, base, rows, remove, collection)
        cache.clear()
        report.chunks_added = n_new
        report.chunks_removed = gone
        report.documents = len(updated.docs)
        report.chunks = len(updated.chunks)
        return report
