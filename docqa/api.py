"""DocQA's public Python API: what the eval, the benchmarks and your own
programs build on.  Everything else is internal and may change.

    from docqa.api import Settings, make_engine
    engine = make_engine(Settings())     # the model loads here, not at import
    answer = engine.ask("上海累计备案了多少家新型研发机构？")
"""

from __future__ import annotations

from docqa.collection import Collection
from docqa.conversation import Resolution, Turn, parse_history
from docqa.engine import MAX_TOP_K, MODES, Engine, StreamEvent
from docqa.errors import (
    BadRequest,
    DocQAError,
    DocumentError,
    IndexCorrupt,
    IndexNotFound,
    LLMError,
    ModelMismatch,
    ModelUnavailable,
)
from docqa.factory import make_embedder, make_engine, make_ingestor
from docqa.index.ingestion import Ingestor, IngestReport, chunker_settings, pipeline_sources
from docqa.index.store import read_manifest
from docqa.ingest.discover import Discovery, discover
from docqa.records import Answer, Chunk, Citation, Hit
from docqa.settings import BUNDLED_CORPUS, DEFAULT_MODEL, Settings, settings_error

__all__ = [
    "Answer", "BadRequest", "Chunk", "BUNDLED_CORPUS", "Citation", "Collection", "DEFAULT_MODEL", "Discovery", "DocQAError",
    "DocumentError", "Engine", "Hit", "IndexCorrupt", "IndexNotFound", "IngestReport", "Ingestor", "LLMError",
    "MAX_TOP_K", "MODES", "ModelMismatch", "ModelUnavailable", "Resolution", "Settings", "StreamEvent", "Turn",
    "chunker_settings", "parse_history",
    "discover", "make_embedder", "make_engine", "make_ingestor", "pipeline_sources", "read_manifest", "settings_error",
]  # fmt: skip
