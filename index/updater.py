"""Apply document changes to an index: drop removed or changed documents,
chunk and embed only the new ones, keep every other vector as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from docqa.index.embedder import Embedder
from docqa.index.store import IndexData
from docqa.index.tokenize import Segmenter
from docqa.records import Chunk, Document

EMBED_BATCH = 256


@dataclass
class NewDocument:
    doc: Document
    chunks: list[Chunk]


def apply_changes(
    data: IndexData,
    new_docs: list[NewDocument],
    remove: set[str],
    embedder: Embedder | None,
    segmenter: Segmenter,
    progress: Callable[[int], None] | None = None,
) -> IndexData:
    """Return a new ``IndexData``; ``data`` itself is not modified.  ``embedder``
    may be None when nothing new is added (it is only needed to embed new chunks)."""
    replaced = remove | {n.doc.doc_id for n in new_docs}
    keep_rows = [i for i, cid in enumerate(data.ids.tolist()) if data.chunks[cid].doc not in replaced]
    kept_ids = data.ids[keep_rows]
    kept_vectors = data.vectors[keep_rows]

    new_chunks = [c for n in new_docs for c in n.chunks]
    layouts = [c.embed_layout() for c in new_chunks]
    texts = [text for text, _ in layouts]
    parts, unit_parts = [], []
    for start in range(0, len(texts), EMBED_BATCH):
        if embedder is None:
            raise ValueError(f"{len(texts)} new chunks to embed, but no embedder was given")
        batch = layouts[start : start + EMBED_BATCH]
        vecs, units = embedder.embed_passage_units([t for t, _ in batch], [sp for _, sp in batch])
        if vecs.shape != (len(batch), data.spec.dim):
            raise ValueError(f"embedder returned shape {vecs.shape}, expected ({len(batch)}, {data.spec.dim})")
        parts.append(vecs)
        unit_parts.extend(units)
        if progress:
            progress(len(batch))
    new_vectors = np.concatenate(parts) if parts else np.zeros((0, data.spec.dim), np.float32)

    next_id = int(data.ids.max()) + 1 if len(data.ids) else 0
    new_ids = np.arange(next_id, next_id + len(new_chunks), dtype=np.int64)

    chunks = {int(i): data.chunks[int(i)] for i in kept_ids}
    terms = {int(i): data.terms.get(int(i), []) for i in kept_ids}
    unit_vectors = {int(i): data.unit_vectors[int(i)] for i in kept_ids}
    for i, c, t, u in zip(new_ids.tolist(), new_chunks, texts, unit_parts):
        chunks[i] = c
        terms[i] = segmenter.terms(t)
        unit_vectors[i] = u
    docs = {k: v for k, v in data.docs.items() if k not in replaced}
    for n in new_docs:
        docs[n.doc.doc_id] = n.doc
    return IndexData(
        spec=data.spec,
        vectors=np.concatenate([kept_vectors, new_vectors]).astype(np.float32),
        ids=np.concatenate([kept_ids, new_ids]),
        chunks=chunks,
        terms=terms,
        docs=docs,
        unit_vectors=unit_vectors,
        built_at=data.built_at,
        path=data.path,
    )
