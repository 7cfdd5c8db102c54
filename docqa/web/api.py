"""The JSON API: ``POST /api/ask`` (the answer contract) and ``GET /healthz``.

Engine calls run in worker threads, at most ``concurrency`` at once, so one
slow question never blocks the server's event loop or the other requests."""
from __future__ import annotations

import json

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from docqa.engine import Engine
from docqa.errors import BadRequest, DocQAError

MAX_BODY_BYTES = 64 * 1024
FIELDS = ("question", "top_k", "mode")
NO_STORE = {"Cache-Control": "no-store"}


def error_response(exc: DocQAError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.http_status, headers=NO_STORE)


def parse_ask(body: bytes) -> dict:
    """The fields of an ask request; raises ``BadRequest`` saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f'request body is not JSON ({exc}); send {{"question": "…", "top_k": 5}}') from exc
    if not isinstance(payload, dict):
        raise BadRequest('request body must be a JSON object: {"question": "…", "top_k": 5}')
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}")
    if "question" not in payload:
        raise BadRequest('"question" is required')
    return payload


def api_router(engine: Engine, concurrency: int) -> APIRouter:
    router = APIRouter()
    limiter = anyio.CapacityLimiter(concurrency)

    @router.post("/api/ask")
    async def ask(request: Request) -> JSONResponse:
        """Answer a question: ``{"question": str, "top_k": int?, "mode": str?}``
        -> the answer contract; 4xx ``{"error": message}`` for a bad request."""
        try:
            payload = parse_ask(await request.body())
            q, k, m = engine.check(payload["question"], payload.get("top_k"), payload.get("mode"))
            answer = await anyio.to_thread.run_sync(lambda: engine.ask(q, top_k=k, mode=m), limiter=limiter)
        except DocQAError as exc:
            return error_response(exc)
        return JSONResponse(answer.to_dict(), headers=NO_STORE)

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        """The served index: documents, chunks, model."""
        return JSONResponse({"status": "ok", **engine.info()}, headers=NO_STORE)

    return router
