"""A fast CPU query encoder: the embedding model exported to ONNX and
quantized to int8 (weights), run with onnxruntime.

Built once beside the sentence-transformers folder (``<model>/onnx/``, ~40 s:
``torch.onnx.export`` then ``onnxruntime.quantization.quantize_dynamic``) and
used for questions only: passages keep the torch model, so an index built
either way is the same and nothing needs re-ingesting.  On 2 cores a question
encodes in ~4 ms instead of ~21 ms, with vectors at cosine ~0.99 to torch's."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np

from docqa.errors import ModelUnavailable

log = logging.getLogger(__name__)

FOLDER = "onnx"
FILE = "model.int8.onnx"
OPSET = 17
THREADS = 2


def onnx_path(model_dir: Path) -> Path:
    return Path(model_dir) / FOLDER / FILE


def ensure_onnx(model_dir: Path, transformer, tokenizer) -> Path:
    """The int8 ONNX build of ``transformer`` (a Hugging Face encoder) in
    ``model_dir``; built the first time (under a file lock), then reused."""
    from filelock import FileLock

    target = onnx_path(model_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not target.exists():
            log.warning("building the int8 ONNX query encoder into %s (one time, ~40 s)", target.parent)
            _build(transformer, tokenizer, target)
    return target


def _build(transformer, tokenizer, target: Path) -> None:
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelUnavailable(f"cannot build the ONNX encoder ({exc}); reinstall DocQA or set DOCQA_ENCODER=torch") from exc

    class Encoder(torch.nn.Module):  # called with keyword arguments, as the exporter needs
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = tokenizer(["query: 样例 sample"], return_tensors="pt")
    fp32 = target.with_name(f".{os.getpid()}.fp32.onnx")
    tmp = target.with_name(f".{os.getpid()}.{FILE}")
    dims = {0: "batch", 1: "tokens"}
    quiet, handlers = logging.root.manager.disable, list(logging.root.handlers)
    try:
        # the exporter's tracer warnings and onnxruntime's advice on pre-processing mean nothing to a user
        logging.disable(logging.WARNING)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Encoder(transformer.eval()),
                (sample["input_ids"], sample["attention_mask"]),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": dims, "attention_mask": dims, "last_hidden_state": dims},
                opset_version=OPSET,
                dynamo=False,
            )
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
        os.replace(tmp, target)
    except Exception as exc:
        raise ModelUnavailable(f"cannot build the ONNX encoder ({exc}); set DOCQA_ENCODER=torch for the torch model") from exc
    finally:
        logging.disable(quiet)
        for added in [h for h in logging.root.handlers if h not in handlers]:
            logging.root.removeHandler(added)  # quantize_dynamic's logging.warning() configures the root logger
        fp32.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


class OnnxQueryEncoder:
    """Questions -> L2-normalised vectors: the tokenizer of the model folder,
    the int8 ONNX encoder, mean pooling over the attention mask (as the
    sentence-transformers model pools)."""

    def __init__(self, path: Path, tokenizer, max_length: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.log_severity_level = 3
        # Its threads sleep between questions instead of spinning: spinning
        # threads hold both cores while the rest of the question (retrieval,
        # the selector, torch) runs, and slow it (bench/bench_core.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.max_length = max_length

    def encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer(list(texts), return_tensors="np", padding=True, truncation=True, max_length=self.max_length)
        mask = enc["attention_mask"].astype(np.int64)
        hidden = self.session.run(None, {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        vecs = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return (vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)).astype(np.float32)
