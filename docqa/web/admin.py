"""What the admin API does with a collection's documents: uploads are staged,
then ingested in the background (one job at a time), deleted or read again;
every action goes to the audit log.

An upload is checked when it arrives (size, type by content, file name:
docqa/admin/uploads.py) and staged under ``<index>/.staging``; its job moves it
to ``<index>/uploads/<name>`` and ingests it.  When the ingest fails the file
it replaced comes back (or the new one goes) and the index is untouched: a bad
file changes nothing.  The running server sees a new generation within a
second or two (hot reload), a new collection the first time it is asked for."""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from docqa.admin import AuditEntry, AuditLog, Job, JobRunner, Progress, StoredUpload, store_upload
from docqa.errors import DocQAError, IndexNotFound, NotFound
from docqa.settings import Settings, check_collection_name

UPLOADS = "uploads"
STAGING = ".staging"


class Admin:
    """``ingestor_for(collection)``: an ``Ingestor`` over that collection's index
    (created on first ingest)."""

    def __init__(self, settings: Settings, ingestor_for: Callable[[str], object], audit: AuditLog):
        self.settings = settings
        self.ingestor_for = ingestor_for
        self.audit = audit
        self.max_bytes = settings.max_upload_mb * 1024 * 1024
        self.runner = JobRunner(self._run, on_finish=self._finished)
        self._actors: dict[str, str] = {}
        # held while a job is submitted and its "queued" entry written: a quick job's
        # end waits for it, so the log never shows the end first or without its actor
        self._submitting = threading.Lock()

    # -- what the endpoints call ---------------------------------------------------
    def documents(self, collection: str) -> list[dict]:
        """The collection's documents: id, title, file name, chunks, whether it was uploaded here."""
        from docqa.index.store import read_manifest

        root = self.settings.collection_index(collection)
        try:
            manifest = read_manifest(root)
        except IndexNotFound:
            return []
        uploads = (root / UPLOADS).resolve()
        return [
            {
                "id": doc_id,
                "title": d.get("title", ""),
                "name": Path(d.get("path", doc_id)).name,
                "chunks": d.get("chunks", 0),
                "uploaded": Path(d.get("path", "")).resolve().parent == uploads,
            }
            for doc_id, d in manifest["documents"].items()
        ]

    def stage(self, stream: BinaryIO, name: str, collection: str) -> StoredUpload:
        """Check and keep an upload until its job runs (raises what is wrong with it)."""
        collection = check_collection_name(collection)
        staging = self.settings.collection_index(collection) / STAGING / uuid.uuid4().hex[:12]
        try:
            return store_upload(stream, name, staging, self.max_bytes)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            for empty in (staging.parent, staging.parent.parent):  # a rejected upload leaves no new collection
                try:
                    empty.rmdir()
                except OSError:
                    break
            raise

    def submit(self, kind: str, collection: str, target: str, actor: str) -> Job:
        collection = check_collection_name(collection)
        with self._submitting:
            job = self.runner.submit(kind, collection, target)
            self._actors[job.id] = actor
            self.audit.record(AuditEntry(kind, actor, job.collection, _shown(target), "queued", f"job {job.id}"))
        return job

    def check_document(self, collection: str, doc_id: str) -> None:
        """``NotFound`` unless ``doc_id`` is in the collection."""
        if not any(d["id"] == doc_id for d in self.documents(collection)):
            raise NotFound(
                f"{doc_id[:200]!r} is not in collection {collection!r}; GET /api/admin/documents lists its documents"
            )

    def close(self) -> None:
        self.runner.close(timeout=30)

    # -- the jobs ---------------------------------------------------------------------
    def _run(self, job: Job, progress: Progress) -> str:
        ingestor = self.ingestor_for(job.collection)
        total = {"n": 0, "done": 0}

        def planned(n: int) -> None:
            total["n"] = n
            progress(0, n)

        def embedded(k: int) -> None:
            total["done"] += k
            progress(total["done"], total["n"])

        if job.kind == "delete":
            report = ingestor.remove([job.target])  # type: ignore[attr-defined]
            self._delete_upload(job.collection, job.target)
            return report.summary()
        if job.kind == "reingest":
            report = ingestor.ingest([job.target], force=True, on_plan=planned, progress=embedded)  # type: ignore[attr-defined]
            return report.summary()
        return self._ingest_upload(ingestor, job, planned, embedded)

    def _ingest_upload(self, ingestor, job: Job, planned, embedded) -> str:
        staged = Path(job.target)
        uploads = self.settings.collection_index(job.collection) / UPLOADS
        uploads.mkdir(parents=True, exist_ok=True)
        final = uploads / staged.name
        backup = uploads / f".{staged.name}.{uuid.uuid4().hex[:8]}.bak"
        had = final.exists()
        try:
            if had:
                os.replace(final, backup)
            os.replace(staged, final)
            try:
                report = ingestor.ingest([final], on_plan=planned, progress=embedded)
            except BaseException:
                final.unlink(missing_ok=True)
                if had:
                    os.replace(backup, final)  # the file the index still has
                raise
            backup.unlink(missing_ok=True)
            for _path, why in report.failed:
                raise DocQAError(why)
            return report.summary()
        finally:
            shutil.rmtree(staged.parent, ignore_errors=True)

    def _delete_upload(self, collection: str, doc_id: str) -> None:
        """An uploaded file goes with its document (files ingested from elsewhere stay)."""
        uploads = (self.settings.collection_index(collection) / UPLOADS).resolve()
        path = Path(doc_id)
        if path.is_absolute() and path.resolve().parent == uploads:
            path.unlink(missing_ok=True)

    def _finished(self, job: Job) -> None:
        with self._submitting:
            actor = self._actors.pop(job.id, "admin")
        outcome = "ok" if job.state == "done" else "failed"
        detail = f"job {job.id}: " + (job.result if job.state == "done" else job.error)
        self.audit.record(AuditEntry(job.kind, actor, job.collection, _shown(job.target), outcome, detail[:2000]))


def job_dict(job: Job) -> dict:
    d = dataclasses.asdict(job)
    d["target"] = _shown(job.target)
    return d


def _shown(target: str) -> str:
    """A staged upload's file name, a document's id as it is."""
    return Path(target).name if STAGING in Path(target).parts else target
