"""Hybrid retrieval: dense (FAISS inner product over normalised vectors) and
BM25 over jieba-segmented text, fused with reciprocal rank fusion."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from docqa.index.store import IndexData
from docqa.index.tokenize import Segmenter
from docqa.records import Hit

RRF_K = 60


class BM25:
    def __init__(self, ids: list[int], docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)
        self.n_docs = len(docs)
        self.df = Counter(t for d in docs for t in set(d))
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if docs:
            self._bm25.index([d or [""] for d in docs], show_progress=False)

    def idf(self, term: str) -> float:
        """Lucene-style IDF; unseen terms get the highest value."""
        df = self.df.get(term, 0)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def scores(self, terms: list[str]) -> np.ndarray:
        if not self.n_docs or not terms:
            return np.zeros(self.n_docs, dtype=np.float32)
        known = [t for t in terms if t in self.df]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)


class HybridRetriever:
    def __init__(self, data: IndexData, segmenter: Segmenter, candidates: int = 50, rrf_k: int = RRF_K):
        self.data = data
        self.segmenter = segmenter
        self.candidates = candidates
        self.rrf_k = rrf_k
        order = data.ids.tolist()
        self.row_of = {cid: row for row, cid in enumerate(order)}
        self.bm25 = BM25(order, [data.terms.get(cid, []) for cid in order])

    def __len__(self) -> int:
        return len(self.row_of)

    def knows(self, term: str) -> bool:
        """Does any indexed passage contain the search term?"""
        return term in self.bm25.df

    def dense_scores(self, qvec: np.ndarray, ids: list[int]) -> np.ndarray:
        rows = [self.row_of[i] for i in ids]
        return self.data.vectors[rows] @ qvec if rows else np.zeros(0, np.float32)

    def search(self, question: str, qvec: np.ndarray, k: int, exclude: frozenset[int] = frozenset()) -> list[Hit]:
        """The ``k`` best passages; ``exclude`` names chunks (FAISS ids) to leave
        out, as if they had never been indexed."""
        n = len(self) - len(exclude & self.row_of.keys())
        if n <= 0:
            return []
        pool = min(n, max(self.candidates, k))
        wanted = min(len(self), pool + len(exclude))
        dense_sc, dense_ids = self.data.faiss_index.search(qvec.reshape(1, -1).astype(np.float32), wanted)
        dense = [(int(i), float(s)) for i, s in zip(dense_ids[0].tolist(), dense_sc[0].tolist()) if i >= 0 and i not in exclude]
        dense_ranked = [i for i, _ in dense[:pool]]
        dense_of = dict(dense[:pool])

        bm = self.bm25.scores(self.segmenter.terms(question))
        if exclude:
            bm = bm.copy()
            bm[[self.row_of[c] for c in exclude if c in self.row_of]] = 0.0
        top = np.argsort(-bm, kind="stable")[:pool]
        lex_ranked = [int(self.bm25.ids[r]) for r in top if bm[r] > 0]
        lex_of = {int(self.bm25.ids[r]): float(bm[r]) for r in top}

        fused: dict[int, float] = {}
        for ranked in (dense_ranked, lex_ranked):
            for rank, cid in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        best = sorted(fused, key=lambda c: (-fused[c], c))[:k]
        missing = [c for c in best if c not in dense_of]
        for c, s in zip(missing, self.dense_scores(qvec, missing).tolist()):
            dense_of[c] = float(s)
        return [
            Hit(
                self.data.chunks[c],
                fused[c],
                dense_of[c],
                lex_of.get(c, 0.0),
                rank=r + 1,
                row=c,
                unit_dense=(self.data.unit_vectors[c] @ qvec).tolist() if c in self.data.unit_vectors else [],
            )
            for r, c in enumerate(best)
        ]
