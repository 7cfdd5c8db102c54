"""The index layer at 10k / 100k / 1M chunks, with a fast deterministic fake
embedder (part of ``bench/bench_scale.py``; run that).

Chunks are made of words drawn from jieba's dictionary (so BM25 postings are
as long as real ones): each document has a topic, and half of each chunk's 40
words come from its topic's 150, half from the whole vocabulary by frequency.
A chunk's vector is the normalised sum of a fixed random vector per word, drawn
in a 192-dimensional subspace (so chunks sharing words or a topic are near, as
with a real model).  192 makes the vectors' participation ratio (the number of
principal directions that carry their variance) about 114; the real model's
vectors of 3,000 CMRC 2018 trial sentences measured 135.  Isotropic random
vectors (ratio ~350) have no neighbourhoods, and no approximate index finds
their neighbours: recall@10 0.41 at 100k.  Each question takes six words of
one chunk.  For each size:

* append: seconds to add 10k chunks (segment, BM25 postings, generation switch;
  no embedding) to an index of that size, and the ratio to adding them to an
  empty index in the same run;
* load and RSS: seconds to open the index and build the retriever, and the
  resident memory afterwards, in a fresh process;
* search: p50/p95 of ``Engine.ask`` minus its embedding time (retrieval +
  answer), and recall@10 of the dense search against exact inner products.

A size's base index is written as equal segments of at most 150k rows (the 1M
index has seven of 143k: one short of the eight that tiered merging would
merge, so a search visits as many segments as it can in a grown index).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DIM = 384
WORDS = 60_000
WORDS_PER_CHUNK = 40
LATENT = 192
TOPICS = 1000
TOPIC_WORDS = 150
APPEND = 10_000
BASE_PART = 150_000
MODEL = "fake-hash-384"


class HashEmbedder:
    """Question vectors the way the corpus's were made: the words' vectors summed."""

    model_id = MODEL
    dim = DIM

    def __init__(self, words: list[str], vectors: np.ndarray, segmenter):
        self.index = {w: i for i, w in enumerate(words)}
        self.vectors = vectors
        self.segmenter = segmenter

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), np.float32)
        for i, t in enumerate(texts):
            for w in self.segmenter.terms(t):
                if w in self.index:
                    out[i] += self.vectors[self.index[w]]
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def embed_passages(self, texts):  # pragma: no cover - the bench writes rows itself
        raise NotImplementedError

    embed_passage_units = embed_passages


def vocabulary(segmenter) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The most frequent Chinese words of jieba's dictionary, their sampling
    weights and a fixed random unit vector each."""
    from docqa.index.tokenize import STOPWORDS

    freq = segmenter.word_frequencies()
    words = [w for w, _ in sorted(freq.items(), key=lambda kv: -kv[1]) if len(w) >= 2 and w not in STOPWORDS]
    words = [w for w in words if all("\u4e00" <= ch <= "\u9fff" for ch in w)][:WORDS]
    weights = np.asarray([freq[w] for w in words], np.float64) ** 0.75
    rng = np.random.default_rng(7)
    latent = rng.standard_normal((len(words), LATENT)).astype(np.float32)
    vectors = latent @ rng.standard_normal((LATENT, DIM)).astype(np.float32)
    return words, weights / weights.sum(), vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def rows(n: int, first: int, vocab, seed: int):
    """``n`` synthetic chunks (one document per 10), as ``store.NewRows``."""
    from docqa.index.store import NewRows
    from docqa.records import Chunk, Document, Unit

    words, weights, wvecs = vocab
    rng = np.random.default_rng(seed)
    topic_words = np.random.default_rng(11).choice(len(words), size=(TOPICS, TOPIC_WORDS))
    topics = rng.integers(0, TOPICS, size=(n + 9) // 10).repeat(10)[:n]  # one topic per document of 10 chunks
    half = WORDS_PER_CHUNK // 2
    on_topic = topic_words[topics[:, None], rng.integers(0, TOPIC_WORDS, size=(n, half))]
    picks = np.concatenate([on_topic, rng.choice(len(words), size=(n, half), p=weights)], axis=1)
    vectors = np.zeros((n, DIM), np.float32)
    for j in range(WORDS_PER_CHUNK):
        vectors += wvecs[picks[:, j]]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks, terms, units, docs = [], [], [], []
    for d in range(0, n, 10):
        doc_id = f"doc-{first + d}"
        texts = ["".join(words[w] for w in picks[i]) + "。" for i in range(d, min(d + 10, n))]
        docs.append(Document(doc_id, f"/bench/{doc_id}.txt", doc_id, "".join(texts), "0" * 64, "txt"))
        at = 0
        for k, text in enumerate(texts):
            i = d + k
            half = len(text) // 2
            us = [Unit(at, at + half, text[:half], at), Unit(at + half, at + len(text), text[half:], at)]
            chunks.append(Chunk(f"{doc_id}#{k}", doc_id, doc_id, ("第一章 概况",), at, at + len(text), None, text, us))
            terms.append([words[w] for w in picks[i]])
            units.append(np.stack([vectors[i], vectors[i]]).astype(np.float16))
            at += len(text)
    return NewRows(docs, chunks, vectors, units, terms), picks


def _chunker() -> dict:
    from docqa.index.ingestion import chunker_settings
    from docqa.settings import Settings

    s = Settings()
    return chunker_settings(s.chunk_size, s.chunk_overlap)


def build(root: Path, size: int, vocab) -> None:
    from docqa.collection import Collection
    from docqa.index import store

    spec = store.IndexSpec(MODEL, DIM, _chunker())
    data = store.IndexData.empty(spec)
    parts = -(-size // BASE_PART)
    for part in range(parts):
        lo, hi = size * part // parts, size * (part + 1) // parts
        new, _ = rows(hi - lo, lo, vocab, seed=part + 1)
        data = store.commit(root, data, new, set(), Collection())


def append_seconds(root: Path, vocab) -> float:
    from docqa.collection import Collection
    from docqa.index import store

    spec = store.IndexSpec(MODEL, DIM, _chunker())
    base = store.load(root, spec) if store.live_generation(root) else store.IndexData.empty(spec)
    new, _ = rows(APPEND, 10**8, vocab, seed=99)
    t0 = time.perf_counter()
    store.commit(root, base, new, set(), Collection())
    return time.perf_counter() - t0


def probe(root: str, questions_n: int) -> dict:
    """Run in a fresh process: load, RSS, search timings and recall."""
    sys.path.insert(0, str(ROOT))
    from docqa.factory import make_engine
    from docqa.index.retriever import HybridRetriever
    from docqa.index.tokenize import Segmenter
    from docqa.settings import Settings

    segmenter = Segmenter()
    vocab = vocabulary(segmenter)
    embedder = HashEmbedder(vocab[0], vocab[2], segmenter)
    embedder.embed_queries(["预热"])
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    settings = Settings(index_dir=Path(root), model=MODEL)
    engine = make_engine(settings, embedder)
    load = time.perf_counter() - t0
    rss = _rss_mb()
    engine.warmup()
    engine.ask("预热一下")  # the answer selector loads on the first question
    retriever: HybridRetriever = engine.retriever
    rng = np.random.default_rng(5)
    ids = engine.index.ids
    questions = []
    for cid in rng.choice(ids, size=questions_n, replace=False).tolist():
        ws = segmenter.terms(engine.index.chunks[int(cid)].text)
        questions.append("".join(rng.choice(ws, size=min(6, len(ws)), replace=False).tolist()) + "是多少？")
    times = []
    for q in questions:  # timed first: the exact searches below sweep every vector through the caches
        answer = engine.ask(q)
        times.append(sum(answer.timings_ms.values()) - answer.timings_ms["embed"])
    recalls = []
    for q in questions:
        qvec = embedder.embed_queries([q])[0]
        got = {c for c, _ in retriever.dense(qvec, 10, frozenset())}
        recalls.append(len(got & _exact_top(engine.index, qvec, 10)) / 10)
    return {
        "load_s": load,
        "rss_mb": rss,
        "rss_index_mb": rss - rss0,
        "search_p50_ms": float(np.percentile(times, 50)),
        "search_p95_ms": float(np.percentile(times, 95)),
        "recall_at_10": float(np.mean(recalls)),
        "segments": [(s.rows, s.dense_type) for s in engine.index.segments],
    }


def _exact_top(data, qvec: np.ndarray, k: int) -> set[int]:
    best: list[tuple[float, int]] = []
    for seg in data.segments:
        for start in range(0, seg.rows, 200_000):
            scores = np.asarray(seg.vectors[start : start + 200_000]) @ qvec
            top = np.argsort(-scores)[:k]
            best += [(float(scores[r]), int(seg.ids[start + r])) for r in top if int(seg.ids[start + r]) not in data.deleted]
    return {c for _, c in sorted(best, reverse=True)[:k]}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def bench(sizes: list[int], questions: int = 200) -> dict:
    from docqa.index.tokenize import Segmenter

    vocab = vocabulary(Segmenter())
    out: dict = {"append_empty_s": None, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="docqa-scale-") as tmp:
        out["append_empty_s"] = append_seconds(Path(tmp) / "empty", vocab)
        for size in sizes:
            root = Path(tmp) / f"n{size}"
            t0 = time.perf_counter()
            build(root, size, vocab)
            built = time.perf_counter() - t0
            result = json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--probe", str(root), str(questions)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "DOCQA_HOME": tmp},
                ).stdout.splitlines()[-1]
            )
            result["build_s"] = built
            print(json.dumps({size: result}), file=sys.stderr)
            result["append_s"] = append_seconds(root, vocab)
            result["append_ratio"] = result["append_s"] / out["append_empty_s"]
            out["sizes"][size] = result
            print(json.dumps({size: result}), file=sys.stderr)
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["--probe"]:
    print(json.dumps(probe(sys.argv[2], int(sys.argv[3]))))
