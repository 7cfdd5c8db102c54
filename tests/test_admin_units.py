"""The admin backend without a server: checking and storing uploads (names,
types by content, size limits, zip bombs), the audit log, and the background
job runner."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from docqa.admin import (
    AuditEntry,
    AuditLog,
    AuditLogError,
    Job,
    JobRunner,
    RunnerClosed,
    StoredUpload,
    StoreFailed,
    TooLarge,
    UploadLimits,
    check_docx,
    check_name_matches,
    safe_name,
    sniff,
    store_upload,
)
from docqa.admin.audit import AUDIT_FILE
from docqa.errors import BadRequest, CorruptDocument, EmptyDocument, LLMError, NotFound, UnsupportedFile

MB = 1024 * 1024


def until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds have passed (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Annual report 2024")
    c.save()
    return buf.getvalue()


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("Annual report 2024")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# --- file names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\x.txt", "x.txt"),
        ("C:\\Users\\me\\Desktop\\report.docx", "report.docx"),
        ("/abs/dir/notes.md", "notes.md"),
        (".hidden.txt", "hidden.txt"),
        ("...txt", "txt"),
        ("re\x00po\nrt\x7f.pdf", "report.pdf"),
        ("\u202egpj.exe", "gpj.exe"),  # right-to-left override: no spoofed extension
        ("  report.pdf . ", "report.pdf"),
        ("年度报告.pdf", "年度报告.pdf"),
    ],
)
def test_safe_name_keeps_only_a_plain_last_component(raw, clean):
    assert safe_name(raw) == clean


@pytest.mark.parametrize("raw", ["", ".", "..", "/", "a/..", "..\\..", "\x00\x01", "   ", "dir/"])
def test_safe_name_refuses_names_with_nothing_left(raw):
    with pytest.raises(BadRequest) as err:
        safe_name(raw)
    assert "give a plain file name such as report.pdf" in str(err.value)
    assert err.value.http_status == 422


def test_safe_name_shortens_long_names_but_keeps_the_extension():
    long = safe_name("a" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith(".pdf")
    wide = safe_name("报" * 200 + ".docx")  # 3 bytes a character: the byte limit decides
    assert wide.endswith(".docx") and len(wide.encode()) <= 240


def test_safe_name_is_nfc():
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert safe_name(decomposed) == unicodedata.normalize("NFC", "café.txt")


# --- types by content -------------------------------------------------------------


def test_sniff_pdf_and_docx():
    assert sniff(pdf_bytes()[:4096], "report.pdf") == "pdf"
    assert sniff(b"\x00\x01junk before the header %PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "x.pdf") == "pdf"
    assert sniff(docx_bytes()[:4096], "report.docx") == "docx"


def test_sniff_text_mentioning_the_pdf_header_stays_text():
    assert sniff(b"Every PDF starts with %PDF-1.7 on its first line.\n", "notes.txt") == "txt"


@pytest.mark.parametrize(
    "head, name, kind",
    [
        (b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", "page.html", "html"),
        (b"<!-- saved --> \n<HTML lang=en><p>Hi</p>", "page.htm", "html"),
        (b"<!doctype html><p>Hi</p>", "page.txt", "html"),  # a whole HTML document, whatever its name
        (b"<p>Hi</p><div>there</div>", "page.html", "html"),
        (b"<p>Hi</p> a note about markup", "note.txt", "txt"),  # scattered tags: the name decides
        (b"# Title\n\nSome <div> in markdown\n", "readme.md", "md"),
        (b"# Title\n\nText\n", "readme.markdown", "md"),
        (b"# Title\n\nText\n", "readme.txt", "txt"),
        (b"just text", "page.html", "txt"),
        ("年度报告：营业收入增长。".encode(), "r.txt", "txt"),
        ("\ufeffwith a BOM".encode(), "r.txt", "txt"),
        ("年度报告：营业收入增长。".encode("gb18030"), "r.txt", "txt"),
        ("UTF-16 text".encode("utf-16"), "r.txt", "txt"),
        ("营业收入".encode()[:-1], "r.txt", "txt"),  # the head cut inside a character
    ],
)
def test_sniff_text_types(head, name, kind):
    assert sniff(head, name) == kind


def test_sniff_refuses_binary_junk_naming_what_is_accepted():
    with pytest.raises(UnsupportedFile) as err:
        sniff(bytes(range(256)) * 4, "data.txt")
    assert "txt, md, html, pdf and docx" in str(err.value)
    with pytest.raises(UnsupportedFile, match="image"):
        sniff(b"\x89PNG\r\n\x1a\n" + bytes(100), "scan.pdf")
    with pytest.raises(UnsupportedFile, match="save it as .docx without a password"):
        sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old.docx")


def test_a_pdf_named_txt_is_rejected_with_the_name_to_use():
    with pytest.raises(UnsupportedFile) as err:
        check_name_matches("pdf", "report.txt")
    assert str(err.value) == ("report.txt is a PDF by its content but named .txt; rename it to report.pdf and upload it again")


@pytest.mark.parametrize(
    "kind, name",
    [
        ("txt", "a.txt"),
        ("txt", "a.TEXT"),
        ("md", "a.md"),
        ("txt", "a.markdown"),
        ("html", "a.htm"),
        ("txt", "a.html"),
        ("pdf", "a.PDF"),
        ("docx", "a.docx"),
    ],
)
def test_names_that_fit_the_content(kind, name):
    check_name_matches(kind, name)


@pytest.mark.parametrize(
    "kind, name, expected",
    [
        ("html", "a.txt", "rename it to a.html"),
        ("html", "a.md", "rename it to a.html"),
        ("docx", "a.pdf", "rename it to a.docx"),
        ("txt", "a.exe", "DocQA does not read .exe files"),
        ("docx", "a.doc", "save it as .docx"),
        ("txt", "README", "files without an extension"),
    ],
)
def test_names_that_do_not_fit(kind, name, expected):
    with pytest.raises(UnsupportedFile) as err:
        check_name_matches(kind, name)
    assert expected in str(err.value)
    if "does not read" in expected or "without" in expected:
        assert ".docx, .htm, .html, .markdown, .md, .pdf, .text, .txt" in str(err.value)


# --- Word files ---------------------------------------------------------------------


def test_check_docx_accepts_a_real_document(tmp_path):
    path = tmp_path / "real.docx"
    path.write_bytes(docx_bytes())
    check_docx(path, 100 * MB)


def test_check_docx_refuses_a_zip_bomb(tmp_path):
    path = tmp_path / "bomb.docx"
    block = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("word/media/zeros.bin", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(block)
    assert path.stat().st_size < 2 * MB
    with pytest.raises(CorruptDocument) as err:
        check_docx(path, 500 * MB)
    assert "word/media/zeros.bin" in str(err.value) and "zip bomb" in str(err.value)
    assert "200 MB" in str(err.value)


def test_check_docx_refuses_too_much_unpacked_data(tmp_path):
    path = tmp_path / "big.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("word/media/image1.png", bytes(2 * MB))
    with pytest.raises(TooLarge) as err:
        check_docx(path, MB)
    assert err.value.http_status == 413 and "DOCQA_MAX_UPLOAD_MB" in str(err.value)


def test_check_docx_refuses_too_many_parts(tmp_path):
    members = {"word/document.xml": b"<w:document/>"} | {f"word/p{i}.xml": b"" for i in range(2001)}
    with pytest.raises(CorruptDocument, match="2002 parts"):
        check_docx(zip_with(tmp_path / "many.docx", members), 100 * MB)


def test_check_docx_refuses_other_zips_and_damaged_ones(tmp_path):
    with pytest.raises(CorruptDocument, match="without word/document.xml"):
        check_docx(zip_with(tmp_path / "sheet.docx", {"xl/workbook.xml": b"<x/>"}), 100 * MB)
    damaged = tmp_path / "damaged.docx"
    damaged.write_bytes(docx_bytes()[:300])
    with pytest.raises(CorruptDocument, match="damaged ZIP.*save it again"):
        check_docx(damaged, 100 * MB)


# --- storing uploads ----------------------------------------------------------------


def test_store_upload_stores_under_the_safe_name(tmp_path):
    dest = tmp_path / "docs"
    data = "# 年度报告\n\n营业收入增长。\n".encode()
    stored = store_upload(io.BytesIO(data), "../../secret/report.md", dest, MB)
    assert stored == StoredUpload(dest / "report.md", "report.md", "md", len(data), hashlib.sha256(data).hexdigest())
    assert stored.path.read_bytes() == data
    assert sorted(p.name for p in dest.iterdir()) == ["report.md"]
    assert not (tmp_path / "secret").exists()


def test_store_upload_of_real_pdf_and_docx(tmp_path):
    pdf = store_upload(io.BytesIO(pdf_bytes()), "r.pdf", tmp_path, MB)
    word = store_upload(io.BytesIO(docx_bytes()), "r.docx", tmp_path, MB)
    assert (pdf.kind, word.kind) == ("pdf", "docx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.docx", "r.pdf"]


def test_store_upload_replaces_a_file_of_the_same_name(tmp_path):
    store_upload(io.BytesIO(b"first version"), "notes.txt", tmp_path, MB)
    stored = store_upload(io.BytesIO(b"second version"), "notes.txt", tmp_path, MB)
    assert stored.path.read_bytes() == b"second version"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


class Endless(io.RawIOBase):
    """A stream that never ends, counting the reads made of it."""

    reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return b"x" * (size if size > 0 else 1024)


def test_an_oversized_upload_stops_early_and_leaves_nothing(tmp_path):
    dest = tmp_path / "docs"
    with pytest.raises(TooLarge) as err:
        store_upload(io.BytesIO(b"a" * 10 * 1024), "big.txt", dest, 1024)
    assert str(err.value) == "big.txt is larger than the 1 KB upload limit (DOCQA_MAX_UPLOAD_MB); split it or raise the limit"
    assert err.value.http_status == 413
    assert list(dest.iterdir()) == []
    endless = Endless()
    with pytest.raises(TooLarge, match="2 MB upload limit"):
        store_upload(endless, "endless.txt", dest, 2 * MB)  # type: ignore[arg-type]
    assert endless.reads == 3 and list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "data, name, error, expected",
    [
        (b"", "empty.txt", EmptyDocument, "empty.txt is empty"),
        (bytes(range(256)) * 8, "junk.txt", UnsupportedFile, "txt, md, html, pdf and docx"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.txt", UnsupportedFile, "rename it to report.pdf"),
        (b"MZ\x90\x00", "setup.exe", UnsupportedFile, "does not read .exe files"),
        (b"PK\x03\x04" + bytes(100), "broken.docx", CorruptDocument, "broken.docx is not a readable Word file"),
    ],
)
def test_refused_uploads_leave_nothing(tmp_path, data, name, error, expected):
    with pytest.raises(error) as err:
        store_upload(io.BytesIO(data), name, tmp_path, MB)
    assert expected in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_docx_bomb_upload_names_the_upload_and_leaves_nothing(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("word/media/zeros.bin", bytes(5 * MB))
    dest = tmp_path / "docs"
    with pytest.raises(CorruptDocument) as err:
        store_upload(io.BytesIO(buf.getvalue()), "bomb.docx", dest, MB)
    assert str(err.value).startswith("bomb.docx: its part word/media/zeros.bin")
    assert list(dest.iterdir()) == []


def test_a_folder_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").mkdir()
    with pytest.raises(StoreFailed, match="cannot store notes.txt in .*; make the folder writable"):
        store_upload(io.BytesIO(b"text"), "notes.txt", tmp_path, MB)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_upload_limits():
    assert UploadLimits(50 * MB).max_unpacked == 500 * MB
    assert UploadLimits(MB).max_unpacked == 100 * MB


# --- audit log ----------------------------------------------------------------------


def test_audit_log_round_trip(tmp_path):
    log = AuditLog.in_dir(tmp_path / "admin")
    assert log.recent() == [] and not log.exists()  # nothing created by reading
    first = log.record(AuditEntry("upload", "token 10.0.0.5", "default", "report.pdf", "queued", "job abc"))
    log.record(AuditEntry("delete", "token 10.0.0.5", "hr", "old.txt"))
    log.record(AuditEntry("login-failed", "10.0.0.9", outcome="failed", detail="wrong token", at="2024-01-01T00:00:00+00:00"))
    assert (tmp_path / "admin" / AUDIT_FILE).is_file()
    entries = log.recent()
    assert [e.action for e in entries] == ["login-failed", "delete", "upload"]
    assert entries[-1] == AuditEntry(
        "upload", "token 10.0.0.5", "default", "report.pdf", "queued", "job abc", at=entries[-1].at, id=first
    )
    assert entries[-1].at.endswith("+00:00") and entries[0].at == "2024-01-01T00:00:00+00:00"
    assert [e.action for e in log.recent(limit=1)] == ["login-failed"]
    assert [e.target for e in log.recent(collection="hr")] == ["old.txt"]


def test_a_damaged_audit_log_says_what_to_do(tmp_path):
    path = tmp_path / AUDIT_FILE
    path.write_bytes(b"this is not a database at all" * 100)
    log = AuditLog(path)
    with pytest.raises(AuditLogError) as err:
        log.record(AuditEntry("upload", "token", "default", "a.txt"))
    message = str(err.value)
    assert message.startswith(f"the audit log {path} is damaged (")
    assert "move it away" in message and "DocQA starts a new one" in message
    assert err.value.http_status == 503
    with pytest.raises(AuditLogError, match="is damaged"):
        log.recent()


def test_audit_log_from_threads(tmp_path):
    log = AuditLog(tmp_path / AUDIT_FILE)
    threads = [
        threading.Thread(target=lambda i=i: log.record(AuditEntry("upload", "token", "default", f"{i}.txt"))) for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(e.target for e in log.recent()) == sorted(f"{i}.txt" for i in range(8))


# --- background jobs ----------------------------------------------------------------


@pytest.fixture
def runner_factory():
    runners: list[JobRunner] = []

    def make(run, **kw) -> JobRunner:
        runner = JobRunner(run, **kw)
        runners.append(runner)
        return runner

    yield make
    for r in runners:
        r.close(timeout=10)


def test_jobs_run_in_submission_order_one_at_a_time(runner_factory):
    gate = threading.Event()
    started: list[str] = []
    running = []

    def run(job: Job, progress) -> str:
        running.append(job.target)
        assert len(running) == 1, "jobs overlapped"
        started.append(job.target)
        if job.target == "a.txt":
            gate.wait(10)
        running.remove(job.target)
        return f"ingested {job.target}"

    runner = runner_factory(run)
    first = runner.submit("upload", "default", "a.txt")
    second = runner.submit("reingest", "default")
    third = runner.submit("delete", "hr", "b.txt")
    assert first.state == "queued" and first.created  # returned at once
    assert until(lambda: runner.get(first.id).state == "running")
    assert runner.get(second.id).state == "queued"
    gate.set()
    done = runner.wait(third.id, timeout=10)
    assert done.state == "done" and done.result == "ingested b.txt" and done.started and done.finished
    assert started == ["a.txt", "", "b.txt"]
    assert [j.id for j in runner.jobs()] == [third.id, second.id, first.id]
    assert [j.id for j in runner.jobs(limit=1)] == [third.id]


def test_job_progress_is_visible_while_running(runner_factory):
    halfway, go_on = threading.Event(), threading.Event()

    def run(job: Job, progress) -> str:
        progress(1, 2)
        halfway.set()
        go_on.wait(10)
        progress(2, 2)
        return "2 chunks"

    runner = runner_factory(run)
    job = runner.submit("upload", "default", "a.txt")
    assert halfway.wait(10)
    now = runner.get(job.id)
    assert (now.state, now.done, now.total) == ("running", 1, 2)
    go_on.set()
    done = runner.wait(job.id, timeout=10)
    assert (done.state, done.done, done.total, done.result) == ("done", 2, 2, "2 chunks")


def test_failures_are_captured_and_the_worker_goes_on(runner_factory):
    finished: list[Job] = []
    all_done = threading.Event()

    def run(job: Job, progress) -> str:
        if job.target == "llm":
            raise LLMError("the LLM server at http://x is unreachable; start it")
        if job.target == "bug":
            raise KeyError("chunks")
        return "fine"

    def on_finish(job: Job) -> None:
        finished.append(job)
        if len(finished) == 3:
            all_done.set()

    runner = runner_factory(run, on_finish=on_finish)
    ids = [runner.submit("upload", "default", t).id for t in ("llm", "bug", "ok")]
    assert all_done.wait(10)
    assert [(j.id, j.state) for j in finished] == list(zip(ids, ["failed", "failed", "done"]))
    assert finished[0].error == "the LLM server at http://x is unreachable; start it"
    assert finished[1].error == "internal error: KeyError: 'chunks'"
    assert finished[2].result == "fine" and finished[2].error == ""
    assert runner.wait(ids[2], timeout=10).state == "done"


def test_a_failing_on_finish_does_not_stop_the_worker(runner_factory):
    def on_finish(job: Job) -> None:
        raise AuditLogError("audit log x cannot be written (disk full); check the file's permissions or move it away")

    runner = runner_factory(lambda job, progress: "ok", on_finish=on_finish)
    a = runner.submit("upload", "default", "a.txt")
    b = runner.submit("upload", "default", "b.txt")
    assert runner.wait(a.id, timeout=10).state == "done"
    assert runner.wait(b.id, timeout=10).state == "done"


def test_unknown_jobs_and_kinds(runner_factory):
    runner = runner_factory(lambda job, progress: "ok")
    with pytest.raises(NotFound, match="no job 'nope'"):
        runner.get("nope")
    with pytest.raises(BadRequest, match="upload, delete, reingest"):
        runner.submit("format-disk", "default")


def test_only_the_newest_finished_jobs_are_kept(runner_factory):
    runner = runner_factory(lambda job, progress: "ok", keep=2)
    ids = [runner.submit("upload", "default", f"{i}.txt").id for i in range(4)]
    assert runner.wait(ids[-1], timeout=10).state == "done"
    assert [j.id for j in runner.jobs()] == [ids[3], ids[2]]
    with pytest.raises(NotFound):
        runner.get(ids[0])


def test_close_cancels_queued_jobs_and_refuses_new_ones():
    gate = threading.Event()
    finished: list[Job] = []
    runner = JobRunner(lambda job, progress: "done" if gate.wait(10) else "gate never opened", on_finish=finished.append)
    running = runner.submit("reingest", "default")
    queued = runner.submit("upload", "default", "a.txt")
    assert until(lambda: runner.get(running.id).state == "running")
    closer = threading.Thread(target=runner.close, kwargs={"timeout": 10})
    closer.start()
    assert until(lambda: runner.get(queued.id).state == "failed")
    gate.set()
    closer.join(10)
    assert runner.get(running.id).state == "done"
    assert "cancelled" in runner.get(queued.id).error
    assert sorted(j.id for j in finished) == sorted([running.id, queued.id])
    with pytest.raises(RunnerClosed, match="try again"):
        runner.submit("upload", "default", "b.txt")
