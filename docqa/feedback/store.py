"""Users' ratings of answers in one SQLite file beside the index
(``<index dir>/feedback.sqlite3``).

The file sits next to the generation folders, which re-ingest replaces; it is
never touched by them (index/store.py only prunes ``gen-*`` and ``.tmp-*``
folders), so ratings survive a new index and each row names the generation
that answered.  Every call opens its own connection, so the store is safe to
use from the server's worker threads (and from several processes: SQLite
locks the file, WAL lets readers and a writer work at once).  Nothing is
created until the first rating is added."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from docqa.errors import FeedbackStoreError
from docqa.feedback.records import RATINGS, Counts, Feedback, FeedbackStats
from docqa.sqlite_file import SQLiteFile

FILE_NAME = "feedback.sqlite3"
SCHEMA_VERSION = 1  # PRAGMA user_version
COLUMNS = (
    "created_at",
    "rating",
    "question",
    "resolved_question",
    "answer",
    "citations",
    "mode",
    "comment",
    "generation",
    "client_ip",
)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: export ids fb-<id> stay stable
    created_at TEXT NOT NULL,              -- UTC, ISO 8601
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    resolved_question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,               -- JSON list of the answer's citation objects
    mode TEXT,
    comment TEXT,
    generation TEXT NOT NULL,
    client_ip TEXT                         -- only with DOCQA_FEEDBACK_CLIENT_IP=true
);
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at);
PRAGMA user_version = {SCHEMA_VERSION};
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def as_utc(when: datetime | date | str) -> str:
    """``when`` as the stored timestamp format, for comparisons: a date is its
    midnight, a naive time is taken as UTC."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    def __init__(self, path: Path, timeout: float = 10.0):
        self.path = Path(path)
        self._file = SQLiteFile(
            self.path,
            SCHEMA,
            SCHEMA_VERSION,
            "the feedback database",
            FeedbackStoreError,
            " or point DOCQA_INDEX_DIR at a writable index folder",
            timeout,
        )

    @classmethod
    def beside_index(cls, index_root: Path) -> FeedbackStore:
        return cls(Path(index_root) / FILE_NAME)

    def exists(self) -> bool:
        return self._file.exists()

    def add(self, record: Feedback) -> int:
        """Store ``record`` (its ``id`` is ignored); returns the new id."""
        values = (
            record.created_at,
            record.rating,
            record.question,
            record.resolved_question,
            record.answer,
            json.dumps(list(record.citations), ensure_ascii=False),
            record.mode,
            record.comment,
            record.generation,
            record.client_ip,
        )
        with self._file.connect(create=True) as con, con:
            cur = con.execute(f"INSERT INTO feedback ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", values)
        return int(cur.lastrowid or 0)

    def records(self, rating: str | None = None, since: datetime | date | str | None = None) -> list[Feedback]:
        """Stored ratings, oldest first; only ``rating`` ("up"/"down") and only
        those at or after ``since`` when given."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, got {rating!r}")
        where: list[str] = []
        args: list[str] = []
        if rating is not None:
            where.append("rating = ?")
            args.append(rating)
        if since is not None:
            where.append("created_at >= ?")
            args.append(as_utc(since))
        sql = f"SELECT id, {', '.join(COLUMNS)} FROM feedback"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
        if not self.exists():
            return []
        with self._file.connect(create=False) as con:
            rows = con.execute(sql + " ORDER BY id", args).fetchall()
        return [self._record(row) for row in rows]

    def stats(self, now: datetime | None = None) -> FeedbackStats:
        """Counts overall, by mode, by generation, over the 7 days before ``now``."""
        if not self.exists():
            return FeedbackStats(Counts(), Counts(), 0)
        week_ago = as_utc((now or datetime.now(UTC)) - timedelta(days=7))
        with self._file.connect(create=False) as con:
            overall = self._counts(con.execute("SELECT '', rating, COUNT(*) FROM feedback GROUP BY rating"))
            recent = self._counts(
                con.execute("SELECT '', rating, COUNT(*) FROM feedback WHERE created_at >= ? GROUP BY rating", (week_ago,))
            )
            by_mode = self._counts(con.execute("SELECT COALESCE(mode, ''), rating, COUNT(*) FROM feedback GROUP BY 1, 2"))
            by_gen = self._counts(con.execute("SELECT generation, rating, COUNT(*) FROM feedback GROUP BY 1, 2"))
            commented, first, last = con.execute(
                "SELECT COUNT(NULLIF(TRIM(COALESCE(comment, '')), '')), MIN(created_at), MAX(created_at) FROM feedback"
            ).fetchone()
        return FeedbackStats(
            all=overall.get("", Counts()),
            last_7_days=recent.get("", Counts()),
            with_comment=int(commented),
            by_mode=by_mode,
            by_generation=by_gen,
            first=first,
            last=last,
        )

    @staticmethod
    def _counts(rows) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for key, rating, n in rows:
            out[key] = out.get(key, Counts()).add(rating, int(n))
        return out

    def _record(self, row: tuple) -> Feedback:
        (id_, created_at, rating, question, resolved, answer, citations, mode, comment, generation, client_ip) = row
        try:
            cites = json.loads(citations)
            if not isinstance(cites, list):
                raise ValueError("citations is not a list")
        except ValueError as exc:
            raise self._file.damaged(f"row {id_}: {exc}") from exc
        return Feedback(
            rating=rating,
            question=question,
            resolved_question=resolved,
            answer=answer,
            created_at=created_at,
            generation=generation,
            citations=tuple(cites),
            mode=mode,
            comment=comment,
            client_ip=client_ip,
            id=id_,
        )
