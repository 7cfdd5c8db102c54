"""The answer reader: a cross-encoder that reads the question and the best
candidate's sentence together and gives the probability that the sentence
answers the question.

The selector's features say how much of the question a candidate repeats; a
passage on the right topic that lacks the asked detail (a near miss) repeats
much of it too.  The reader sees both texts at once, so it can tell "on
topic" from "holds the answer".  It is the embedding model itself with
low-rank adapters (LoRA) on its linear layers and a linear head over the
mean-pooled tokens, trained by ``docqa train-selector`` on the same training
sets as the selector.  Its file holds only the adapters and the head (a few
MB); they are merged into a copy of the embedding model's transformer that
shares its word embeddings (which the adapters leave alone).

The answerability model reads the reader's score as one more input; a selector
works without a reader too (the score is then missing, which it was trained to
expect), at the cost of more false refusals.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from docqa.errors import DocumentError

FORMAT = "1"
MAX_TOKENS = 160
QUERY, PASSAGE = "query: ", "passage: "


def encode_pairs(tokenizer, questions: list[str], texts: list[str]) -> dict:
    return tokenizer(
        [QUERY + q for q in questions],
        [PASSAGE + t for t in texts],
        truncation="only_second",
        max_length=MAX_TOKENS,
        padding=True,
        return_tensors="pt",
    )


def arithmetic(bfloat16: bool):
    """bfloat16 autocast for the reader's matrix products, or plain float32:
    the same in training and in use."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()


def pooled_logits(model, head, batch: dict):
    """The head's logit over the mean of the token vectors."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
    return head((out * mask).sum(1) / mask.sum(1).clamp(min=1)).squeeze(-1)


def lora_tensors(state: dict, head) -> dict[str, Any]:
    """The adapters of a peft model's state dict, keyed by the module they
    adapt, and the head: what a reader file holds."""
    out = {}
    for key, value in state.items():
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in key:
                module = key.split(marker)[0].removeprefix("base_model.model.")
                out[f"{module}.{part[-1]}"] = value.detach().float().contiguous()
    out["head.weight"] = head.weight.detach().float().contiguous()
    out["head.bias"] = head.bias.detach().float().contiguous()
    return out


def save(path: Path, tensors: dict, scale: float) -> None:
    from safetensors.torch import save_file

    tmp = Path(path).with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"format": FORMAT, "scale": json.dumps(scale)})
    tmp.replace(path)


class AnswerReader:
    """Scores (question, reading) pairs.  ``transformer`` is a function giving
    the embedding model's transformer and tokenizer (called on first use);
    ``bfloat16``: its matrix products in bfloat16 (autocast, as it was
    trained), where the CPU multiplies bfloat16 natively (~1.5x faster)."""

    def __init__(self, path: Path | str, transformer, bfloat16: bool = False):
        self.path = Path(path)
        self._transformer = transformer
        self.bfloat16 = bfloat16
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        import torch
        from safetensors import safe_open

        if not self.path.is_file():
            raise DocumentError(f"no answer reader at {self.path}; retrain the selector with `docqa train-selector`")
        try:
            with safe_open(str(self.path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no iterator
        except Exception as exc:  # safetensors raises its own error types
            raise DocumentError(f"{self.path}: cannot read the answer reader ({exc}); retrain the selector") from exc
        if meta.get("format") != FORMAT:
            raise DocumentError(f"{self.path}: an answer reader of another format; retrain the selector")
        scale = float(json.loads(meta.get("scale", "1")))
        base, self._tokenizer = self._transformer()
        words = base.get_input_embeddings().weight
        model = copy.deepcopy(base, memo={id(words): words})  # the word embeddings stay shared
        modules = dict(model.named_modules())
        with torch.no_grad():
            for key in [k for k in tensors if k.endswith(".A")]:
                name = key[: -len(".A")]
                if name not in modules:
                    raise DocumentError(f"{self.path}: the answer reader adapts {name}, which the model lacks; retrain it")
                modules[name].weight += scale * (tensors[name + ".B"] @ tensors[key])
        head = torch.nn.Linear(tensors["head.weight"].shape[1], 1)
        head.load_state_dict({"weight": tensors["head.weight"], "bias": tensors["head.bias"]})
        model.eval()
        self._head = head.eval()
        return model

    def warmup(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def score(self, question: str, texts: list[str]) -> np.ndarray:
        """The probability that each text answers the question."""
        return self.score_pairs([question] * len(texts), texts)

    def score_pairs(self, questions: list[str], texts: list[str], batch: int = 32) -> np.ndarray:
        """The probability that each text answers its question."""
        import torch

        self.warmup()
        out = []
        with torch.inference_mode(), arithmetic(self.bfloat16):
            for i in range(0, len(texts), batch):
                inputs = encode_pairs(self._tokenizer, questions[i : i + batch], texts[i : i + batch])
                out.append(torch.sigmoid(pooled_logits(self._model, self._head, inputs).float()).numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)
