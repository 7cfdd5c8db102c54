"""Embed the chunks of new or changed documents for one index change.

Embedding is committed in batches to a cache beside the index
(``.embedding-cache.sqlite``, keyed by model and chunk layout): an ingest that
is killed resumes where it stopped, re-embedding nothing it had finished.  The
cache is emptied once the change is live."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docqa.errors import IndexCorrupt
from docqa.index.embedder import Embedder
from docqa.index.store import NewRows
from docqa.index.tokenize import Segmenter
from docqa.records import Chunk, Document
from docqa.sqlite_file import SQLiteFile

EMBED_BATCH = 256
CACHE = ".embedding-cache.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, passage BLOB NOT NULL, units BLOB NOT NULL);
PRAGMA user_version = 1;
"""


@dataclass
class NewDocument:
    doc: Document
    chunks: list[Chunk]


class EmbeddingCache:
    """Vectors of chunks embedded by an ingest that has not finished yet."""

    def __init__(self, root: Path, model_id: str, dim: int):
        self.file = SQLiteFile(Path(root) / CACHE, _SCHEMA, 1, "the embedding cache", IndexCorrupt)
        self.model_id, self.dim = model_id, dim

    def key(self, text: str, spans: list[tuple[int, int]]) -> str:
        return hashlib.sha256(json.dumps([self.model_id, text, spans], ensure_ascii=False).encode("utf-8")).hexdigest()

    def get(self, keys: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if not keys or not self.file.exists():
            return {}
        with self.file.connect(create=False) as con:
            found = {}
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                rows = con.execute(f"SELECT key, passage, units FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
                for key, passage, units in rows:
                    found[key] = (
                        np.frombuffer(passage, np.float32).copy(),
                        np.frombuffer(units, np.float32).reshape(-1, self.dim).copy(),
                    )
            return found

    def put(self, rows: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        with self.file.connect(create=True) as con, con:
            con.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(k, np.asarray(p, np.float32).tobytes(), np.asarray(u, np.float32).tobytes()) for k, p, u in rows],
            )

    def clear(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.file.path) + suffix).unlink(missing_ok=True)


def embed_new(
    new_docs: list[NewDocument],
    embedder: Embedder | None,
    segmenter: Segmenter,
    dim: int,
    cache: EmbeddingCache,
    progress: Callable[[int], None] | None = None,
) -> NewRows:
    """The rows ``new_docs`` add: vectors, sentence vectors and BM25 terms;
    what ``cache`` holds is not embedded again, and every batch embedded goes
    into it.  ``embedder`` may be None when the documents have no chunk."""
    chunks = [c for n in new_docs for c in n.chunks]
    layouts = [c.embed_layout() for c in chunks]
    vectors = np.zeros((len(chunks), dim), np.float32)
    units: list[np.ndarray] = [np.zeros((0, dim), np.float32)] * len(chunks)
    for start in range(0, len(layouts), EMBED_BATCH):
        if embedder is None:
            raise ValueError(f"{len(layouts)} new chunks to embed, but no embedder was given")
        batch = layouts[start : start + EMBED_BATCH]
        keys = [cache.key(t, sp) for t, sp in batch]
        done = cache.get(keys)
        todo = [i for i, key in enumerate(keys) if key not in done]
        if todo:
            vecs, unit_vecs = embedder.embed_passage_units([batch[i][0] for i in todo], [batch[i][1] for i in todo])
            if vecs.shape != (len(todo), dim):
                raise ValueError(f"embedder returned shape {vecs.shape}, expected ({len(todo)}, {dim})")
            cache.put([(keys[i], vecs[j], unit_vecs[j]) for j, i in enumerate(todo)])
            done.update((keys[i], (vecs[j], np.asarray(unit_vecs[j], np.float32))) for j, i in enumerate(todo))
        for i, key in enumerate(keys):
            vectors[start + i], units[start + i] = done[key]
        if progress:
            progress(len(batch))
    terms = [segmenter.terms(text) for text, _ in layouts]
    return NewRows([n.doc for n in new_docs], chunks, vectors, units, terms)
