"""Convert an index written by an earlier DocQA (format 1: one FAISS file and
whole-corpus JSON lines per generation) into the segment format, in place and
without embedding anything again: its vectors, sentence vectors and BM25 terms
become one segment of a new generation, which goes live atomically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from docqa.collection import Collection
from docqa.errors import IndexCorrupt
from docqa.index import store
from docqa.records import Chunk, Document

OLD_FORMAT = 1  # what a manifest's format_version says of an index this module converts


def upgrade(root: Path, spec: store.IndexSpec) -> bool:
    """Rewrite a format-1 index as the current format; False when it already is
    (the caller holds the ingest lock)."""
    root = Path(root)
    manifest = store.read_manifest(root)
    if manifest.get("format_version") != OLD_FORMAT:
        return False
    store.check_manifest({**manifest, "format_version": store.FORMAT_VERSION}, spec, root)
    gen = store.live_generation(root)
    assert gen is not None
    try:
        import faiss

        index = faiss.read_index(str(gen / "vectors.faiss"))
        if not isinstance(index, faiss.IndexIDMap2):
            raise TypeError(f"vectors.faiss holds a {type(index).__name__}, not an IndexIDMap2")
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        flat = faiss.downcast_index(index.index)
        if not isinstance(flat, faiss.IndexFlat):
            raise TypeError(f"vectors.faiss holds an IndexIDMap2 over a {type(flat).__name__}, not a flat index")
        vectors = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d).copy()
        row_of = {int(c): r for r, c in enumerate(ids.tolist())}
        chunks, terms = {}, {}
        with (gen / "chunks.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                chunks[rec["id"]] = Chunk.from_dict(rec["chunk"])
                terms[rec["id"]] = rec["terms"].split(" ") if rec["terms"] else []
        with (gen / "docs.jsonl").open(encoding="utf-8") as f:
            docs = [Document(**json.loads(line)) for line in f]
        stacked = np.load(gen / "units.npy").astype(np.float32)
        collection = Collection.from_dict(manifest.get("collection"))
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"the index at {root} (format 1) is damaged ({exc}); {store.REINGEST}") from exc
    order = sorted(chunks)  # units.npy is in chunk-id order; new ids follow the documents' order
    units, at = {}, 0
    for cid in order:
        units[cid] = stacked[at : at + len(chunks[cid].units)]
        at += len(chunks[cid].units)
    doc_rank = {d.doc_id: i for i, d in enumerate(docs)}
    by_doc = sorted(order, key=lambda c: (doc_rank[chunks[c].doc], c))
    new = store.NewRows(
        docs,
        [chunks[c] for c in by_doc],
        vectors[[row_of[c] for c in by_doc]],
        [units[c] for c in by_doc],
        [terms[c] for c in by_doc],
    )
    base = store.IndexData.empty(spec)
    base.built_at = manifest.get("built_at", "")
    store.commit(root, base, new, set(), collection)
    return True
