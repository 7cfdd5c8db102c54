"""The JSON API: ``POST /api/ask`` (the answer contract), ``GET /api/page``
(a cited PDF page as an image) and ``GET /healthz``.

The request is an ``AskRequest`` and the answer an ``AnswerContract``
(docqa/web/schema.py), which is how ``/api/openapi.json`` documents them.

Engine calls run in worker threads, at most ``concurrency`` at once, so one
slow question never blocks the server's event loop or the other requests;
beyond that, at most ``queue_size`` wait and the rest get 503 at once
(``AnswerQueue``, docqa/web/limits.py)."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from docqa.conversation import Turn, parse_history
from docqa.engine import Engine
from docqa.errors import BadRequest, DocQAError
from docqa.settings import Settings
from docqa.web.limits import AnswerQueue
from docqa.web.schema import AnswerContract, AskRequest, ErrorMessage
from docqa.web.shelf import Shelf, as_shelf

MAX_BODY_BYTES = 64 * 1024
DEFAULT_QUEUE_SIZE = Settings.model_fields["queue_size"].default
FIELDS = tuple(AskRequest.model_fields)
EXAMPLE = '{"question": "…", "top_k": 5}'
NO_STORE = {"Cache-Control": "no-store"}
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorMessage, "description": "A bad request: the message says what to change"},
    429: {"model": ErrorMessage, "description": "Too many questions from this address: try again after Retry-After seconds"},
    502: {"model": ErrorMessage, "description": "LLM mode: the configured LLM backend failed"},
    503: {"model": ErrorMessage, "description": "The server is busy (its answer queue is full): try again after Retry-After"},
}


def error_headers(exc: DocQAError) -> dict[str, str]:
    """``Cache-Control: no-store``, and ``Retry-After`` for a busy server (503)."""
    retry = getattr(exc, "retry_after", None)
    return {**NO_STORE, "Retry-After": str(retry)} if retry else NO_STORE


def error_response(exc: DocQAError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.http_status, headers=error_headers(exc))


def read_json(body: bytes, limit: int, example: str, too_large: str = "") -> Any:
    """A request body as JSON (whatever its Content-Type); ``BadRequest`` when it
    is over ``limit`` bytes (``too_large`` says what to send instead) or not JSON."""
    if len(body) > limit:
        raise BadRequest(f"request body is larger than {limit} bytes{too_large}")
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"request body is not JSON ({exc}); send {example}") from exc


def collection_of(payload: Any) -> str | None:
    """The ``collection`` an ask request names (None: the default one); the
    shelf checks the name."""
    if isinstance(payload, dict) and payload.get("collection") is not None:
        name = payload["collection"]
        if not isinstance(name, str):
            raise BadRequest(f"collection must be a collection's name (a string), got {json.dumps(name)[:40]}")
        return name
    return None


def parse_ask(payload: Any, engine: Engine) -> tuple[str, int, str, list[Turn]]:
    """The checked question, top_k, mode and history of an ask request (its
    body read as JSON); raises ``BadRequest`` saying what to change."""
    history: list[Turn] = []
    if isinstance(payload, dict) and "history" in payload:
        payload = dict(payload)
        history = parse_history(payload.pop("history"))  # its own messages say which turn is wrong
    try:
        request = AskRequest.model_validate(payload)
    except ValidationError as exc:
        problem = shape_problem(exc)
        if problem is None:  # a value of the wrong type: the engine says what it takes
            engine.check(payload["question"], payload.get("top_k"), payload.get("mode"))
            problem = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise BadRequest(problem) from None
    return (*engine.check(request.question, request.top_k, request.mode), history)


async def engine_for(shelf: Shelf, name: str | None) -> Engine:
    """Collection ``name``'s engine; opened in a worker thread the first time
    (loading an index must not hold up the event loop)."""
    return await anyio.to_thread.run_sync(shelf.get, name)


def shape_problem(exc: ValidationError, example: str = EXAMPLE, fields: tuple[str, ...] = FIELDS) -> str | None:
    """What is wrong with a request's shape (not an object, unknown or
    missing fields); None when only values are wrong."""
    errors = exc.errors()
    if any(e["type"] == "model_type" for e in errors):
        return f"request body must be a JSON object: {example}"
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(fields)}"
    missing = [f'"{e["loc"][0]}" is required' for e in errors if e["type"] == "missing"]
    return "; ".join(missing) or None


def _boxes(text: str) -> list[tuple[float, float, float, float]]:
    """``"l,t,r,b;l,t,r,b"`` -> rectangles (the engine checks their range)."""
    out = []
    for part in filter(None, text.split(";")[:64]):
        try:
            left, top, right, bottom = (float(v) for v in part.split(","))
        except ValueError:
            raise BadRequest(f"boxes: {part[:40]!r} is not four numbers left,top,right,bottom") from None
        out.append((left, top, right, bottom))
    return out


def answer_queue(queue: AnswerQueue | int) -> AnswerQueue:
    """``queue``, or a queue of ``queue`` answers at once with no waiting room beyond the default."""
    return queue if isinstance(queue, AnswerQueue) else AnswerQueue(queue, DEFAULT_QUEUE_SIZE)


def api_router(shelf: Shelf | Engine, queue: AnswerQueue | int) -> APIRouter:
    """``queue``: the server's bounded answer queue (or how many answers at once)."""
    shelf = as_shelf(shelf)
    queue = answer_queue(queue)
    router = APIRouter()

    @router.post(
        "/api/ask",
        response_model=AnswerContract,
        responses=ERRORS,
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": AskRequest.model_json_schema()}}}
        },
    )
    async def ask(request: Request) -> JSONResponse:
        """Answer a question: ``{"question": str, "top_k": int?, "mode": str?, "history": [{"role", "content"}]?,
        "collection": str?}`` -> the answer contract; 4xx ``{"error": message}`` for a bad request."""
        try:
            payload = read_json(await request.body(), MAX_BODY_BYTES, EXAMPLE)
            engine = await engine_for(shelf, collection_of(payload))
            q, k, m, history = parse_ask(payload, engine)
            answer = await queue.run(lambda: engine.ask(q, top_k=k, mode=m, history=history))
        except DocQAError as exc:
            return error_response(exc)
        return JSONResponse(answer.to_dict(), headers=NO_STORE)  # exactly the contract (the model documents it)

    @router.get(
        "/api/page",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorMessage, "description": "No such page"}},
    )
    async def page(doc: str = "", page: str = "", boxes: str = "", collection: str = "") -> Response:
        """Page ``page`` of an indexed PDF (a citation's ``doc`` and ``page``) as a PNG,
        with ``boxes`` highlighted: "left,top,right,bottom;…" as fractions of the
        page (a citation's boxes on that page, without the page number); ``collection``:
        the collection that answered (default: the default one)."""
        try:
            engine = await engine_for(shelf, collection or None)
            if not doc or not page.isdigit() or len(page) > 6:
                raise BadRequest("give a citation's doc and page: /api/page?doc=<doc>&page=<number>[&boxes=l,t,r,b;…]")
            rects = _boxes(boxes)
            png = await queue.run(lambda: engine.page_image(doc, int(page), rects))
        except DocQAError as exc:
            return error_response(exc)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})

    @router.get("/healthz")
    async def healthz(collection: str = "") -> JSONResponse:
        """The served index (``collection``'s, default: the default one):
        documents, chunks, model; and the names of all collections."""
        try:
            engine = await engine_for(shelf, collection or None)
        except DocQAError as exc:
            return error_response(exc)
        return JSONResponse({"status": "ok", **engine.info(), "collections": shelf.names()}, headers=NO_STORE)

    return router
