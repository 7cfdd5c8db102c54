"""The JSON shapes of ``POST /api/ask``, as pydantic models for validation and
for the OpenAPI schema (``/api/openapi.json``).

``AskRequest`` is what a client sends; the engine (``Engine.check``) stays the
authority on the values' limits.  ``AnswerContract`` describes what
``Answer.to_dict()`` produces; the API returns those bytes unchanged."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from docqa.conversation.records import MAX_TURN_CHARS, MAX_TURNS
from docqa.engine import MAX_TOP_K, MODES


class HistoryTurn(BaseModel):
    """An earlier message of the conversation."""

    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["user", "assistant"]
    content: str = Field(description=f"the message's text, at most {MAX_TURN_CHARS} characters")


class AskRequest(BaseModel):
    """A question about the indexed documents."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="the question; not empty, at most the server's limit (1000 characters by default)")
    top_k: int | None = Field(None, description=f"passages to retrieve, 1 to {MAX_TOP_K}; default: the server's setting")
    mode: str | None = Field(None, description=f"one of {', '.join(MODES)}; default: extractive")
    history: list[HistoryTurn] | None = Field(
        None,
        description=f"the conversation's earlier turns, oldest first (the last {MAX_TURNS} are read): a follow-up "
        '(「它…」, 「那X呢？」, "what about X") is answered as the standalone question it asks (resolved_question)',
    )
    collection: str | None = Field(
        None, description="the collection to answer from (GET /healthz lists them); default: the default collection"
    )


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(Contract):
    """One ``[n]`` marker of the answer: where its quote is in a document."""

    n: int
    doc: str
    title: str
    section: str = Field(description='the section path, outermost first, joined with " > "')
    start: int = Field(description="character offset of the quote in the document's cleaned text")
    end: int
    page: int | None
    quote: str = Field(description="exactly the document's text between start and end")
    boxes: list[list[float]] = Field(
        description="PDF documents: where the quote is, [page, left, top, right, bottom] with the edges as fractions "
        "of the page's width and height from its top-left corner; GET /api/page?doc=…&page=… shows the page"
    )
    low_confidence: bool = Field(description="part of the quote was read by OCR with low confidence: check the page")


class Passage(Contract):
    """A retrieved passage (a chunk of a document) and its score, best first."""

    chunk_id: str
    doc: str
    title: str
    section: str
    start: int
    end: int
    page: int | None
    text: str
    score: float


class AnswerContract(Contract):
    """The answer contract (``Answer.to_dict()``): shared by the API, the CLI's
    ``--json``, the chat UI's ``/ask`` and the eval."""

    question: str
    resolved_question: str = Field(
        description="the standalone question answered: the question itself on a first turn, a follow-up rewritten "
        "with what it refers to (show it as 「理解为：…」 when it differs)"
    )
    answer: str
    refused: bool = Field(description="true when the documents do not answer the question (the answer says so)")
    citations: list[Citation] = Field(description="the answer's [n] markers: each quote is exact document text")
    passages: list[Passage]
    timings_ms: dict[str, float]
    mode: str
    notice: str | None
    confidence: float | None = Field(
        description="the answer selector's probability that the best evidence answers the question "
        "(refusals too: below the selector's threshold the answer is a refusal)"
    )
    llm: dict | None = Field(None, description="LLM mode only: model, tokens, timings, the grounding guard's report")
    second_opinion: float | None = Field(
        None,
        description="DOCQA_CHECK=llm only: the LLM's probability that the best evidence answers, "
        "which joined the refusal decision (absent when it was not asked)",
    )


class ErrorMessage(BaseModel):
    """A request DocQA cannot answer, and what to change."""

    error: str
