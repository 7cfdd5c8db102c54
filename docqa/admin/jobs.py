"""Background jobs for the admin pages: ingesting an upload, deleting a
document, re-ingesting a collection.  ``submit`` returns at once; one worker
thread runs the jobs one at a time in submission order (ingests of one index
must never overlap), and callers follow them with ``get`` / ``jobs``.

The work itself is the injected ``run(job, progress)``: it reports progress
with ``progress(done, total)`` and returns a one-line summary.  What it
raises marks the job failed and never stops the worker."""

from __future__ import annotations

import collections
import dataclasses
import functools
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from docqa.errors import BadRequest, DocQAError, NotFound, RunnerClosed

JOB_KINDS = ("upload", "delete", "reingest")
STATES = ("queued", "running", "done", "failed")
KEEP_FINISHED = 200

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One job; ``get`` and ``jobs`` hand out copies, so a caller's Job never
    changes under it."""

    id: str
    kind: str  # one of JOB_KINDS
    collection: str
    target: str  # the file or document ("" for a whole collection)
    state: str = "queued"  # one of STATES
    done: int = 0  # progress units (e.g. chunks embedded) …
    total: int = 0  # … of this many (0: not known yet)
    result: str = ""  # the summary when done
    error: str = ""  # the message when failed
    created: str = ""  # UTC, ISO 8601
    started: str | None = None
    finished: str | None = None

    @property
    def finished_ok(self) -> bool:
        return self.state == "done"

    @property
    def is_finished(self) -> bool:
        return self.state in ("done", "failed")


RunJob = Callable[[Job, Progress], str]
OnFinish = Callable[[Job], None]


class JobRunner:
    def __init__(self, run: RunJob, on_finish: OnFinish | None = None, keep: int = KEEP_FINISHED):
        self._run = run
        self._on_finish = on_finish
        self._keep = keep
        self._jobs: collections.OrderedDict[str, Job] = collections.OrderedDict()  # in submission order
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._changed = threading.Condition()  # guards _jobs, _worker, _closed; notified on every change
        self._worker: threading.Thread | None = None
        self._closed = False

    def submit(self, kind: str, collection: str, target: str = "") -> Job:
        """Queue a job and return (a copy of) it at once."""
        if kind not in JOB_KINDS:
            raise BadRequest(f"unknown job kind {kind!r}; use one of {', '.join(JOB_KINDS)}")
        job = Job(id=uuid.uuid4().hex[:12], kind=kind, collection=collection, target=target, created=utc_now())
        with self._changed:
            if self._closed:
                raise RunnerClosed("the job runner has stopped (the server is shutting down); try again once it is back")
            self._jobs[job.id] = job
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="docqa-admin-jobs", daemon=True)
                self._worker.start()
            self._queue.put(job.id)
            return dataclasses.replace(job)

    def get(self, job_id: str) -> Job:
        with self._changed:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(
                    f"no job {job_id!r}: the id is wrong or the job finished long ago (the last {self._keep} "
                    "finished jobs are kept, none across restarts); look it up in the job list or the audit log"
                )
            return dataclasses.replace(job)

    def jobs(self, limit: int = 50) -> list[Job]:
        """The newest ``limit`` jobs, newest first."""
        with self._changed:
            newest = list(reversed(self._jobs.values()))[: max(0, limit)]
            return [dataclasses.replace(j) for j in newest]

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """The job once finished, or as it is when ``timeout`` seconds have passed."""
        with self._changed:
            self._changed.wait_for(lambda: job_id not in self._jobs or self._jobs[job_id].is_finished, timeout)
        return self.get(job_id)

    def close(self, timeout: float | None = None) -> None:
        """Stop: jobs still queued fail as cancelled, the running one is waited
        for (up to ``timeout`` seconds).  Later submits raise ``RunnerClosed``."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            worker = self._worker
            cancelled = [
                _finished(j, error="cancelled: the server stopped before this job ran; submit it again")
                for j in self._jobs.values()
                if j.state == "queued"
            ]
            for job in cancelled:
                self._publish(job)
        for job in cancelled:
            self._notify(job)
        self._queue.put(None)
        if worker is not None:
            worker.join(timeout)

    # the worker thread

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            with self._changed:
                job = self._jobs.get(job_id)
                if job is None or job.state != "queued":  # cancelled by close()
                    continue
                job.state = "running"
                job.started = utc_now()
                snapshot = dataclasses.replace(job)
                self._changed.notify_all()
            result, error = "", ""
            try:
                result = self._run(snapshot, functools.partial(self._progress, job))
            except DocQAError as exc:
                error = str(exc)
            except Exception as exc:  # a bug in the injected work: the job fails, the worker goes on
                log.exception("admin job %s (%s %s/%s) failed", job.id, job.kind, job.collection, job.target)
                error = f"internal error: {type(exc).__name__}: {exc}"
            with self._changed:
                finished = _finished(job, result=str(result or ""), error=error)  # with the last progress
            self._notify(finished)  # first, so the audit log has the entry once the job shows as finished
            with self._changed:
                self._publish(finished)

    def _progress(self, job: Job, done: int, total: int) -> None:
        with self._changed:
            job.done, job.total = int(done), int(total)
            self._changed.notify_all()

    def _publish(self, finished: Job) -> None:
        """Store the ``finished`` job (caller holds the lock) and forget the
        oldest finished jobs beyond ``keep``."""
        self._jobs[finished.id] = finished
        done = [j.id for j in self._jobs.values() if j.is_finished]
        for old in done[: max(0, len(done) - self._keep)]:
            del self._jobs[old]
        self._changed.notify_all()

    def _notify(self, job: Job) -> None:
        if self._on_finish is None:
            return
        try:
            self._on_finish(dataclasses.replace(job))
        except Exception:  # e.g. the audit log is unwritable: logged, the worker goes on
            log.exception("on_finish for admin job %s failed", job.id)


def _finished(job: Job, result: str = "", error: str = "") -> Job:
    """A copy of ``job``, failed with ``error`` if there is one, else done with ``result``."""
    return dataclasses.replace(
        job,
        state="failed" if error else "done",
        result="" if error else result,
        error=error,
        finished=utc_now(),
    )
