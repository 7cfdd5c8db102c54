"""The admin API over real HTTP (a server in a thread, the fake embedder):

- without DOCQA_ADMIN_TOKEN the admin routes do not exist; a missing or wrong
  token is 401 (and an audit entry), the right one opens them;
- an upload becomes a job whose document is then answered from its collection
  (a new collection is opened on first use, the default one hot-reloads);
- hostile uploads (a zip bomb, too large, a PDF named .txt, a path in the name,
  a corrupt PDF) are refused with one message and change nothing; a 200 MB
  body is never held in memory;
- documents are deleted and re-ingested by job; the audit log says who did
  what, in order.

The server follows new index generations the way `docqa serve` does
(``prepare_shelf``); waiting for a job or a reload polls with a deadline."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import httpx
import pytest

from docqa.settings import Settings
from tests.fakes import FakeEmbedder, use_embedder
from tests.test_web_support import FACT_Q, running_server, write_corpus

T = TypeVar("T")

TOKEN = "test-admin-token-5f1c9e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ACTOR = "admin@127.0.0.1"
MB = 1024 * 1024
DENIED = {"error": "send the admin token (DOCQA_ADMIN_TOKEN) as `Authorization: Bearer <token>`"}

POLICY = "# 人才政策\n\n## 住房\n\n青年人才每月可领取住房补贴2500元。\n"
POLICY_Q = "青年人才每月可领取多少住房补贴？"
NEWS = "# 园区新闻\n\n## 无人机大赛\n\n星河科技园第三届无人机大赛的奖金总额为88万元，共有36支队伍参赛。\n"
NEWS_Q = "无人机大赛的奖金总额是多少？"
NEWS_FACT = "88万元"
CORPUS_DOCS = {"park.md", "hostile.txt"}


# --- the server and the calls --------------------------------------------------------


@contextlib.contextmanager
def admin_server(settings: Settings) -> Iterator[str]:
    """A server over the tiny corpus (in ``<home>/../corpus``) with every
    collection of ``settings.home``, each following its index generations."""
    from docqa.factory import make_ingestor
    from docqa.web.commands import prepare_shelf

    embedder = FakeEmbedder()
    make_ingestor(settings, embedder).ingest([write_corpus(settings.home.parent / "corpus")])
    with pytest.MonkeyPatch.context() as mp:
        use_embedder(mp, embedder)
        shelf = prepare_shelf(settings, echo=lambda *args, **kwargs: None)
    try:
        with running_server(shelf, settings) as url:
            yield url
    finally:
        shelf.close()  # the reload watchers


def wait_until(check: Callable[[], T], what: str, timeout: float = 15.0) -> T:
    """``check()`` once it is truthy; fails after ``timeout`` seconds (a guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what} (last: {value!r})")
        time.sleep(0.05)


def upload(url: str, name: str, body, collection: str | None = None, headers: dict | None = None) -> httpx.Response:
    params = {"name": name} | ({"collection": collection} if collection else {})
    return httpx.post(
        f"{url}/api/admin/documents", params=params, content=body, headers=AUTH if headers is None else headers, timeout=30
    )


def finished(url: str, response: httpx.Response) -> dict:
    """The job a 202 response started, once it is done or failed."""
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["id"]

    def state() -> dict | None:
        job = httpx.get(f"{url}/api/admin/jobs/{job_id}", headers=AUTH).json()["job"]
        return job if job["state"] in ("done", "failed") else None

    return wait_until(state, f"job {job_id}")


def documents(url: str, collection: str = "default") -> list[dict]:
    r = httpx.get(f"{url}/api/admin/documents", params={"collection": collection}, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()["documents"]


def audit(url: str) -> list[dict]:
    """The audit log, newest first."""
    return httpx.get(f"{url}/api/admin/audit", headers=AUTH).json()["entries"]


def ask(url: str, question: str, collection: str | None = None) -> dict:
    body = {"question": question} | ({"collection": collection} if collection else {})
    r = httpx.post(f"{url}/api/ask", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def answers_with(url: str, question: str, fact: str, collection: str | None = None) -> dict:
    """The answer once it holds ``fact`` (a new collection opens on first use, the default one reloads in ~1 s)."""

    def answered() -> dict | None:
        a = ask(url, question, collection)
        return a if fact in a["answer"] and not a["refused"] else None

    return wait_until(answered, f"{fact!r} in the answer to {question!r} from {collection or 'default'}")


def leftovers(index: Path) -> list[Path]:
    """Whatever is in the index's uploads and staging folders."""
    return sorted(p for d in (index / "uploads", index / ".staging") if d.exists() for p in d.rglob("*"))


def names(docs: list[dict]) -> set[str]:
    return {d["name"] for d in docs}


# --- the token --------------------------------------------------------------------------


def test_without_an_admin_token_the_admin_routes_do_not_exist():
    settings = Settings()
    with admin_server(settings) as url:
        for method, path in [
            ("GET", "/admin"),
            ("GET", "/api/admin/documents"),
            ("POST", "/api/admin/documents?name=news.md"),
            ("GET", "/api/admin/jobs"),
            ("GET", "/api/admin/audit"),
            ("DELETE", "/api/admin/documents?doc=x"),
        ]:
            body = NEWS.encode() if method == "POST" else None
            for headers in ({}, AUTH):  # a token the server does not have opens nothing either
                r = httpx.request(method, url + path, content=body, headers=headers)
                assert r.status_code == 404, (method, path, r.text)
        assert ask(url, FACT_Q)["refused"] is False  # the rest of the server is there
    assert not (settings.index_path / "audit.sqlite3").exists()
    assert not (settings.index_path / ".staging").exists() and not (settings.index_path / "uploads").exists()


def test_a_missing_or_wrong_token_is_401_and_audited_and_the_right_one_opens_the_api():
    settings = Settings(admin_token=TOKEN)
    wrong = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}]
    wrong.append({"Authorization": f"Basic {TOKEN}"})
    with admin_server(settings) as url:
        for headers in wrong:
            r = httpx.get(f"{url}/api/admin/documents", headers=headers)
            assert (r.status_code, r.json()) == (401, DENIED)
            assert r.headers["WWW-Authenticate"] == "Bearer"
            r = upload(url, "news.md", NEWS.encode(), headers=headers)
            assert (r.status_code, r.json()) == (401, DENIED)
            assert r.headers["WWW-Authenticate"] == "Bearer"
        assert httpx.get(f"{url}/api/admin/audit").status_code == 401

        r = httpx.get(f"{url}/api/admin/documents", headers=AUTH)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        assert names(r.json()["documents"]) == CORPUS_DOCS
        assert not any(d["uploaded"] for d in r.json()["documents"])
        lower = httpx.get(f"{url}/api/admin/jobs", headers={"Authorization": f"bearer {TOKEN}"})
        assert (lower.status_code, lower.json()) == (200, {"jobs": []})
        page = httpx.get(f"{url}/admin")  # the page asks for the token itself
        assert page.status_code == 200 and 'id="adm-token"' in page.text and TOKEN not in page.text

        entries = audit(url)
        denied = [e for e in entries if e["action"] == "denied"]
        assert len(denied) == 2 * len(wrong) + 1
        assert {(e["actor"], e["outcome"]) for e in denied} == {("?@127.0.0.1", "failed")}
        assert {e["target"] for e in denied} == {"/api/admin/documents", "/api/admin/audit"}
        assert [e for e in entries if e["action"] != "denied"] == []  # a refused upload is not an upload
    assert leftovers(settings.index_path) == []


# --- uploading ----------------------------------------------------------------------------


def test_an_upload_into_a_new_collection_is_answered_from_that_collection_only():
    settings = Settings(admin_token=TOKEN)
    with admin_server(settings) as url:
        r = upload(url, "policy.md", POLICY.encode(), collection="policies")
        assert r.status_code == 202 and r.headers["Cache-Control"] == "no-store"
        queued = r.json()["job"]
        assert (queued["kind"], queued["collection"], queued["target"]) == ("upload", "policies", "policy.md")
        assert queued["state"] in ("queued", "running", "done")
        job = finished(url, r)
        assert job["state"] == "done" and job["error"] == ""
        assert job["result"].startswith("documents: 1 added, 0 updated")

        answer = answers_with(url, POLICY_Q, "2500元", collection="policies")
        assert answer["citations"][0]["title"] == "人才政策"
        default = ask(url, POLICY_Q)
        assert default["refused"] is True and "2500" not in default["answer"]
        assert ask(url, FACT_Q)["refused"] is False  # the default collection is as it was

        assert httpx.get(f"{url}/healthz").json()["collections"] == ["default", "policies"]
        collections = httpx.get(f"{url}/api/admin/collections", headers=AUTH).json()["collections"]
        assert collections == [{"name": "default", "documents": 2}, {"name": "policies", "documents": 1}]
        [doc] = documents(url, "policies")
        stored = settings.collection_index("policies") / "uploads" / "policy.md"
        assert (doc["name"], doc["title"], doc["uploaded"]) == ("policy.md", "人才政策", True)
        assert doc["id"] == str(stored.resolve()) and stored.read_text(encoding="utf-8") == POLICY
        assert names(documents(url)) == CORPUS_DOCS
        assert list((settings.collection_index("policies") / ".staging").iterdir()) == []

        entries = [(e["action"], e["actor"], e["collection"], e["target"], e["outcome"]) for e in audit(url)]
        assert entries == [
            ("upload", ACTOR, "policies", "policy.md", "ok"),
            ("upload", ACTOR, "policies", "policy.md", "queued"),
        ]
        [ok, queued_entry] = audit(url)
        assert queued_entry["detail"] == f"job {job['id']}"
        assert ok["detail"] == f"job {job['id']}: {job['result']}"


def test_a_path_in_the_file_name_is_dropped_and_nothing_is_written_outside_the_index(tmp_path):
    settings = Settings(admin_token=TOKEN)
    uploads = settings.index_path / "uploads"
    cases = {"../../evil.md": "evil.md", "..\\..\\evil-win.md": "evil-win.md", f"{tmp_path}/outside/abs.md": "abs.md"}
    with admin_server(settings) as url:
        for raw, stored in cases.items():
            r = upload(url, raw, f"# 标题\n\n{stored} 的内容在这里。\n".encode())
            assert r.json()["job"]["target"] == stored
            assert finished(url, r)["state"] == "done"
        docs = {d["name"]: d for d in documents(url)}
    assert set(docs) == CORPUS_DOCS | set(cases.values())
    for stored in cases.values():
        assert docs[stored]["id"] == str((uploads / stored).resolve()) and docs[stored]["uploaded"]
    written = sorted(p for p in tmp_path.rglob("*.md") if p.name in cases.values())
    assert written == sorted(uploads / stored for stored in cases.values())
    assert not (tmp_path / "outside").exists()


# --- hostile uploads: refused with one message, nothing changed -----------------------------


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A server with a 1 MB upload limit, shared by the refusals (which must change nothing)."""
    home = tmp_path_factory.mktemp("strict") / "home"
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("DOCQA_")]:
            mp.delenv(key)
        settings = Settings(home=home, admin_token=TOKEN, max_upload_mb=1, rate_limit="")
    with admin_server(settings) as url:
        yield url, settings, documents(url)


@pytest.fixture(scope="module")
def docx_bomb(tmp_path_factory) -> Path:
    """A .docx with word/document.xml and a 200 MB member of zeros, written a
    block at a time (about 200 KB on disk)."""
    path = tmp_path_factory.mktemp("bomb") / "report.docx"
    block = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("word/media/zeros.bin", "w") as member:
            for _ in range(200):
                member.write(block)
    assert path.stat().st_size < MB
    return path


def assert_refused(strict, response: httpx.Response, status: int, message: str, name: str) -> None:
    """One clear message, an audit entry saying so, and nothing changed or left behind."""
    url, settings, before = strict
    assert response.status_code == status, response.text
    assert response.json() == {"error": message}
    assert documents(url) == before
    assert leftovers(settings.index_path) == []
    newest = audit(url)[0]
    assert (newest["action"], newest["actor"], newest["outcome"], newest["detail"]) == ("upload", ACTOR, "rejected", message)
    assert newest["target"] == name


def test_a_docx_zip_bomb_is_refused(strict, docx_bomb):
    url = strict[0]
    r = upload(url, "report.docx", docx_bomb.read_bytes())
    message = r.json()["error"]
    assert message.startswith("report.docx: its part word/media/zeros.bin unpacks from ")
    assert message.endswith(
        " to 200 MB (more than 100 to 1); it is refused as a possible zip bomb — "
        "open it in Word, save it again, or convert it to PDF"
    )
    assert_refused(strict, r, 400, message, "report.docx")


TOO_LARGE = "big.md is larger than the 1 MB upload limit (DOCQA_MAX_UPLOAD_MB); split it or raise the limit"


def test_a_body_over_the_limit_with_content_length_is_413(strict):
    r = upload(strict[0], "big.md", b"a" * (3 * MB))
    message = "big.md is 3 MB, larger than the 1 MB upload limit (DOCQA_MAX_UPLOAD_MB); split it or raise the limit"
    assert_refused(strict, r, 413, message, "big.md")


def test_a_chunked_body_over_the_limit_is_413(strict):
    def body() -> Iterator[bytes]:  # generated as it is sent: no Content-Length
        block = b"a" * (64 * 1024)
        for _ in range(48):  # 3 MB
            yield block

    r = upload(strict[0], "big.md", body())
    assert "content-length" not in r.request.headers and r.request.headers["transfer-encoding"] == "chunked"
    assert_refused(strict, r, 413, TOO_LARGE, "big.md")


def _raw_response(url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send ``head`` (and ``body``) on a socket of our own and read the response
    without finishing the request: what the server says before the rest arrives."""
    parts = urlparse(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(head + body)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def test_the_limit_is_enforced_before_the_whole_body_has_arrived(strict):
    url = strict[0]
    host = f"Host: {urlparse(url).netloc}\r\nAuthorization: Bearer {TOKEN}\r\n".encode()
    # a declared size over the limit: refused before a byte of the body is sent
    head = b"POST /api/admin/documents?name=big.md HTTP/1.1\r\n" + host + f"Content-Length: {3 * MB}\r\n\r\n".encode()
    assert _raw_response(url, head).startswith(b"HTTP/1.1 413 ")
    # chunked: refused once a little more than the limit has arrived, the request still open
    head = b"POST /api/admin/documents?name=big.md HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n" % (64 * 1024) + b"a" * (64 * 1024) + b"\r\n"
    assert _raw_response(url, head, chunk * 17).startswith(b"HTTP/1.1 413 ")  # 1.06 MB, no last chunk
    url, settings, before = strict
    assert documents(url) == before and leftovers(settings.index_path) == []


@pytest.mark.parametrize(
    ("name", "body", "status", "message"),
    [
        (
            "notes.txt",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            400,
            "notes.txt is a PDF by its content but named .txt; rename it to notes.pdf and upload it again",
        ),
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00",
            400,
            "setup.exe: DocQA does not read .exe files; upload one of .docx, .htm, .html, .markdown, .md, .pdf, .text, .txt",
        ),
        (
            "photo.md",
            b"\x89PNG\r\n\x1a\n" + bytes(64),
            400,
            "photo.md is an image; DocQA reads text documents — put the image in a PDF; "
            "DocQA reads txt, md, html, pdf and docx",
        ),
        (
            "empty.md",
            b"",
            400,
            "empty.md is empty (0 bytes); choose the file again — the upload may have been interrupted",
        ),
        (
            "../..",
            b"# x\n",
            422,
            "file name '../..' has no usable name in it; give a plain file name such as report.pdf",
        ),
    ],
    ids=["pdf-named-txt", "exe", "image-named-md", "empty", "no-name"],
)
def test_hostile_uploads_are_refused_with_one_message(strict, name, body, status, message):
    assert_refused(strict, upload(strict[0], name, body), status, message, name)


def test_an_upload_without_a_name_or_with_a_bad_collection_is_refused(strict):
    url, settings, before = strict
    r = httpx.post(f"{url}/api/admin/documents", content=NEWS.encode(), headers=AUTH)
    assert (r.status_code, r.json()["error"]) == (
        422,
        "give the file's name: POST /api/admin/documents?name=report.pdf with the file as the body",
    )
    for bad in ("../policies", "Policies"):
        r = upload(url, "news.md", NEWS.encode(), collection=bad)
        assert r.status_code == 422 and "a collection name is 1-40 lowercase letters" in r.json()["error"]
    assert documents(url) == before and leftovers(settings.index_path) == []
    assert not (settings.home / "policies").exists() and not (settings.home / "collections").exists()


def test_a_200_mb_upload_is_never_held_in_memory():
    """A lazily generated 200 MB body against the default 50 MB limit: refused,
    and neither this client nor the server (same process) held it in memory."""
    settings = Settings(admin_token=TOKEN)
    sent = []

    def body() -> Iterator[bytes]:
        block = bytes(256 * 1024)
        for _ in range(800):
            sent.append(len(block))
            yield block

    with admin_server(settings) as url:
        before = documents(url)
        tracemalloc.start()
        try:
            r = upload(url, "huge.md", body())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert r.status_code == 413
        assert r.json()["error"] == (
            "huge.md is larger than the 50 MB upload limit (DOCQA_MAX_UPLOAD_MB); split it or raise the limit"
        )
        assert peak < 32 * MB, f"{peak / MB:.0f} MB allocated while uploading"
        assert sum(sent) > 50 * MB  # the body really went: the server read it up to its limit
        assert documents(url) == before
    assert leftovers(settings.index_path) == []


def test_a_corrupt_pdf_fails_its_job_and_changes_nothing():
    settings = Settings(admin_token=TOKEN)
    with admin_server(settings) as url:
        before = documents(url)
        health = httpx.get(f"{url}/healthz").json()
        job = finished(url, upload(url, "broken.pdf", b"%PDF-1.4\n" + b"\x00junk\xff" * 500))
        assert job["state"] == "failed" and job["result"] == ""
        assert "broken.pdf: cannot read this PDF" in job["error"]
        assert job["error"].endswith("check the file is a complete, valid PDF")
        assert documents(url) == before
        assert leftovers(settings.index_path) == []
        after = httpx.get(f"{url}/healthz").json()
        assert (after["documents"], after["chunks"]) == (health["documents"], health["chunks"])
        newest = audit(url)[0]
        assert (newest["action"], newest["actor"], newest["target"], newest["outcome"]) == (
            "upload",
            ACTOR,
            "broken.pdf",
            "failed",
        )
        assert newest["detail"] == f"job {job['id']}: {job['error']}"


def test_a_failed_update_of_an_uploaded_document_keeps_the_old_one():
    settings = Settings(admin_token=TOKEN)
    stored = settings.index_path / "uploads" / "news.md"
    with admin_server(settings) as url:
        assert finished(url, upload(url, "news.md", NEWS.encode()))["state"] == "done"
        before = documents(url)
        job = finished(url, upload(url, "news.md", b"  \n\n \n"))  # no text: the ingest fails
        assert job["state"] == "failed" and job["error"].endswith("news.md: no text found; nothing to index")
        assert documents(url) == before
        assert stored.read_text(encoding="utf-8") == NEWS
        assert [p.name for p in leftovers(settings.index_path)] == ["news.md"]
        answers_with(url, NEWS_Q, NEWS_FACT)


def test_a_refused_upload_into_a_new_collection_creates_no_collection():
    settings = Settings(admin_token=TOKEN)
    with admin_server(settings) as url:
        r = upload(url, "notes.txt", b"%PDF-1.4\n", collection="drafts")  # refused after its folder was made
        assert r.status_code == 400 and "rename it to notes.pdf" in r.json()["error"]
        assert httpx.get(f"{url}/healthz").json()["collections"] == ["default"]
        collections = httpx.get(f"{url}/api/admin/collections", headers=AUTH).json()["collections"]
        assert [c["name"] for c in collections] == ["default"]
    assert not settings.collection_index("drafts").exists()


def test_a_failed_first_upload_into_a_new_collection_creates_no_collection():
    settings = Settings(admin_token=TOKEN)
    with admin_server(settings) as url:
        job = finished(url, upload(url, "broken.pdf", b"%PDF-1.4\n" + b"junk" * 100, collection="reports"))
        assert job["state"] == "failed"
        r = httpx.post(f"{url}/api/ask", json={"question": FACT_Q, "collection": "reports"})
        assert r.status_code == 404
        assert httpx.get(f"{url}/healthz").json()["collections"] == ["default"]


# --- the audit log ---------------------------------------------------------------------------


def test_a_quick_job_is_logged_as_queued_before_its_end_and_with_its_actor(tmp_path):
    """The job runs (and ends) while its "queued" entry is still being written."""
    from docqa.admin import AuditLog
    from docqa.web.admin import Admin

    ran, ended = threading.Event(), threading.Event()

    class Report:
        def summary(self) -> str:
            return "documents: 0 added, 0 updated, 0 unchanged, 1 removed"

    class Ingestor:
        def remove(self, refs):
            ran.set()
            return Report()

    class SlowToWrite(AuditLog):
        def record(self, entry):
            if entry.outcome == "queued":
                assert ran.wait(timeout=10)
                ended.wait(timeout=0.3)  # room for the job's end to overtake this entry (it must wait instead)
                return super().record(entry)
            row = super().record(entry)
            ended.set()
            return row

    admin = Admin(Settings(), lambda name: Ingestor(), SlowToWrite(tmp_path / "audit.sqlite3"))
    try:
        job = admin.submit("delete", "default", "/docs/a.md", "admin@203.0.113.9")
        assert admin.runner.wait(job.id, timeout=10).state == "done"  # its end is logged before it shows as done
    finally:
        admin.close()
    entries = [(e.action, e.actor, e.outcome, e.detail) for e in reversed(admin.audit.recent())]
    assert entries == [
        ("delete", "admin@203.0.113.9", "queued", f"job {job.id}"),
        ("delete", "admin@203.0.113.9", "ok", f"job {job.id}: documents: 0 added, 0 updated, 0 unchanged, 1 removed"),
    ]


# --- deleting and re-ingesting ----------------------------------------------------------


def test_delete_and_reingest_jobs():
    settings = Settings(admin_token=TOKEN)
    stored = settings.index_path / "uploads" / "news.md"
    with admin_server(settings) as url:
        assert finished(url, upload(url, "news.md", NEWS.encode()))["state"] == "done"
        answers_with(url, NEWS_Q, NEWS_FACT)  # the default collection reloaded
        docs = {d["name"]: d for d in documents(url)}
        news = docs["news.md"]
        assert news["uploaded"] and news["id"] == str(stored.resolve()) and news["title"] == "园区新闻"

        r = httpx.post(f"{url}/api/admin/documents/reingest", params={"doc": news["id"]}, headers=AUTH)
        assert r.json()["job"]["kind"] == "reingest" and r.json()["job"]["target"] == news["id"]
        job = finished(url, r)
        assert job["state"] == "done" and job["result"].startswith("documents: 0 added, 1 updated")
        assert {d["name"] for d in documents(url)} == CORPUS_DOCS | {"news.md"}

        r = httpx.delete(f"{url}/api/admin/documents", params={"doc": news["id"]}, headers=AUTH)
        job = finished(url, r)
        assert job["state"] == "done" and "1 removed" in job["result"]
        assert names(documents(url)) == CORPUS_DOCS
        assert not stored.exists() and leftovers(settings.index_path) == []
        wait_until(lambda: ask(url, NEWS_Q)["refused"], "the deleted document to leave the answers")

        # a document ingested from elsewhere goes from the index, its file stays
        park = docs["park.md"]
        assert (
            finished(url, httpx.delete(f"{url}/api/admin/documents", params={"doc": park["id"]}, headers=AUTH))["state"]
            == "done"
        )
        assert names(documents(url)) == {"hostile.txt"} and Path(park["id"]).is_file()

        for method, path in [("POST", "/api/admin/documents/reingest"), ("DELETE", "/api/admin/documents")]:
            r = httpx.request(method, url + path, params={"doc": news["id"]}, headers=AUTH)
            assert r.status_code == 404
            assert r.json()["error"] == (
                f"{news['id']!r} is not in collection 'default'; GET /api/admin/documents lists its documents"
            )
            r = httpx.request(method, url + path, headers=AUTH)
            assert r.status_code == 422 and r.json()["error"].startswith("give the document: ?doc=<id>")
        assert httpx.get(f"{url}/api/admin/jobs/nope", headers=AUTH).status_code == 404

        kinds = [(e["action"], e["outcome"]) for e in audit(url) if e["target"] == news["id"]]
        assert kinds == [("delete", "ok"), ("delete", "queued"), ("reingest", "ok"), ("reingest", "queued")]
        assert {e["actor"] for e in audit(url)} == {ACTOR}


def test_guessing_the_token_is_refused_unread_after_20_wrong_tries_a_minute():
    settings = Settings(admin_token=TOKEN)
    with admin_server(settings) as url:
        codes = [httpx.get(f"{url}/api/admin/documents", headers={"Authorization": f"Bearer guess{i}"}) for i in range(22)]
        assert [r.status_code for r in codes] == [401] * 20 + [429, 429]
        assert int(codes[-1].headers["Retry-After"]) >= 1 and "wrong admin token" in codes[-1].json()["error"]
        assert httpx.get(f"{url}/api/admin/documents", headers=AUTH).status_code == 200  # the right token still works
        denied = [e for e in httpx.get(f"{url}/api/admin/audit", headers=AUTH).json()["entries"] if e["action"] == "denied"]
    assert len(denied) == 20  # refused guesses are not written to the audit log
