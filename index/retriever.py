"""Hybrid retrieval: dense (FAISS inner product over normalised vectors) and
BM25 over jieba-segmented text, fused with reciprocal rank fusion.  Both run
segment by segment over the live rows and merge; BM25's statistics (document
frequencies, average length) are the whole index's, so scores do not depend on
how the rows are split into segments."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from docqa.index.segment import Segment
from docqa.index.store import IndexData
from docqa.index.tokenize import Segmenter
from docqa.records import Hit

RRF_K = 60


class BM25:
    """Lucene's BM25 (k1, b; idf = ln(1 + (N - df + 0.5) / (df + 0.5))) over the
    live rows of some segments, whose postings stay on disk."""

    def __init__(self, segments: list[Segment], deleted: frozenset[int] = frozenset(), k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.segments = segments
        self.skip = [seg.rows_of(deleted) for seg in segments]  # deleted rows, by segment
        self.n_docs = sum(seg.rows - len(rows) for seg, rows in zip(segments, self.skip))
        total = sum(float(seg.lengths.sum()) - float(seg.lengths[rows].sum()) for seg, rows in zip(segments, self.skip))
        self.avgdl = total / self.n_docs if self.n_docs else 1.0
        self.df: dict[str, int] = {}
        for seg, rows in zip(segments, self.skip):
            for term, n in zip(seg.vocab, seg.doc_freqs().tolist()):
                self.df[term] = self.df.get(term, 0) + n
            for counts in seg.row_terms(rows) if len(rows) else ():
                for term in counts:
                    self.df[term] -= 1
        self.df = {t: n for t, n in self.df.items() if n > 0}
        # each row's length part of the score, k1 (1 - b + b dl / avgdl), computed once
        self.norms = [(k1 * ((1 - b) + b * seg.lengths / self.avgdl)).astype(np.float32) for seg in segments]

    def idf(self, term: str) -> float:
        """Lucene-style IDF; unseen terms get the highest value."""
        df = self.df.get(term, 0)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def scores(self, terms: list[str]) -> list[np.ndarray]:
        """Each segment's row scores for ``terms`` (a term asked twice counts twice)."""
        out = [np.zeros(seg.rows, np.float32) for seg in self.segments]
        for term in terms:
            if term not in self.df:
                continue
            idf = self.idf(term)
            for seg, score, norm in zip(self.segments, out, self.norms):
                rows, tf = seg.postings(term)
                if len(rows):
                    score[rows] += (idf * tf / (tf + norm[rows])).astype(np.float32)
        for score, rows in zip(out, self.skip):
            score[rows] = 0.0
        return out


class HybridRetriever:
    def __init__(
        self, data: IndexData, segmenter: Segmenter, candidates: int = 50, rrf_k: int = RRF_K, load_dense: bool = True
    ):
        self.data = data
        self.segmenter = segmenter
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.bm25 = BM25(data.segments, data.deleted)
        self._threads: ThreadPoolExecutor | None = None
        for seg in data.segments if load_dense else ():
            seg.load_dense()  # now, not on the first question

    def __len__(self) -> int:
        return len(self.data.ids)

    def knows(self, term: str) -> bool:
        """Does any indexed passage contain the search term?"""
        return term in self.bm25.df

    def vocabulary(self) -> dict[str, int]:
        """Every search term of the live passages, with its document frequency."""
        return self.bm25.df

    def dense_scores(self, qvec: np.ndarray, ids: list[int]) -> np.ndarray:
        out = []
        for cid in ids:
            seg, row = self.data.rows.find(cid) or (None, 0)
            out.append(float(seg.exact(np.asarray([row]), qvec)[0]) if seg is not None else 0.0)
        return np.asarray(out, np.float32)

    def _excluded_rows(self, exclude: frozenset[int]) -> dict[str, list[int]]:
        """The rows of live passages in ``exclude``, by segment name."""
        rows: dict[str, list[int]] = {}
        for cid in exclude:
            found = self.data.rows.find(int(cid))
            if found is not None:
                rows.setdefault(found[0].name, []).append(found[1])
        return rows

    def dense(self, qvec: np.ndarray, k: int, exclude: frozenset[int]) -> list[tuple[int, float]]:
        """The ``k`` live passages nearest to ``qvec``, best first."""
        gone = self.data.deleted  # checked beside ``exclude``, not joined to it: it may hold many ids
        excluded = self._excluded_rows(exclude)

        def search(seg: Segment, deleted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return seg.search(qvec, k + len(deleted) + len(excluded.get(seg.name, ())))

        pairs = list(zip(self.data.segments, self.bm25.skip))
        graphs = sum(seg.dense_type != "Flat" for seg in self.data.segments)
        if graphs > 1:  # HNSW searches release the GIL: one per core at once
            results = list(self._pool().map(lambda pair: search(*pair), pairs))
        else:
            results = [search(*pair) for pair in pairs]
        found: list[tuple[int, float]] = []
        for (seg, _), (rows, scores) in zip(pairs, results):
            found += [(c, s) for c, s in zip(seg.ids[rows].tolist(), scores.tolist()) if c not in gone and c not in exclude]
        return sorted(found, key=lambda p: (-p[1], p[0]))[:k]

    def _pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="docqa-segments")
        return self._threads

    def lexical(self, terms: list[str], k: int, exclude: frozenset[int]) -> list[tuple[int, float]]:
        """The ``k`` best BM25 passages with a score above 0, best first."""
        excluded = self._excluded_rows(exclude)
        found: list[tuple[int, float]] = []
        for seg, score in zip(self.data.segments, self.bm25.scores(terms)):
            score[excluded.get(seg.name, [])] = 0.0
            rows = np.flatnonzero(score > 0)
            if len(rows) > k:  # the k best, and any tied with the k-th (the lower id wins a tie)
                kth = np.partition(score[rows], len(rows) - k)[len(rows) - k]
                rows = rows[score[rows] >= kth]
            found += [(int(seg.ids[r]), float(score[r])) for r in rows]
        return sorted(found, key=lambda p: (-p[1], p[0]))[:k]

    def search(
        self,
        question: str,
        qvec: np.ndarray,
        k: int,
        exclude: frozenset[int] = frozenset(),
        terms: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages; ``exclude`` names chunks (ids) to leave
        out, as if they had never been indexed; ``terms`` are BM25's (None:
        the segmenter's terms of ``question``)."""
        n = len(self) - sum(len(rows) for rows in self._excluded_rows(exclude).values())
        if n <= 0:
            return []
        pool = min(n, max(self.candidates, k))
        dense = self.dense(qvec, pool, exclude)
        lexical = self.lexical(self.segmenter.terms(question) if terms is None else list(terms), pool, exclude)
        return self.fuse(dense, lexical, qvec, k)

    def fuse(self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]], qvec: np.ndarray, k: int) -> list[Hit]:
        """Reciprocal rank fusion of the two ranked lists into ``k`` hits."""
        dense_of, lex_of = dict(dense), dict(lexical)
        fused: dict[int, float] = {}
        for ranked in (dense, lexical):
            for rank, (cid, _) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        best = sorted(fused, key=lambda c: (-fused[c], c))[:k]
        missing = [c for c in best if c not in dense_of]
        for c, s in zip(missing, self.dense_scores(qvec, missing).tolist()):
            dense_of[c] = float(s)
        hits = []
        for r, c in enumerate(best):
            units = self.data.unit_vectors.get(c)
            hits.append(
                Hit(
                    self.data.chunks[c],
                    fused[c],
                    dense_of[c],
                    lex_of.get(c, 0.0),
                    rank=r + 1,
                    row=c,
                    unit_dense=(units @ qvec).tolist() if units is not None else [],
                )
            )
        return hits
