"""Small deterministic stand-ins for the engine's collaborators."""

from __future__ import annotations

import hashlib
import unicodedata

import numpy as np


class FakeEmbedder:
    """Hashes character unigrams and bigrams into a small normalised vector:
    texts sharing characters are similar, identical texts identical.
    Counts calls so tests can assert that no embedding work happened."""

    model_id = "fake-embedder"

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.passages_embedded = 0
        self.queries_embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        t = unicodedata.normalize("NFKC", text).lower()
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(t) + [t[i : i + 2] for i in range(len(t) - 1)]
        for g in grams:
            if g.strip():
                h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little")
                v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries_embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passage_units(self, texts, spans):
        units = [
            np.stack([self._vec(t[s:e]) for s, e in sp]) if sp else np.zeros((0, self.dim), np.float32)
            for t, sp in zip(texts, spans)
        ]
        return self.embed_passages(texts), units


def fake_engine(settings, folder, files: dict[str, str]):
    """An engine with the fake embedder over ``files`` (name -> text), written to ``folder``."""
    from docqa.factory import make_engine, make_ingestor

    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    emb = FakeEmbedder()
    make_ingestor(settings, emb).ingest([folder])
    return make_engine(settings, emb)


def use_embedder(monkeypatch, embedder) -> None:
    """Make every embedder the engine's factory builds ``embedder``. docqa.api
    re-exports make_embedder, so a module that imported it keeps its own name
    and both are patched."""
    import docqa.api  # noqa: F401  (loaded, so its name can be patched)

    for module in ("docqa.factory", "docqa.api"):
        monkeypatch.setattr(f"{module}.make_embedder", lambda settings: embedder)
