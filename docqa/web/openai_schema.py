"""The JSON shapes of the OpenAI-compatible endpoint (``POST /v1/chat/completions``,
``GET /v1/models``), as pydantic models for the OpenAPI schema
(``/api/openapi.json``).

They document OpenAI's chat-completions protocol as DocQA speaks it, plus the
``docqa`` extras; docqa/web/openai_api.py parses requests itself (so each error
names the field at fault, in OpenAI's error shape) and builds the responses."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from docqa.engine import MAX_TOP_K, MODES
from docqa.web.schema import Citation

MODEL_ID = "docqa"


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class Message(BaseModel):
    """One message of the conversation, oldest first.  The last one is the
    question (a ``user`` message); earlier ``user``/``assistant`` messages are
    the history; ``system``/``developer`` messages are ignored (DocQA's own
    prompts decide how it answers)."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] = Field(description="text, or a list of text parts (joined)")


class DocQAOptions(BaseModel):
    """DocQA's own options (not OpenAI's)."""

    model_config = ConfigDict(extra="forbid")

    top_k: int | None = Field(None, description=f"passages to retrieve, 1 to {MAX_TOP_K}; default: the server's setting")
    mode: str | None = Field(None, description=f"one of {', '.join(MODES)}; default: the server's")


class StreamOptions(BaseModel):
    include_usage: bool | None = Field(None, description="send a last chunk with the usage and no choices")


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat-completions request.  Sampling parameters (``temperature``,
    ``top_p``, ``max_tokens``, ``user``, …) and unknown fields are accepted and
    ignored; ``n`` may only be 1."""

    model_config = ConfigDict(extra="allow")

    model: Literal["docqa"] = Field(description="the one model GET /v1/models lists")
    messages: list[Message]
    stream: bool | None = Field(None, description="Server-Sent Events of chat.completion.chunk objects, then [DONE]")
    stream_options: StreamOptions | None = None
    n: Literal[1] | None = None
    docqa: DocQAOptions | None = None


class DocQAExtra(BaseModel):
    """How the answer was reached: the answer contract of ``POST /api/ask``
    without ``answer`` (the message's content), ``passages`` and timings."""

    question: str
    resolved_question: str = Field(description="the standalone question answered (a follow-up rewritten)")
    refused: bool = Field(description="true when the documents do not answer the question (the content says so)")
    citations: list[Citation] = Field(description="the content's [n] markers: each quote is exact document text")
    confidence: float | None = Field(description="the answer selector's probability that the best evidence answers")
    mode: str
    notice: str | None = Field(description="why the answer is shown as it is (LLM mode: an extractive fallback, …)")


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str = Field(description="the answer, with its [n] citation markers")


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class Usage(BaseModel):
    """Characters, not tokens (DocQA answers from passages; an extractive
    answer has no tokens): the messages read and the answer written."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str = Field(description='"chatcmpl-" and a random hex string')
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    docqa: DocQAExtra


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    finish_reason: Literal["stop"] | None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One ``data:`` line of a stream: the role, the content, then a chunk with
    ``finish_reason: "stop"`` and ``docqa``."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    docqa: DocQAExtra | None = Field(None, description="the final chunk only")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class ErrorBody(BaseModel):
    message: str = Field(description="what is wrong and what to change")
    type: str = Field(description='"invalid_request_error" (4xx) or "server_error" (5xx)')
    param: str | None = Field(description="the request field at fault")
    code: str | None = Field(description='e.g. "model_not_found"')


class OpenAIError(BaseModel):
    """OpenAI's error shape."""

    error: ErrorBody
