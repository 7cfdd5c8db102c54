"""The JSON API: ``POST /api/ask`` (the answer contract), ``GET /api/page``
(a cited PDF page as an image) and ``GET /healthz``.

The request is an ``AskRequest`` and the answer an ``AnswerContract``
(docqa/web/schema.py), which is how ``/api/openapi.json`` documents them.

Engine calls run in worker threads, at most ``concurrency`` at once, so one
slow question never blocks the server's event loop or the other requests."""

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
from docqa.web.schema import AnswerContract, AskRequest, ErrorMessage

MAX_BODY_BYTES = 64 * 1024
FIELDS = tuple(AskRequest.model_fields)
EXAMPLE = '{"question": "…", "top_k": 5}'
NO_STORE = {"Cache-Control": "no-store"}
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorMessage, "description": "A bad request: the message says what to change"},
    502: {"model": ErrorMessage, "description": "LLM mode: the configured LLM backend failed"},
}


def error_response(exc: DocQAError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.http_status, headers=NO_STORE)


def read_json(body: bytes, limit: int, example: str, too_large: str = "") -> Any:
    """A request body as JSON (whatever its Content-Type); ``BadRequest`` when it
    is over ``limit`` bytes (``too_large`` says what to send instead) or not JSON."""
    if len(body) > limit:
        raise BadRequest(f"request body is larger than {limit} bytes{too_large}")
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"request body is not JSON ({exc}); send {example}") from exc


def parse_ask(body: bytes, engine: Engine) -> tuple[str, int, str, list[Turn]]:
    """The checked question, top_k, mode and history of an ask request; raises
    ``BadRequest`` saying what to change.  The body is read as JSON whatever
    its Content-Type."""
    payload = read_json(body, MAX_BODY_BYTES, EXAMPLE)
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


def api_router(engine: Engine, concurrency: int) -> APIRouter:
    router = APIRouter()
    limiter = anyio.CapacityLimiter(concurrency)

    @router.post(
        "/api/ask",
        response_model=AnswerContract,
        responses=ERRORS,
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": AskRequest.model_json_schema()}}}
        },
    )
    async def ask(request: Request) -> JSONResponse:
        """Answer a question: ``{"question": str, "top_k": int?, "mode": str?, "history": [{"role", "content"}]?}``
        -> the answer contract; 4xx ``{"error": message}`` for a bad request."""
        try:
            q, k, m, history = parse_ask(await request.body(), engine)
            answer = await anyio.to_thread.run_sync(lambda: engine.ask(q, top_k=k, mode=m, history=history), limiter=limiter)
        except DocQAError as exc:
            return error_response(exc)
        return JSONResponse(answer.to_dict(), headers=NO_STORE)  # exactly the contract (the model documents it)

    @router.get(
        "/api/page",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorMessage, "description": "No such page"}},
    )
    async def page(doc: str = "", page: str = "", boxes: str = "") -> Response:
        """Page ``page`` of an indexed PDF (a citation's ``doc`` and ``page``) as a PNG,
        with ``boxes`` highlighted: "left,top,right,bottom;…" as fractions of the
        page (a citation's boxes on that page, without the page number)."""
        try:
            if not doc or not page.isdigit() or len(page) > 6:
                raise BadRequest("give a citation's doc and page: /api/page?doc=<doc>&page=<number>[&boxes=l,t,r,b;…]")
            rects = _boxes(boxes)
            png = await anyio.to_thread.run_sync(lambda: engine.page_image(doc, int(page), rects), limiter=limiter)
        except DocQAError as exc:
            return error_response(exc)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        """The served index: documents, chunks, model."""
        return JSONResponse({"status": "ok", **engine.info()}, headers=NO_STORE)

    return router
