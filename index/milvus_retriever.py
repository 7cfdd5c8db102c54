"""Hybrid retrieval with the dense and BM25 searches done by Milvus
(``DOCQA_VECTOR_STORE=milvus``): the same fusion, hits and answer contract as
the FAISS store; the chunk texts, sentence vectors and documents stay in the
local generation, which the answerer reads."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from docqa.index.milvus_store import MilvusStore
from docqa.index.retriever import HybridRetriever
from docqa.index.store import IndexData
from docqa.index.tokenize import Segmenter


class MilvusRetriever(HybridRetriever):
    """Brings ``milvus`` in step with ``data``'s live chunks when built (a
    generation loaded: server start, hot reload, ``docqa ask``), then searches it."""

    def __init__(self, data: IndexData, segmenter: Segmenter, milvus: MilvusStore, candidates: int = 50):
        super().__init__(data, segmenter, candidates, load_dense=False)
        self.milvus = milvus
        self.synced = milvus.sync(data.ids.tolist(), self.rows)

    def rows(self, ids: list[int]) -> tuple[np.ndarray, list[list[str]]]:
        """Vectors and BM25 terms of chunks ``ids`` (read segment by segment)."""
        vectors = np.zeros((len(ids), self.data.spec.dim), np.float32)
        terms: list[list[str]] = [[] for _ in ids]
        by_seg = defaultdict(list)
        for i, cid in enumerate(ids):
            found = self.data.rows.find(int(cid))
            if found is None:
                raise KeyError(f"chunk {cid} is not live in this generation")
            by_seg[found[0].name].append((i, found[1]))
        for seg in self.data.segments:
            wanted = by_seg.get(seg.name)
            if not wanted:
                continue
            rows = np.asarray([r for _, r in wanted])
            vectors[[i for i, _ in wanted]] = np.asarray(seg.vectors[rows], np.float32)
            for (i, _), counts in zip(wanted, seg.row_terms(rows)):
                terms[i] = list(counts.elements())
        return vectors, terms

    def dense(self, qvec: np.ndarray, k: int, exclude: frozenset[int]) -> list[tuple[int, float]]:
        return self.milvus.dense(qvec, k, exclude)

    def lexical(self, terms: list[str], k: int, exclude: frozenset[int]) -> list[tuple[int, float]]:
        return self.milvus.lexical(terms, k, exclude)
