"""``POST /api/feedback``: a user's 👍 / 👎 (and an optional comment) on an answer,
stored in the feedback database beside the index (docqa/feedback/).

The client sends back what it was shown (question, answer, citations, mode);
the server adds the time, the index generation it serves and, only when
``DOCQA_FEEDBACK_CLIENT_IP`` is on, the client's address.  The write runs in a
worker thread of its own, not in the question limiter, so a rating never waits
behind slow answers and a broken database never affects answering."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docqa.engine import Engine
from docqa.errors import BadRequest, DocQAError
from docqa.feedback import Feedback, FeedbackStore
from docqa.feedback.store import utc_now
from docqa.settings import DEFAULT_COLLECTION, Settings, check_collection_name
from docqa.web.api import MAX_BODY_BYTES, NO_STORE, engine_for, error_response, read_json, shape_problem
from docqa.web.schema import ErrorMessage
from docqa.web.shelf import Shelf, as_shelf

MAX_ANSWER_CHARS = 20_000
MAX_COMMENT_CHARS = 1000
MAX_CITATIONS = 20
MAX_MODE_CHARS = 40
# an answer of 20,000 Chinese characters is 60 KB of UTF-8 (120 KB as \u escapes), plus its citations
MAX_FEEDBACK_BYTES = 4 * MAX_BODY_BYTES
EXAMPLE = '{"rating": "down", "question": "…", "answer": "…", "citations": […], "comment": "…"}'


class FeedbackRequest(BaseModel):
    """A rating of one answer, with what the user was shown."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rating: Literal["up", "down"] = Field(description='"up" (👍) or "down" (👎)')
    question: str = Field(description="the question as the user asked it; at most the server's question limit")
    resolved_question: str | None = Field(
        None, description="the answer's resolved_question (the standalone question answered); default: question"
    )
    answer: str = Field(description=f"the answer's text, at most {MAX_ANSWER_CHARS} characters")
    citations: list[dict[str, Any]] | None = Field(
        None,
        max_length=MAX_CITATIONS,
        description=f"the answer's citation objects as received (n, doc, title, section, …), at most {MAX_CITATIONS}",
    )
    mode: str | None = Field(None, description="the answer's mode (extractive, llm)")
    comment: str | None = Field(
        None, description=f"what was wrong, in the user's words; at most {MAX_COMMENT_CHARS} characters"
    )
    collection: str | None = Field(None, description="the collection that answered (default: the default collection)")


FIELDS = tuple(FeedbackRequest.model_fields)


class FeedbackCreated(BaseModel):
    id: int = Field(description="the stored rating's id (`docqa feedback export` names it fb-<id>)")


def _problem(exc: ValidationError) -> str:
    """What to change in a request that does not fit ``FeedbackRequest``."""
    shape = shape_problem(exc, EXAMPLE, FIELDS)
    if shape:
        return shape
    problems = []
    for e in exc.errors():
        field = str(e["loc"][0])
        if field == "rating":
            problems.append(f'rating must be "up" or "down", got {e["input"]!r}')
        elif field == "citations":
            problems.append(f"citations must be a list of at most {MAX_CITATIONS} citation objects, as the answer gave them")
        else:
            problems.append(f"{field} must be a string")
    return "; ".join(dict.fromkeys(problems))


def _check_text(field: str, value: str | None, limit: int, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise BadRequest(f"{field} must not be empty: send the {field} the user was shown")
        return None
    if len(value) > limit:
        raise BadRequest(f"{field} has {len(value)} characters; at most {limit} are stored, shorten it")
    return value


def read_feedback(body: bytes) -> Any:
    """The request body as JSON (whatever its Content-Type), size-checked."""
    return read_json(body, MAX_FEEDBACK_BYTES, EXAMPLE, "; send a shorter answer or fewer citations")


def parse_feedback(body: bytes, max_question_chars: int) -> FeedbackRequest:
    """The checked request; raises ``BadRequest`` saying what to change."""
    return check_feedback(read_feedback(body), max_question_chars)


def check_feedback(payload: Any, max_question_chars: int) -> FeedbackRequest:
    """A JSON-read request checked (``parse_feedback`` without the reading)."""
    try:
        request = FeedbackRequest.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(_problem(exc)) from None
    _check_text("question", request.question, max_question_chars, required=True)
    _check_text("resolved_question", request.resolved_question, max_question_chars, required=False)
    _check_text("answer", request.answer, MAX_ANSWER_CHARS, required=True)
    _check_text("mode", request.mode, MAX_MODE_CHARS, required=False)
    _check_text("comment", request.comment, MAX_COMMENT_CHARS, required=False)
    return request


def _record(engine: Engine, r: FeedbackRequest, client_ip: str | None) -> Feedback:
    resolved = r.resolved_question if r.resolved_question and r.resolved_question.strip() else r.question
    return Feedback(
        rating=r.rating,
        question=r.question,
        resolved_question=resolved,
        answer=r.answer,
        created_at=utc_now(),
        generation=str(engine.info().get("generation") or ""),
        citations=tuple(r.citations or ()),
        mode=(r.mode or "").strip() or None,
        comment=(r.comment or "").strip() or None,
        client_ip=client_ip,
    )


def feedback_stores(settings: Settings, default: FeedbackStore | None = None) -> Callable[[str], FeedbackStore]:
    """Collection name -> its feedback store (``feedback.sqlite3`` in its index
    folder, created with the first rating); ``default`` for the default collection."""
    default = default or FeedbackStore.beside_index(settings.index_path)
    return lambda name: default if name == DEFAULT_COLLECTION else FeedbackStore.beside_index(settings.collection_index(name))


def feedback_recorder(shelf: Shelf | Engine, stores: FeedbackStore | Callable[[str], FeedbackStore]) -> Callable[[dict], int]:
    """A rating from the chat window (a ``POST /api/feedback`` body as a dict)
    -> its id; ``BadRequest`` / ``FeedbackStoreError`` as the endpoint gives them."""
    shelf = as_shelf(shelf)
    store_of = stores if callable(stores) else (lambda name: stores)

    def record(payload: dict) -> int:
        engine = shelf.get(payload.get("collection"))
        r = parse_feedback(json.dumps(payload, ensure_ascii=False).encode(), engine.max_question_chars)
        return store_of(check_collection_name(r.collection)).add(_record(engine, r, None))

    return record


def feedback_router(shelf: Shelf | Engine, settings: Settings, store: FeedbackStore | None = None) -> APIRouter:
    """The feedback endpoint; ``store``: the default collection's (default:
    ``feedback.sqlite3`` in the settings' index folder, created with the first
    rating); a named collection's ratings go beside its own index."""
    shelf = as_shelf(shelf)
    store_of = feedback_stores(settings, store)
    router = APIRouter()

    @router.post(
        "/api/feedback",
        status_code=201,
        response_model=FeedbackCreated,
        responses={
            422: {"model": ErrorMessage, "description": "A bad request: the message says what to change"},
            503: {"model": ErrorMessage, "description": "The feedback database cannot be written: the message says why"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": FeedbackRequest.model_json_schema()}},
            }
        },
    )
    async def feedback(request: Request) -> JSONResponse:
        """Rate an answer: ``{"rating": "up" | "down", "question", "answer", "resolved_question"?,
        "citations"?, "mode"?, "comment"?}`` -> 201 ``{"id": int}``; 4xx ``{"error": message}``."""
        try:
            payload = read_feedback(await request.body())
            name = payload.get("collection") if isinstance(payload, dict) else None
            engine = await engine_for(shelf, name if isinstance(name, str) else None)
            r = check_feedback(payload, engine.max_question_chars)
            ip = request.client.host if settings.feedback_client_ip and request.client else None
            record = _record(engine, r, ip)
            new_id = await anyio.to_thread.run_sync(store_of(check_collection_name(r.collection)).add, record)
        except DocQAError as exc:
            return error_response(exc)
        return JSONResponse({"id": new_id}, status_code=201, headers=NO_STORE)

    return router
