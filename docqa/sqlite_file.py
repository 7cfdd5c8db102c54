"""One SQLite file of DocQA's own records (ratings, the admin audit log).

Every call opens its own connection, so a store is safe to use from the
server's worker threads and from several processes (SQLite locks the file;
WAL lets readers and a writer work at once).  The schema is created with the
first write and versioned with ``PRAGMA user_version``.  SQLite and file
system errors become the store's own ``DocQAError``, saying what to do."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from docqa.errors import DocQAError


class SQLiteFile:
    """``name``: how messages call the file ("the feedback database");
    ``error``: the exception raised; ``unwritable``: extra advice when the
    file cannot be created."""

    def __init__(
        self,
        path: Path,
        schema: str,
        version: int,
        name: str,
        error: type[DocQAError],
        unwritable: str = "",
        timeout: float = 10.0,
    ):
        self.path = Path(path)
        self.schema, self.version = schema, version
        self.name, self.error, self.unwritable = name, error, unwritable
        self.timeout = timeout
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.path.is_file()

    @contextlib.contextmanager
    def connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        """A connection of its own, with the schema in place (``create``: make
        the file and its folder when missing)."""
        con = None
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=self.timeout)
            self._prepare(con)
            yield con
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        except OSError as exc:
            raise self.error(
                f"cannot create {self.name} {self.path} ({exc}); make {self.path.parent} writable{self.unwritable}"
            ) from exc
        finally:
            if con is not None:
                con.close()

    def damaged(self, detail: str) -> DocQAError:
        return self.error(
            f"{self.name} {self.path} is damaged ({detail}); move it away "
            f"(`mv {self.path} {self.path}.bad`) and DocQA starts a new one"
        )

    def _prepare(self, con: sqlite3.Connection) -> None:
        """Check the schema version; create the schema in a new (or emptied) file."""
        found = con.execute("PRAGMA user_version").fetchone()[0]
        if found > self.version:
            raise self.error(
                f"{self.name} {self.path} was written by a newer DocQA (schema {found}, this one "
                f"knows {self.version}); upgrade DocQA, or move the file away to start a new one"
            )
        if found < self.version:
            with self._lock:  # other processes: SQLite's own lock, and the schema is idempotent
                con.execute("PRAGMA journal_mode=WAL")  # kept in the file: readers never wait for a writer
                con.executescript(self.schema)

    def _failed(self, exc: sqlite3.Error) -> DocQAError:
        text = str(exc)
        if "not a database" in text or "malformed" in text or not isinstance(exc, sqlite3.OperationalError):
            return self.damaged(text)
        if "locked" in text or "busy" in text:
            return self.error(
                f"{self.name} {self.path} is locked ({text}); close the program holding it "
                "(an open `sqlite3` shell, a second server writing the same file) and try again"
            )
        return self.error(
            f"cannot use {self.name} {self.path} ({text}); make it and {self.path.parent} writable, "
            f"or move the file away (`mv {self.path} {self.path}.bad`) and DocQA starts a new one"
        )
