"""The OpenAI-compatible endpoint: ``POST /v1/chat/completions`` (streaming and
not) and ``GET /v1/models``, so chat front-ends and SDKs can use DocQA as a
model named ``docqa`` (docs/openai.md).

The messages become the question (the last message, a ``user`` one) and the
history (the earlier ``user``/``assistant`` messages, oldest first); ``system``
messages are ignored.  The answer text keeps its ``[n]`` markers; its
citations, ``resolved_question``, ``refused`` and ``confidence`` travel in an
extra top-level field ``docqa`` (in a stream: in the final chunk).  Errors come
in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``.

A stream carries the engine's checked answer: the engine's deltas are read (in
LLM mode they are the LLM's raw reply, whose ``[n]`` are passage numbers) and
the final answer's text is sent, so the markers always match ``citations``.

Engine calls run in worker threads, at most ``concurrency`` at once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from docqa.conversation import Turn, parse_history
from docqa.conversation.records import MAX_HISTORY_ITEMS, MAX_TURN_CHARS
from docqa.engine import Engine, StreamEvent
from docqa.errors import BadRequest, DocQAError
from docqa.records import Answer
from docqa.settings import DEFAULT_COLLECTION
from docqa.web.api import MAX_BODY_BYTES, NO_STORE, answer_queue, engine_for, error_headers
from docqa.web.limits import AnswerQueue
from docqa.web.openai_schema import (
    MODEL_ID,
    ChatCompletion,
    ChatCompletionRequest,
    DocQAExtra,
    ModelCard,
    ModelList,
    OpenAIError,
)
from docqa.web.shelf import Shelf, as_shelf

EXAMPLE = '{"model": "docqa", "messages": [{"role": "user", "content": "…"}]}'
ROLES = ("user", "assistant")
IGNORED_ROLES = ("system", "developer")  # DocQA's own prompts decide how it answers
EXTRA_FIELDS = tuple(DocQAExtra.model_fields)
OPTIONS = ("top_k", "mode")
STREAM_HEADERS = {**NO_STORE, "X-Accel-Buffering": "no"}  # a reverse proxy passes each event on at once
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OpenAIError, "description": "A bad request: the message says what to change, param names the field"},
    404: {"model": OpenAIError, "description": 'A model other than "docqa" or "docqa/<collection>" (code "model_not_found")'},
    502: {"model": OpenAIError, "description": "LLM mode: the configured LLM backend failed"},
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": 'A chat.completion; with "stream": true, Server-Sent Events of chat.completion.chunk, then [DONE]',
    },
    **ERRORS,
}


class RequestError(BadRequest):
    """A bad chat-completions request, in OpenAI's terms: the field at fault
    (``param``) and a machine-readable ``code``."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None, status: int = 400):
        super().__init__(message)
        self.param, self.code, self.http_status = param, code, status


@dataclass(frozen=True)
class ChatRequest:
    """What a chat-completions request asks the engine (checked)."""

    question: str
    top_k: int
    mode: str
    history: list[Turn]
    stream: bool
    include_usage: bool
    model: str = MODEL_ID  # as asked: "docqa" or "docqa/<collection>"


def error_response(exc: DocQAError) -> JSONResponse:
    """``exc`` in OpenAI's error shape; the engine's own ``BadRequest`` is a 400."""
    status = 400 if isinstance(exc, BadRequest) and not isinstance(exc, RequestError) else exc.http_status
    return JSONResponse({"error": _error_body(exc, status)}, status_code=status, headers=error_headers(exc))


def _error_body(exc: DocQAError, status: int) -> dict[str, Any]:
    return {
        "message": str(exc),
        "type": "invalid_request_error" if status < 500 else "server_error",
        "param": getattr(exc, "param", None),
        "code": getattr(exc, "code", None),
    }


def model_not_found(model: object, names: list[str]) -> RequestError:
    """OpenAI's 404 for a model it does not serve."""
    models = ", ".join(f'"{model_id(n)}"' for n in names)
    message = f"The model `{model}` does not exist; this server's models are {models} (GET /v1/models)"
    return RequestError(message, "model", "model_not_found", 404)


def model_id(collection: str) -> str:
    """The model a collection answers as: "docqa" (the default collection), "docqa/NAME"."""
    return MODEL_ID if collection == DEFAULT_COLLECTION else f"{MODEL_ID}/{collection}"


def collection_of_model(model: object, names: list[str]) -> str:
    """The collection a model id names; the 404 ``model_not_found`` for any other."""
    if model == MODEL_ID:
        return DEFAULT_COLLECTION
    if isinstance(model, str) and model.startswith(MODEL_ID + "/"):
        name = model.removeprefix(MODEL_ID + "/")
        if name in names:
            return name
    raise model_not_found(model, names)


# -- the request ------------------------------------------------------------------
def read_chat(body: bytes) -> dict:
    """A chat-completions request body as a JSON object naming its model."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestError(
            f"request body is larger than {MAX_BODY_BYTES} bytes; send fewer earlier messages "
            "(only the last few are read) or start a new conversation"
        )
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"request body is not JSON ({exc}); send {EXAMPLE}") from exc
    if not isinstance(payload, dict):
        raise RequestError(f"request body must be a JSON object: {EXAMPLE}")
    if payload.get("model") is None:
        raise RequestError(f'"model" is required: use "{MODEL_ID}" (or "{MODEL_ID}/<collection>")', "model")
    return payload


def parse_chat(payload: dict, engine: Engine) -> ChatRequest:
    """The checked question, options and history of a chat-completions request
    (``read_chat``'s payload); raises ``RequestError`` (or the engine's
    ``BadRequest``) saying what to change."""
    question, history = _messages(payload.get("messages"))
    n = payload.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise RequestError(f"n must be 1, got {n!r}: DocQA gives one answer per question", "n")
    stream = payload.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise RequestError(f"stream must be true or false, got {stream!r}", "stream")
    options = payload.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    top_k, mode = _options(payload.get("docqa"))
    try:
        engine.check(question)
    except BadRequest as exc:
        raise RequestError(f"the last message is the question: {exc}", "messages") from None
    try:
        q, k, m = engine.check(question, top_k, mode)
    except BadRequest as exc:
        raise RequestError(f"docqa: {exc}", "docqa") from None
    return ChatRequest(q, k, m, history, bool(stream), include_usage, str(payload.get("model") or MODEL_ID))


def _messages(value: object) -> tuple[str, list[Turn]]:
    """``messages`` -> (the question, the history); system messages are dropped."""
    if not isinstance(value, list) or not value:
        raise RequestError(f"messages must be a non-empty list, the question last: {EXAMPLE}", "messages")
    if len(value) > MAX_HISTORY_ITEMS + 1:
        raise RequestError(
            f"messages has {len(value)} items; send at most {MAX_HISTORY_ITEMS + 1} (only the last few are read)", "messages"
        )
    said: list[tuple[int, str, str]] = []
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise RequestError(f'{where} must be an object {{"role": "user", "content": "…"}}', where)
        role = message.get("role")
        if role in ("tool", "function") or message.get("tool_calls") or message.get("function_call"):
            raise RequestError(
                f"{where} is a tool call or result: DocQA answers from its documents and calls no tools; "
                "send user and assistant messages only",
                where,
            )
        if role not in ROLES + IGNORED_ROLES:
            raise RequestError(f'{where}.role must be "user", "assistant" or "system", got {role!r}', f"{where}.role")
        text = _text(message.get("content"), f"{where}.content")
        if role in ROLES:
            said.append((i, role, text))
    if value[-1].get("role") != "user":
        raise RequestError(
            f"the last message must be the user's question, got a {value[-1].get('role')!r} message; "
            "earlier user and assistant messages are the conversation so far",
            "messages",
        )
    for i, _, text in said[:-1]:
        if len(text) > MAX_TURN_CHARS:
            raise RequestError(
                f"messages[{i}].content is {len(text)} characters long; an earlier message may have {MAX_TURN_CHARS}",
                f"messages[{i}].content",
            )
    return said[-1][2], parse_history([Turn(role, text) for _, role, text in said[:-1]])


def _text(content: object, where: str) -> str:
    """A message's text: a string, or a list of text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise RequestError(f'{where} must be a string or a list of {{"type": "text", "text": "…"}} parts', where)
    texts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise RequestError(
                f"{where}[{j}] is not a text part ({kind or type(part).__name__}); DocQA reads text only: "
                '{"type": "text", "text": "…"}',
                f"{where}[{j}]",
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _options(value: object) -> tuple[object, object]:
    """DocQA's own ``{"top_k", "mode"}`` (the engine checks the values)."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise RequestError('docqa must be an object: {"top_k": 5, "mode": "extractive"}', "docqa")
    unknown = sorted(str(key) for key in value if key not in OPTIONS)
    if unknown:
        raise RequestError(f"docqa has unknown field(s) {', '.join(unknown)}; its fields are {', '.join(OPTIONS)}", "docqa")
    return value.get("top_k"), value.get("mode")


# -- the response -----------------------------------------------------------------
def docqa_extra(answer: Answer) -> dict[str, Any]:
    """The ``docqa`` field: how the answer was reached (see ``DocQAExtra``)."""
    contract = answer.to_dict()
    return {key: contract[key] for key in EXTRA_FIELDS}


def usage(request: ChatRequest, answer: Answer) -> dict[str, int]:
    """Characters, not tokens: the messages read and the answer written."""
    read = len(request.question) + sum(len(turn.content) for turn in request.history)
    written = len(answer.answer)
    return {"prompt_tokens": read, "completion_tokens": written, "total_tokens": read + written}


def completion(request: ChatRequest, answer: Answer, completion_id: str, created: int) -> dict[str, Any]:
    """A ``chat.completion`` object, with the ``docqa`` field."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(request, answer),
        "docqa": docqa_extra(answer),
    }


def chunk(
    completion_id: str, created: int, delta: dict[str, str], finish: str | None = None, *, model: str = MODEL_ID, **extra: Any
) -> str:
    """One Server-Sent Event holding a ``chat.completion.chunk``."""
    choices = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}] if delta or finish else []
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices}
    return f"data: {json.dumps({**body, **extra}, ensure_ascii=False)}\n\n"


def _close(events: Iterator[StreamEvent]) -> None:
    if isinstance(events, Generator):
        events.close()


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` written in place (the schema is
    embedded in the OpenAPI document, where ``#/$defs/…`` would not resolve)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)


def openai_router(shelf: Shelf | Engine, queue: AnswerQueue | int) -> APIRouter:
    """``queue``: the server's bounded answer queue (or how many answers at once)."""
    shelf = as_shelf(shelf)
    queue = answer_queue(queue)
    router = APIRouter()
    started = int(time.time())

    def card(collection: str) -> dict:
        return {"id": model_id(collection), "object": "model", "created": started, "owned_by": "docqa"}

    @router.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        responses=RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _inline(ChatCompletionRequest.model_json_schema())}},
            }
        },
    )
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        """OpenAI's chat completions, answered from the documents: the last message
        is the question, earlier user/assistant messages the history; the answer's
        citations are in the extra field ``docqa``."""
        try:
            payload = read_chat(await request.body())
            engine = await engine_for(shelf, collection_of_model(payload["model"], shelf.names()))
            chat = parse_chat(payload, engine)
        except DocQAError as exc:
            return error_response(exc)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not chat.stream:
            try:
                answer = await queue.run(
                    lambda: engine.ask(chat.question, top_k=chat.top_k, mode=chat.mode, history=chat.history)
                )
            except DocQAError as exc:
                return error_response(exc)
            return JSONResponse(completion(chat, answer, completion_id, created), headers=NO_STORE)

        events = engine.stream(chat.question, chat.top_k, chat.mode, history=chat.history)
        try:  # the first event before the response starts: a problem is still an HTTP error
            first = await queue.run(lambda: next(events, None))  # admitted (or 503) like any answer
        except DocQAError as exc:
            _close(events)
            return error_response(exc)

        async def sse() -> AsyncIterator[str]:
            try:
                yield chunk(completion_id, created, {"role": "assistant"}, model=chat.model)
                event = first
                while event is not None and event.kind != "final":
                    event = await anyio.to_thread.run_sync(lambda: next(events, None), limiter=queue.limiter)
                if event is None or event.answer is None:  # pragma: no cover - the engine broke its contract
                    raise RuntimeError("the engine's stream ended without a final answer")
                answer = event.answer
                if answer.answer:
                    yield chunk(completion_id, created, {"content": answer.answer}, model=chat.model)
                yield chunk(completion_id, created, {}, "stop", model=chat.model, docqa=docqa_extra(answer))
                if chat.include_usage:
                    yield chunk(completion_id, created, {}, model=chat.model, usage=usage(chat, answer))
                yield "data: [DONE]\n\n"
            except DocQAError as exc:  # the status is sent already: OpenAI's in-stream error event
                yield f"data: {json.dumps({'error': _error_body(exc, exc.http_status)}, ensure_ascii=False)}\n\n"
            finally:
                _close(events)

        return StreamingResponse(sse(), media_type="text/event-stream", headers=STREAM_HEADERS)

    @router.get("/v1/models", response_model=ModelList)
    async def models() -> JSONResponse:
        """The models this server answers as: ``docqa`` (the default collection)
        and ``docqa/NAME`` for each named collection."""
        return JSONResponse({"object": "list", "data": [card(n) for n in shelf.names()]}, headers=NO_STORE)

    @router.get("/v1/models/{model:path}", response_model=ModelCard, responses={404: ERRORS[404]})
    async def model(model: str) -> JSONResponse:
        """``docqa`` or ``docqa/NAME``; any other model is a 404 (code ``model_not_found``)."""
        try:
            return JSONResponse(card(collection_of_model(model, shelf.names())), headers=NO_STORE)
        except RequestError as exc:
            return error_response(exc)

    return router
