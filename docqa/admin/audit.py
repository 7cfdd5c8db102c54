"""What administrators did, in one SQLite file (``audit.sqlite3``): uploads,
deletions, re-ingests, failed logins, each with who, when and how it went.

Like the feedback store (docqa/feedback/store.py) every call opens its own
connection, so the log is safe to use from the server's worker threads and
from several processes; the file is created with the first entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from docqa.errors import AuditLogError
from docqa.sqlite_file import SQLiteFile

AUDIT_FILE = "audit.sqlite3"
SCHEMA_VERSION = 1  # PRAGMA user_version
COLUMNS = ("at", "actor", "action", "collection", "target", "outcome", "detail")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,          -- UTC, ISO 8601
    actor TEXT NOT NULL,       -- how the caller proved who they are, and from where: "token 10.0.0.5"
    action TEXT NOT NULL,      -- "upload", "delete", "reingest", "login-failed", …
    collection TEXT NOT NULL,
    target TEXT NOT NULL,      -- the file or document acted on ("" for none)
    outcome TEXT NOT NULL,     -- "ok", "failed", "queued"
    detail TEXT NOT NULL       -- a job id, an error message, a summary
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
PRAGMA user_version = {SCHEMA_VERSION};
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditEntry:
    """One administrative action.  ``at`` is filled in by ``AuditLog.record``
    when empty; ``id`` is given by the log."""

    action: str
    actor: str
    collection: str = ""
    target: str = ""
    outcome: str = "ok"
    detail: str = ""
    at: str = ""
    id: int | None = None


class AuditLog:
    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = Path(path)
        self._file = SQLiteFile(self.path, SCHEMA, SCHEMA_VERSION, "the audit log", AuditLogError, timeout=timeout)

    @classmethod
    def in_dir(cls, directory: Path) -> AuditLog:
        return cls(Path(directory) / AUDIT_FILE)

    def exists(self) -> bool:
        return self._file.exists()

    def record(self, entry: AuditEntry) -> int:
        """Store ``entry`` (its ``id`` is ignored); returns the new id."""
        values = (
            entry.at or utc_now(),
            entry.actor,
            entry.action,
            entry.collection,
            entry.target,
            entry.outcome,
            entry.detail,
        )
        placeholders = ", ".join("?" * len(COLUMNS))
        with self._file.connect(create=True) as con, con:
            cur = con.execute(f"INSERT INTO audit ({', '.join(COLUMNS)}) VALUES ({placeholders})", values)
        return int(cur.lastrowid or 0)

    def recent(self, limit: int = 100, collection: str | None = None) -> list[AuditEntry]:
        """The last ``limit`` entries, newest first (only ``collection``'s when given)."""
        if not self.exists():
            return []
        sql = f"SELECT id, {', '.join(COLUMNS)} FROM audit"
        args: list[str | int] = []
        if collection is not None:
            sql += " WHERE collection = ?"
            args.append(collection)
        args.append(max(0, limit))
        with self._file.connect(create=False) as con:
            rows = con.execute(sql + " ORDER BY id DESC LIMIT ?", args).fetchall()
        return [
            AuditEntry(action, actor, collection=coll, target=target, outcome=outcome, detail=detail, at=at, id=id_)
            for id_, at, actor, action, coll, target, outcome, detail in rows
        ]
