"""The live rows of an index generation, by chunk id and by document id:
where each chunk is (segment, row), and tables that read chunks, sentence
vectors and documents from their segments when asked for."""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import numpy as np

from docqa.index.segment import Segment
from docqa.records import Chunk, Document

T = TypeVar("T")


class Rows:
    """Where each chunk id lives: (segment, row), and which ids are live."""

    def __init__(self, segments: list[Segment], deleted: frozenset[int]):
        ids = [s.ids for s in segments]
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        seg = (
            np.concatenate([np.full(len(s.ids), i, np.int32) for i, s in enumerate(segments)]) if ids else np.zeros(0, np.int32)
        )
        row = np.concatenate([np.arange(len(s.ids), dtype=np.int64) for s in segments]) if ids else np.zeros(0, np.int64)
        order = np.argsort(all_ids, kind="stable")
        self.ids, self.seg, self.row = all_ids[order], seg[order], row[order]
        self.segments = segments
        self.deleted = deleted
        live = ~np.isin(self.ids, np.fromiter(deleted, np.int64, len(deleted))) if deleted else np.ones(len(self.ids), bool)
        self.live = self.ids[live]

    def find(self, cid: int) -> tuple[Segment, int] | None:
        i = int(np.searchsorted(self.ids, cid))
        if i >= len(self.ids) or self.ids[i] != cid or cid in self.deleted:
            return None
        return self.segments[int(self.seg[i])], int(self.row[i])


class ByChunkId(Generic[T]):
    """Something of each live chunk, by chunk id, read from its segment when asked for."""

    def __init__(self, rows: Rows, read: Callable[[Segment, int], T]):
        self._rows = rows
        self._read = read

    def __getitem__(self, cid: int) -> T:
        found = self._rows.find(int(cid))
        if found is None:
            raise KeyError(cid)
        return self._read(*found)

    def get(self, cid: int, default=None):
        found = self._rows.find(int(cid))
        return default if found is None else self._read(*found)

    def __contains__(self, cid: object) -> bool:
        return isinstance(cid, (int, np.integer)) and self._rows.find(int(cid)) is not None

    def __len__(self) -> int:
        return len(self._rows.live)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.live.tolist())

    def keys(self) -> Iterator[int]:
        return iter(self)


class ChunkTable(ByChunkId[Chunk]):
    """The live chunks by id."""

    def __init__(self, rows: Rows):
        super().__init__(rows, Segment.chunk)

    def items(self) -> Iterator[tuple[int, Chunk]]:
        """Every live chunk, in id order (each segment read front to back)."""
        deleted = self._rows.deleted

        def rows(seg: Segment) -> Iterator[tuple[int, Chunk]]:
            return ((cid, c) for cid, c in zip(seg.ids.tolist(), seg.iter_chunks()) if cid not in deleted)

        return heapq.merge(*(rows(seg) for seg in self._rows.segments), key=lambda pair: pair[0])

    def values(self) -> Iterator[Chunk]:
        return (c for _, c in self.items())


class DocTable:
    """The live documents by id, read from their segments when asked for (the
    last few read are kept: an answer's citations mostly share a document)."""

    KEEP = 16

    def __init__(self, listing: dict[str, dict], segments: dict[str, Segment]):
        self._listing = listing
        self._segments = segments
        self._recent: OrderedDict[str, Document] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, doc_id: str) -> Document:
        with self._lock:
            if doc_id in self._recent:
                self._recent.move_to_end(doc_id)
                return self._recent[doc_id]
        doc = self._segments[self._listing[doc_id]["segment"]].document(doc_id)
        with self._lock:
            self._recent[doc_id] = doc
            while len(self._recent) > self.KEEP:
                self._recent.popitem(last=False)
        return doc

    def get(self, doc_id: str, default=None):
        return self[doc_id] if doc_id in self._listing else default

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._listing

    def __len__(self) -> int:
        return len(self._listing)

    def __iter__(self) -> Iterator[str]:
        return iter(self._listing)

    def keys(self) -> Iterator[str]:
        return iter(self._listing)

    def items(self) -> Iterator[tuple[str, Document]]:
        return ((d, self[d]) for d in self._listing)

    def values(self) -> Iterator[Document]:
        return (self[d] for d in self._listing)
