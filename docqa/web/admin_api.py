"""The admin page (``/admin``) and API (``/api/admin/…``), behind
``DOCQA_ADMIN_TOKEN``: with no token configured none of it exists (404); a
request without the right ``Authorization: Bearer <token>`` gets 401.

- ``GET  /api/admin/collections``: the collections, with their document counts
- ``GET  /api/admin/documents?collection=``: a collection's documents
- ``POST /api/admin/documents?collection=&name=report.pdf``: upload (the file
  is the request body); 202 and the job ingesting it
- ``DELETE /api/admin/documents?collection=&doc=<id>``: remove a document (job)
- ``POST /api/admin/documents/reingest?collection=&doc=<id>``: read it again (job)
- ``GET  /api/admin/jobs[/<id>]``: jobs, their progress and result
- ``GET  /api/admin/audit``: the audit log, newest first"""

from __future__ import annotations

import hmac
import tempfile
from typing import BinaryIO, cast

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from docqa.admin import AuditEntry, TooLarge
from docqa.admin.uploads import describe_size
from docqa.errors import BadRequest, DocQAError, TooManyQuestions, Unauthorized
from docqa.web.admin import Admin, job_dict
from docqa.web.api import NO_STORE, error_response
from docqa.web.limits import RateLimit
from docqa.web.security import WIDGET_CSP
from docqa.web.shelf import Shelf
from docqa.web.theme import STATIC_DIR

SPOOL_BYTES = 8 * 1024 * 1024  # an upload is kept in memory up to this size, then in a temporary file
WRONG_TOKENS = "20/minute"  # requests with a wrong token per address before they are refused unread (429)


def admin_router(admin: Admin, token: str, shelf: Shelf) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    expected = token.encode()
    guesses = RateLimit(WRONG_TOKENS)

    def actor(request: Request) -> str:
        """Who is asking ("admin@<address>"); ``Unauthorized`` without the token."""
        address = request.client.host if request.client else "unknown"
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), expected):
            wait = guesses.hit(address)
            if wait is not None:  # token guessing: refused without looking, and not logged again
                raise TooManyQuestions(f"too many requests with a wrong admin token; try again in {wait} s", wait)
            admin.audit.record(AuditEntry("denied", f"?@{address}", target=request.url.path, outcome="failed"))
            raise Unauthorized("send the admin token (DOCQA_ADMIN_TOKEN) as `Authorization: Bearer <token>`")
        return f"admin@{address}"

    def failed(exc: DocQAError) -> JSONResponse:
        response = error_response(exc)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @router.get("/admin")
    def page() -> Response:
        return FileResponse(
            STATIC_DIR / "admin.html", headers={"Cache-Control": "no-store", "Content-Security-Policy": WIDGET_CSP}
        )

    @router.get("/api/admin/collections")
    async def collections(request: Request) -> JSONResponse:
        try:
            actor(request)
            names = shelf.names()
            counts = [{"name": n, "documents": len(await anyio.to_thread.run_sync(admin.documents, n))} for n in names]
        except DocQAError as exc:
            return failed(exc)
        return JSONResponse({"collections": counts}, headers=NO_STORE)

    @router.get("/api/admin/documents")
    async def documents(request: Request, collection: str = "") -> JSONResponse:
        try:
            actor(request)
            docs = await anyio.to_thread.run_sync(admin.documents, collection or "default")
        except DocQAError as exc:
            return failed(exc)
        return JSONResponse({"collection": collection or "default", "documents": docs}, headers=NO_STORE)

    @router.post("/api/admin/documents", status_code=202)
    async def upload(request: Request, collection: str = "", name: str = "") -> JSONResponse:
        """The request body is the file; ``name`` its file name."""
        try:
            who = actor(request)
            if not name:
                raise BadRequest("give the file's name: POST /api/admin/documents?name=report.pdf with the file as the body")
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > admin.max_bytes:
                raise TooLarge(
                    f"{name[:120]} is {describe_size(int(declared))}, larger than the "
                    f"{admin.settings.max_upload_mb} MB upload limit (DOCQA_MAX_UPLOAD_MB); split it or raise the limit"
                )
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
                size = 0
                async for block in request.stream():
                    size += len(block)
                    if size > admin.max_bytes:
                        raise TooLarge(
                            f"{name[:120]} is larger than the {admin.settings.max_upload_mb} MB upload limit "
                            "(DOCQA_MAX_UPLOAD_MB); split it or raise the limit"
                        )
                    body.write(block)
                body.seek(0)
                stored = await anyio.to_thread.run_sync(admin.stage, cast(BinaryIO, body), name, collection or "default")
            job = admin.submit("upload", collection or "default", str(stored.path), who)
        except DocQAError as exc:
            _audit_rejected(admin, request, "upload", collection, name, exc)
            return failed(exc)
        return JSONResponse({"job": job_dict(job)}, status_code=202, headers=NO_STORE)

    @router.delete("/api/admin/documents", status_code=202)
    async def delete(request: Request, collection: str = "", doc: str = "") -> JSONResponse:
        return await _document_job(request, "delete", collection, doc)

    @router.post("/api/admin/documents/reingest", status_code=202)
    async def reingest(request: Request, collection: str = "", doc: str = "") -> JSONResponse:
        return await _document_job(request, "reingest", collection, doc)

    async def _document_job(request: Request, kind: str, collection: str, doc: str) -> JSONResponse:
        try:
            who = actor(request)
            if not doc:
                raise BadRequest(f"give the document: ?doc=<id> as GET /api/admin/documents lists it ({kind})")
            await anyio.to_thread.run_sync(admin.check_document, collection or "default", doc)
            job = admin.submit(kind, collection or "default", doc, who)
        except DocQAError as exc:
            return failed(exc)
        return JSONResponse({"job": job_dict(job)}, status_code=202, headers=NO_STORE)

    @router.get("/api/admin/jobs")
    async def jobs(request: Request) -> JSONResponse:
        try:
            actor(request)
        except DocQAError as exc:
            return failed(exc)
        return JSONResponse({"jobs": [job_dict(j) for j in admin.runner.jobs()]}, headers=NO_STORE)

    @router.get("/api/admin/jobs/{job_id}")
    async def job(request: Request, job_id: str) -> JSONResponse:
        try:
            actor(request)
            found = admin.runner.get(job_id)
        except DocQAError as exc:
            return failed(exc)
        return JSONResponse({"job": job_dict(found)}, headers=NO_STORE)

    @router.get("/api/admin/audit")
    async def audit(request: Request, limit: int = 100) -> JSONResponse:
        try:
            actor(request)
            entries = await anyio.to_thread.run_sync(admin.audit.recent, max(1, min(limit, 1000)))
        except DocQAError as exc:
            return failed(exc)
        return JSONResponse({"entries": [e.__dict__ for e in entries]}, headers=NO_STORE)

    return router


def _audit_rejected(admin: Admin, request: Request, kind: str, collection: str, name: str, exc: DocQAError) -> None:
    """A rejected upload is an admin action too (a wrong token is recorded by ``actor``)."""
    if isinstance(exc, Unauthorized):
        return
    address = request.client.host if request.client else "unknown"
    try:
        admin.audit.record(
            AuditEntry(kind, f"admin@{address}", collection or "default", name[:200], "rejected", str(exc)[:2000])
        )
    except DocQAError:
        pass  # the answer to the request says what was wrong; a broken audit log shows up on the next action
