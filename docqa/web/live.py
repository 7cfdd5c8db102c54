"""Hot reload: the server follows the index's live generation.

``LiveEngine`` stands in for the engine it holds.  A watcher thread looks at
the live generation every ``interval`` seconds; when ``docqa ingest``,
``docqa remove`` or ``docqa rollback`` has switched it, a new engine is built
over it (the embedding model is shared, nothing is re-embedded) and swapped in
between requests.  Every call goes to the engine current when it starts, so an
answer in flight (a stream too) finishes on the generation it started on.  A
generation that fails to load is logged and the old one keeps serving."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from docqa.engine import Engine

log = logging.getLogger(__name__)
RELOAD_INTERVAL = 1.0  # seconds between looks at the live generation


class LiveEngine:
    """``engine`` now; ``build()`` makes the engine over whatever generation is
    live; ``live()`` names it (cheap: reads one small file)."""

    def __init__(
        self,
        engine: Engine,
        build: Callable[[], Engine],
        live: Callable[[], str | None],
        interval: float = RELOAD_INTERVAL,
    ):
        self._engine = engine
        self._build = build
        self._live = live
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0

    @property
    def current(self) -> Engine:
        return self._engine

    def __getattr__(self, name: str):
        return getattr(self._engine, name)  # ask, stream, check, info, collection, …: the current engine's

    def refresh(self) -> bool:
        """Switch to the live generation if it changed; True when it did."""
        with self._lock:
            live = self._live()
            if live is None or live == self._engine.index.generation:
                return False
            try:
                engine = self._build()
                engine.warmup()
            except Exception as exc:  # a broken generation must not take the server down
                log.error("could not load index generation %s (%s); still serving %s", live, exc, self._engine.index.generation)
                return False
            old, self._engine = self._engine.index.generation, engine
            self.reloads += 1
            log.warning("index generation %s is live (was %s)", engine.index.generation, old)
            return True

    def start(self) -> LiveEngine:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="docqa-reload", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # pragma: no cover - keep watching whatever happens
                log.exception("hot reload check failed")
