"""The collections one server answers from.

A collection is an index of its own: the default one at ``$DOCQA_HOME/index``
(or ``--index``), a named one at ``$DOCQA_HOME/collections/<name>`` (made by
``docqa ingest --collection NAME``).  Each has its own manifest, title,
example questions and refusal wording.  ``Shelf`` hands out the engine of a
collection by name: the default one is open from the start, a named one is
opened the first time it is asked for (so a collection ingested while the
server runs is served without a restart) and then kept, following its own
index generations (hot reload)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from docqa.engine import Engine
from docqa.errors import IndexNotFound, NotFound
from docqa.settings import DEFAULT_COLLECTION, check_collection_name


class Shelf:
    """``default``: the default collection's engine; ``open(name)``: the engine
    of a named collection (raises ``IndexNotFound`` when it has no index);
    ``names()``: the collections that exist on disk, default first."""

    def __init__(
        self,
        default: Engine,
        open: Callable[[str], Engine] | None = None,
        names: Callable[[], list[str]] | None = None,
    ):
        self._wrap: Callable[[str, Engine], Engine] = lambda name, engine: engine  # see wrap_with
        self._engines: dict[str, Engine] = {DEFAULT_COLLECTION: default}
        self._open = open
        self._names = names or (lambda: [DEFAULT_COLLECTION])
        self._lock = threading.Lock()

    @property
    def default(self) -> Engine:
        return self._engines[DEFAULT_COLLECTION]

    def get(self, name: str | None = None) -> Engine:
        """The engine of collection ``name`` (None or "" or "default": the
        default one).  ``BadRequest`` for a malformed name, ``NotFound`` (with
        the collections there are) for one that does not exist."""
        name = check_collection_name(name)
        engine = self._engines.get(name)
        if engine is not None:
            return engine
        with self._lock:
            if name in self._engines:
                return self._engines[name]
            if self._open is not None:
                try:
                    engine = self._wrap(name, self._open(name))
                except IndexNotFound:
                    engine = None
                if engine is not None:
                    self._engines[name] = engine
                    return engine
        raise NotFound(
            f"no collection {name!r}; the collections are: {', '.join(self.names())} "
            f"(make one with `docqa ingest --collection {name} PATH`)"
        )

    def wrap_with(self, wrap: Callable[[str, Engine], Engine]) -> None:
        """Wrap every engine, open or opened later (``MeteredEngine``, for one)."""
        with self._lock:
            self._wrap = wrap
            self._engines = {name: wrap(name, engine) for name, engine in self._engines.items()}

    def loaded(self) -> dict[str, Engine]:
        """The collections opened so far (the default one first)."""
        return dict(self._engines)

    def names(self) -> list[str]:
        return list(dict.fromkeys([DEFAULT_COLLECTION, *self._names(), *self._engines]))

    def close(self) -> None:
        for engine in self._engines.values():
            stop = getattr(engine, "stop", None)
            if callable(stop):
                stop()


def as_shelf(served: Shelf | Engine) -> Shelf:
    """``served`` as a shelf: an engine alone is a shelf of one (the default) collection."""
    return served if isinstance(served, Shelf) else Shelf(served)
