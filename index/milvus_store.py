"""Dense vectors and BM25 terms of an index's chunks in one Milvus collection.

``DOCQA_MILVUS_URI`` names the Milvus: a local path ending in ``.db`` runs
milvus-lite inside this process (tests, small corpora), an ``http(s)://`` URI
a Milvus server or cluster.  The collection holds, per chunk (primary key =
DocQA's chunk id)::

    id      INT64 primary key
    vector  FLOAT_VECTOR(dim), FLAT index, inner product (exact, like FAISS IndexFlatIP)
    terms   VARCHAR: the chunk's BM25 terms (DocQA's own jieba segmentation
            and stopwords) joined by single spaces
    sparse  SPARSE_FLOAT_VECTOR made by Milvus's BM25 function over ``terms``
            (SPARSE_INVERTED_INDEX, metric BM25, k1 = 1.2, b = 0.75)

so Milvus's BM25 sees exactly the terms DocQA's own BM25 does.  A server
splits ``terms`` with the whitespace tokenizer; milvus-lite has none (only
"standard" and "jieba"), so there the standard tokenizer (``\\w+``, lower
case) is used and every term that is not one run of word characters
("3.5%", "c++", "gpt-4o") is written as one hex-encoded word (``_x…``); plain
terms contain no ``_``, so nothing collides.  The chunk texts stay local: the
hybrid retriever fuses the two ranked lists returned here, as it does today.

Chunk ids are taken as immutable: an id names one chunk for the life of the
index (the updater allocates new ids above the largest).  A rebuild that
numbers chunks from 0 again must ``drop()`` the collection first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from docqa.errors import DocQAError, ModelMismatch

BM25_K1 = 1.2
BM25_B = 0.75
TERMS_MAX_BYTES = 65535  # Milvus's largest VARCHAR; a chunk (<= ~600 characters) needs a few KB at most
MAX_TOPK = 16384  # Milvus's limit on a search's limit
EXCLUDE_MAX = 16384  # ids per `id not in [...]` filter (its expression stays well below the gRPC message limit)
DELETE_BATCH = 1000
EMPTY = "_e"  # the terms of a chunk without any: one token no query has, so it counts as length 1 (as in DocQA's BM25)
FIX_URI = "check DOCQA_MILVUS_URI (a local path ending in .db for milvus-lite, or http(s)://host:19530 for a server)"

_PLAIN = re.compile(r"[^\W_]+")  # one run of word characters without '_': what milvus-lite's \w+ keeps whole
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")  # what Milvus accepts as a collection name


def collection_name(name: str) -> str:
    """The Milvus collection for a DocQA collection name (1-40 of ``a-z 0-9 - _``):
    ``docqa_<name>``, with '-' (which Milvus refuses) made '_' plus a short
    hash so that "a-b" and "a_b" stay apart."""
    if re.fullmatch(r"[A-Za-z0-9_]+", name):
        return f"docqa_{name}"
    import hashlib

    safe = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return f"docqa_{safe}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def encode_term(term: str) -> str:
    """One BM25 term as one token for both tokenizers (see the module docstring)."""
    if _PLAIN.fullmatch(term) and term == term.lower():
        return term
    return "_x" + term.encode("utf-8").hex()


def terms_text(terms: Iterable[str], max_bytes: int = TERMS_MAX_BYTES) -> str:
    """The ``terms`` field: encoded terms joined by single spaces, cut at a
    term boundary if it would exceed ``max_bytes`` of UTF-8 (it does not for
    chunks of DocQA's size; the cut only keeps an insert from failing)."""
    text = " ".join(encode_term(t) for t in terms if t and not t.isspace())
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    cut = raw[: max_bytes + 1].rfind(b" ")
    return raw[: max(cut, 0)].decode("utf-8")


class MilvusStore:
    """Dense vectors and BM25 text of an index's chunks in one Milvus collection.

    ``client``: a ``pymilvus.MilvusClient`` to use instead of connecting to
    ``uri`` (tests); otherwise the connection is made on first use.  ``token``:
    a server's credentials ("user:password" or an API key)."""

    def __init__(self, uri: str, collection: str, dim: int, client=None, token: str = "", timeout: float = 30.0):
        uri = str(uri).strip()
        if not uri:
            raise DocQAError(f"DOCQA_MILVUS_URI is empty; {FIX_URI}")
        if uri.startswith(("http://", "https://")):
            self.lite = False
        elif "://" in uri or not uri.endswith(".db"):
            raise DocQAError(f"DOCQA_MILVUS_URI {uri!r} is neither a local .db path nor an http(s) URI; {FIX_URI}")
        else:
            self.lite = True
        if not _NAME.fullmatch(collection):
            raise DocQAError(
                f"{collection!r} is not a valid Milvus collection name (letters, digits and '_', not starting with a digit)"
            )
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.uri, self.collection, self.dim = uri, collection, int(dim)
        self.token, self.timeout = token, timeout
        self._client = client
        self._ready = False
        self._lock = threading.RLock()  # connecting and creating the collection happen once

    def __repr__(self) -> str:
        return f"MilvusStore({self.uri!r}, {self.collection!r}, dim={self.dim})"

    # -- connection and schema ------------------------------------------------

    def _where(self) -> str:
        return f"milvus-lite at {self.uri}" if self.lite else f"Milvus at {self.uri}"

    def _fail(self, action: str, exc: Exception) -> DocQAError:
        why = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if self.lite:
            hint = (
                f"{FIX_URI}; the folder must be writable, and only one process at a time can open a milvus-lite "
                "database (use a Milvus server to share one between `docqa ingest` and `docqa serve`)"
            )
        else:
            hint = f"{FIX_URI} or start the server; set DOCQA_MILVUS_TOKEN if it needs credentials"
        return DocQAError(f"cannot {action} {self._where()} ({why}); {hint}")

    def _connect(self):
        with self._lock:
            return self._connect_locked()

    def _connect_locked(self):
        if self._client is not None:
            return self._client
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise DocQAError("DOCQA_VECTOR_STORE=milvus needs pymilvus: `pip install pymilvus milvus-lite`") from exc
        if self.lite:
            try:
                import milvus_lite  # noqa: F401
            except ImportError as exc:
                raise DocQAError(
                    f"DOCQA_MILVUS_URI {self.uri!r} is a local file: that needs `pip install milvus-lite`"
                ) from exc
            try:
                Path(self.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._fail("create", exc) from exc
        try:
            uri = str(Path(self.uri).expanduser()) if self.lite else self.uri
            self._client = MilvusClient(uri=uri, token=self.token, timeout=self.timeout)
        except Exception as exc:
            raise self._fail("open" if self.lite else "reach", exc) from exc
        return self._client

    def _call(self, action: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DocQAError:
            raise
        except Exception as exc:
            raise self._fail(action, exc) from exc

    def _schema_dim(self, client) -> int | None:
        info = self._call("read the collection from", client.describe_collection, self.collection)
        for f in info.get("fields", []):
            if f.get("name") == "vector":
                return int(f.get("params", {}).get("dim", 0))
        return None

    def _create(self, client) -> None:
        from pymilvus import DataType, Function, FunctionType

        analyzer = {"tokenizer": "standard"} if self.lite else {"tokenizer": "whitespace"}
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("terms", DataType.VARCHAR, max_length=TERMS_MAX_BYTES, enable_analyzer=True, analyzer_params=analyzer)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        bm25_fn = Function(
            name="terms_bm25", function_type=FunctionType.BM25, input_field_names="terms", output_field_names="sparse"
        )
        schema.add_function(bm25_fn)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        bm25 = {"bm25_k1": BM25_K1, "bm25_b": BM25_B}
        # pymilvus 3 sends index params as flat key-value pairs, which a server
        # reads; milvus-lite 3.2 reads only a JSON "params" pair (and would use
        # its default k1 = 1.5), so it gets them nested.
        params = {"params": bm25} if self.lite else bm25
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=params)
        self._call(
            "create a collection in", client.create_collection, self.collection, schema=schema, consistency_level="Strong"
        )
        # milvus-lite builds indexes in process: no need for pymilvus's polling (0.5 s an index)
        self._call("create the indexes in", client.create_index, self.collection, index, sync=not self.lite)

    def _ensure(self, create: bool, recreate_on_mismatch: bool = False):
        """The client, with the collection present and loaded; None when it is
        absent and ``create`` is false (an empty store)."""
        with self._lock:
            return self._ensure_locked(create, recreate_on_mismatch)

    def _ensure_locked(self, create: bool, recreate_on_mismatch: bool):
        client = self._connect()
        if self._ready:
            return client
        if self._call("reach", client.has_collection, self.collection):
            dim = self._schema_dim(client)
            if dim != self.dim:
                if not recreate_on_mismatch:
                    raise ModelMismatch(
                        f"the Milvus collection {self.collection} at {self.uri} holds {dim}-dimensional vectors, "
                        f"the embedding model gives {self.dim}; run `docqa ingest` to sync it (it is recreated)"
                    )
                self._call("drop the collection in", client.drop_collection, self.collection)
                self._create(client)
        elif create:
            self._create(client)
        else:
            return None
        self._call("load the collection in", client.load_collection, self.collection)
        self._ready = True
        return client

    # -- the store --------------------------------------------------------------

    def ids(self) -> set[int]:
        """Chunk ids the collection holds (none when it does not exist yet)."""
        client = self._ensure(create=False)
        if client is None:
            return set()
        return self._ids(client)

    def _ids(self, client) -> set[int]:
        out: set[int] = set()

        def read():
            if self.lite:  # one unbounded query (milvus-lite has no result window, and its iterator logs a warning)
                out.update(int(r["id"]) for r in client.query(self.collection, filter="id >= 0", output_fields=["id"]))
                return
            it = client.query_iterator(self.collection, batch_size=5000, filter="id >= 0", output_fields=["id"])
            try:
                while batch := it.next():
                    out.update(int(r["id"]) for r in batch)
            finally:
                it.close()

        self._call("read the ids from", read)
        return out

    def sync(
        self,
        ids: list[int],
        rows: Callable[[list[int]], tuple[np.ndarray, list[list[str]]]],
        batch: int = 1000,
    ) -> tuple[int, int]:
        """Make the collection hold exactly `ids`: insert the missing ones
        (rows(batch_ids) gives their (n, dim) float32 L2-normalised vectors and
        their BM25 terms, already segmented) in batches, delete the ones not in
        `ids`; returns (inserted, deleted).

        milvus-lite keeps BM25 statistics per segment (one per sync) and counts
        deleted rows in them, so its scores drift from DocQA's after an
        incremental change; there a change rewrites the whole collection (all
        of ``ids`` through ``rows``) as one segment.  The counts returned are
        the change all the same."""
        with self._lock:
            return self._sync_locked(ids, rows, batch)

    def _sync_locked(self, ids: list[int], rows: Callable, batch: int) -> tuple[int, int]:
        client = self._ensure(create=True, recreate_on_mismatch=True)
        have = self._ids(client)
        want = dict.fromkeys(int(i) for i in ids)  # ordered, without repeats
        if any(i < 0 for i in want):
            raise ValueError("chunk ids must be non-negative")
        missing = [i for i in want if i not in have]
        stale = sorted(have - want.keys())
        if not missing and not stale:
            return 0, 0

        if self.lite and have:
            self._call("drop the collection in", client.drop_collection, self.collection)
            self._create(client)
            self._call("load the collection in", client.load_collection, self.collection)
            self._insert(client, list(want), rows, batch)
        else:
            for start in range(0, len(stale), DELETE_BATCH):
                self._call("delete from", client.delete, self.collection, ids=stale[start : start + DELETE_BATCH])
            self._insert(client, missing, rows, batch)
        self._call("flush", client.flush, self.collection)
        return len(missing), len(stale)

    def _insert(self, client, ids: list[int], rows: Callable, batch: int) -> None:
        step = max(1, batch)
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            vectors, terms = rows(part)
            vectors = np.asarray(vectors, dtype=np.float32)
            if vectors.shape != (len(part), self.dim) or len(terms) != len(part):
                got = f"vectors {vectors.shape} and {len(terms)} term lists"
                raise ValueError(f"rows() gave {got} for {len(part)} ids of dimension {self.dim}")
            texts = [terms_text(t) or EMPTY for t in terms]
            data = [{"id": cid, "vector": vec, "terms": text} for cid, vec, text in zip(part, vectors.tolist(), texts)]
            self._call("insert into", client.insert, self.collection, data)

    def _filter(self, exclude: frozenset[int]) -> str:
        if not exclude:
            return ""
        if len(exclude) > EXCLUDE_MAX:
            raise ValueError(f"at most {EXCLUDE_MAX} excluded ids per search, got {len(exclude)}")
        return f"id not in [{', '.join(str(int(i)) for i in sorted(exclude))}]"

    def _search(self, data: list, field: str, metric: str, k: int, exclude: frozenset[int]) -> list[tuple[int, float]]:
        client = self._ensure(create=False)
        if client is None or k <= 0:
            return []
        hits = self._call(
            "search",
            client.search,
            self.collection,
            data=data,
            anns_field=field,
            limit=min(int(k), MAX_TOPK),
            filter=self._filter(exclude),
            search_params={"metric_type": metric},
            output_fields=["id"],  # milvus-lite returns every field, vectors too, for []
        )
        found = [(int(h["id"]), float(h["distance"])) for h in hits[0]] if hits else []
        return sorted(found, key=lambda p: (-abs(p[1]) if metric == "BM25" else -p[1], p[0]))  # ties by id, like DocQA

    def dense(self, qvec: np.ndarray, k: int, exclude: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """The ``k`` chunks of largest inner product with ``qvec``, best first."""
        q = np.asarray(qvec, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query vector has dimension {q.shape[0]}, the collection {self.dim}")
        return self._search([q.tolist()], "vector", "IP", k, exclude)

    def lexical(self, terms: list[str], k: int, exclude: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """BM25 over the question's terms (already segmented), best first; only
        chunks with a positive score."""
        query = terms_text(terms)
        if not query:
            return []
        hits = self._search([query], "sparse", "BM25", k, exclude)
        # Milvus scores tf * (k1 + 1) / (tf + k1 * (…)), Lucene and DocQA's BM25
        # tf / (tf + k1 * (…)): the same ranking, scaled by k1 + 1, undone here.
        # A BM25 score is never negative: milvus-lite 3.2 reports it negated
        # (its internal smaller-is-better distance), a server as it is.
        return [(cid, abs(score) / (1 + BM25_K1)) for cid, score in hits if score != 0]

    def drop(self) -> None:
        """Delete the collection (nothing happens when there is none)."""
        with self._lock:
            client = self._connect()
            if self._call("reach", client.has_collection, self.collection):
                self._call("drop the collection in", client.drop_collection, self.collection)
            self._ready = False
