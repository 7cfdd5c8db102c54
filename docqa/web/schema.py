"""The JSON shapes of ``POST /api/ask``, as pydantic models for validation and
for the OpenAPI schema (``/api/openapi.json``).

``AskRequest`` is what a client sends; the engine (``Engine.check``) stays the
authority on the values' limits.  ``AnswerContract`` describes what
``Answer.to_dict()`` produces; the API returns those bytes unchanged."""
from __future__ import annotations

from typing import get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from docqa.engine import MAX_TOP_K, MODES
from docqa.records import Chunk, Citation  # the contract's citations are exactly ``asdict(Citation)``


class AskRequest(BaseModel):
    """A question about the indexed documents."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="the question; not empty, at most the server's limit (1000 characters by default)")
    top_k: int | None = Field(None, description=f"passages to retrieve, 1 to {MAX_TOP_K}; default: the server's setting")
    mode: str | None = Field(None, description=f"one of {', '.join(MODES)}; default: extractive")


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


_CHUNK = get_type_hints(Chunk)
Passage = create_model(  # the chunk's fields that ``Answer.to_dict()`` copies, typed as in ``Chunk``, and the score
    "Passage",
    __base__=Contract,
    __doc__="A retrieved passage (a chunk of a document) and its score, best first.",
    **{name: (_CHUNK[name], ...) for name in ("chunk_id", "doc", "title", "section", "start", "end", "page", "text")},
    score=(float, ...),
)


class AnswerContract(Contract):
    """The answer contract (``Answer.to_dict()``): shared by the API, the CLI's
    ``--json``, the chat UI's ``/ask`` and the eval."""

    question: str
    answer: str
    refused: bool = Field(description="true when the documents do not answer the question (the answer says so)")
    citations: list[Citation] = Field(description="the answer's [n] markers: each quote is exact document text")
    passages: list[Passage]
    timings_ms: dict[str, float]
    mode: str
    notice: str | None
    llm: dict | None = Field(None, description="LLM mode only: model, tokens, timings, the grounding guard's report")


class ErrorMessage(BaseModel):
    """A request DocQA cannot answer, and what to change."""

    error: str
