"""MilvusStore against milvus-lite (a .db folder under tmp): sync, dense and
BM25 search, and BM25 parity with DocQA's Lucene BM25."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from docqa.errors import DocQAError  # noqa: E402
from docqa.index.milvus_store import MilvusStore, collection_name, encode_term, terms_text  # noqa: E402

REPORT = Path(__file__).resolve().parents[1] / "data" / "report" / "000_568de89a103af217.txt"


@pytest.fixture(scope="module")
def lite(tmp_path_factory):
    """One milvus-lite database for the module; each test uses its own collection."""
    from milvus_lite.server_manager import server_manager_instance
    from pymilvus import MilvusClient

    path = str(tmp_path_factory.mktemp("milvus") / "docqa.db")
    client = MilvusClient(path)
    yield path, client
    client.close()
    server_manager_instance.release_server(path)


def store(lite, name: str, dim: int) -> MilvusStore:
    path, client = lite
    return MilvusStore(path, name, dim, client=client)


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def lucene_bm25(docs: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """DocQA's BM25 (Lucene's: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1 (1 - b + b dl / avgdl));
    a chunk without terms has length 1)."""
    lengths = [len(d) or 1 for d in docs]
    n, avgdl = len(docs), sum(lengths) / len(docs)
    df = Counter(t for d in docs for t in set(d))
    out = np.zeros(n)
    for row, d in enumerate(docs):
        tf = Counter(d)
        for t in query:
            if t in tf:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                out[row] += idf * tf[t] / (tf[t] + k1 * (1 - b + b * lengths[row] / avgdl))
    return out


def test_sync_inserts_deletes_and_adds_only_the_missing_ids(lite):
    vecs = unit_vectors(40, 8)
    asked: list[list[int]] = []

    def rows(ids):
        asked.append(list(ids))
        return vecs[ids], [[f"t{i}", "共同"] for i in ids]

    s = store(lite, "docqa_sync", 8)
    assert s.ids() == set()  # no collection yet: an empty store, nothing created
    assert s.sync(list(range(30)), rows, batch=7) == (30, 0)
    assert s.ids() == set(range(30))
    assert max(len(a) for a in asked) == 7
    assert s.sync(list(range(10, 30)), rows) == (0, 10)
    assert s.ids() == set(range(10, 30))
    assert s.sync(list(range(10, 40)), rows) == (10, 0)
    assert s.ids() == set(range(10, 40))
    asked.clear()
    assert s.sync(list(range(10, 40)), rows) == (0, 0)
    assert asked == []  # nothing to do: rows() is not called
    # every chunk holds its own vector and terms after the changes
    assert [i for i, _ in s.dense(vecs[35], 1)] == [35]
    assert [i for i, _ in s.lexical(["t12"], 3)] == [12]
    assert s.lexical(["t5"], 3) == []  # deleted
    s.drop()
    assert s.ids() == set()


def test_dense_is_the_exact_inner_product_ranking(lite):
    vecs = unit_vectors(60, 16, seed=1)
    ids = list(range(100, 160))
    s = store(lite, "docqa_dense", 16)
    s.sync(ids, lambda b: (vecs[[i - 100 for i in b]], [["x"]] * len(b)))
    for q in unit_vectors(4, 16, seed=2):
        scores = vecs @ q
        order = np.argsort(-scores)
        got = s.dense(q, 10)
        assert [i for i, _ in got] == [ids[r] for r in order[:10]]
        assert np.allclose([sc for _, sc in got], scores[order[:10]], atol=1e-5)
        skip = frozenset(ids[r] for r in order[:3])
        assert [i for i, _ in s.dense(q, 5, exclude=skip)] == [ids[r] for r in order[3:8]]
    assert s.dense(vecs[0], 0) == []


def test_lexical_ranks_the_passage_with_the_terms_first(lite):
    docs = [
        ["上海", "研发", "机构", "备案"],
        ["长三角", "创新", "联合体", "第二批", "创新"],
        ["静安区", "链主", "企业", "3.5%", "c++"],
        ["大飞机", "产业", "集群", "c"],
        ["上海", "产业", "集群", "企业"],
    ]
    s = store(lite, "docqa_lexical", 4)
    s.sync(list(range(len(docs))), lambda b: (unit_vectors(len(b), 4), [docs[i] for i in b]))
    got = s.lexical(["创新", "联合体"], 5)
    assert [i for i, _ in got] == [1]
    assert got[0][1] > 0
    assert [i for i, _ in s.lexical(["上海", "研发"], 5)][0] == 0
    assert s.lexical(["创新", "联合体"], 5, exclude=frozenset({1})) == []
    assert [i for i, _ in s.lexical(["上海", "研发"], 5, exclude=frozenset({0}))] == [4]
    # terms with punctuation are whole tokens: "c++" is not "c"
    assert [i for i, _ in s.lexical(["c++"], 5)] == [2]
    assert [i for i, _ in s.lexical(["3.5%"], 5)] == [2]
    assert [i for i, _ in s.lexical(["c"], 5)] == [3]
    assert s.lexical(["从未出现"], 5) == []
    assert s.lexical([], 5) == []


def chinese_corpus(n: int = 120) -> list[list[str]]:
    from docqa.index.tokenize import Segmenter

    text = re.sub(r"\s+", "", REPORT.read_text(encoding="utf-8").replace("**", ""))
    seg = Segmenter()
    return [seg.terms(text[i : i + 30 + (i % 5) * 12]) for i in range(0, 17 * n, 17)][:n]


QUERIES = [
    ["上海", "累计", "备案", "新型", "研发", "机构"],
    ["第二批", "长三角", "创新", "联合体"],
    ["静安区", "首批", "链主", "企业"],
    ["大", "飞机", "产业", "集群"],
    ["人工智能", "生物医药", "集成电路"],
    ["创新", "创新", "联合体"],  # a term asked twice counts twice
]


def assert_parity(s: MilvusStore, ids: list[int], docs: list[list[str]]) -> None:
    for q in QUERIES:
        ref = lucene_bm25(docs, q)
        order = sorted((r for r in range(len(ids)) if ref[r] > 0), key=lambda r: (-ref[r], ids[r]))
        got = s.lexical(q, len(ids))
        assert [i for i, _ in got[:5]] == [ids[r] for r in order[:5]], q
        assert len(got) == len(order)
        assert np.allclose([sc for _, sc in got[:5]], [ref[r] for r in order[:5]], rtol=1e-5), q


def test_bm25_matches_docqa_lucene_bm25(lite):
    docs = chinese_corpus()
    docs[50] = []  # a chunk of stopwords only
    s = store(lite, collection_name("parity-test"), 4)
    vecs = unit_vectors(len(docs) + 20, 4)
    rows = lambda b: (vecs[b], [docs[i] for i in b])
    s.sync(list(range(100)), rows)
    assert_parity(s, list(range(100)), docs[:100])
    # after an incremental change (new chunks, removed chunks) the statistics are still the whole collection's
    live = list(range(10, len(docs)))
    assert s.sync(live, rows) == (20, 10)
    assert_parity(s, live, docs[10:])


def test_bad_uris_say_what_to_fix(tmp_path):
    for uri in ["ftp://milvus:19530", str(tmp_path / "docqa.sqlite"), ""]:
        with pytest.raises(DocQAError, match="DOCQA_MILVUS_URI"):
            MilvusStore(uri, "docqa_x", 4)
    with pytest.raises(DocQAError, match="not a valid Milvus collection name"):
        MilvusStore(str(tmp_path / "a.db"), "docqa-x", 4)
    down = MilvusStore("http://127.0.0.1:9", "docqa_x", 4, timeout=2)
    with pytest.raises(DocQAError, match=r"cannot reach Milvus at http://127\.0\.0\.1:9 .*DOCQA_MILVUS_URI.*start the server"):
        down.ids()
    (tmp_path / "file").write_text("")
    blocked = MilvusStore(str(tmp_path / "file" / "docqa.db"), "docqa_x", 4)
    with pytest.raises(DocQAError, match="milvus-lite at .*DOCQA_MILVUS_URI"):
        blocked.ids()


def test_terms_are_one_token_each():
    assert encode_term("上海") == "上海"
    assert encode_term("gpt4") == "gpt4"
    assert encode_term("c++") != encode_term("c") and re.fullmatch(r"\w+", encode_term("c++"))
    assert encode_term("a_b") != "a_b"  # '_' only appears in encoded terms
    long = terms_text(["上海"] * 20000, max_bytes=1000)
    assert len(long.encode()) <= 1000 and set(long.split()) == {"上海"}
    assert collection_name("report") == "docqa_report"
    assert collection_name("a-b") != collection_name("a_b")
