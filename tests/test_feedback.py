"""Users' 👍 / 👎: the SQLite store beside the index, ``POST /api/feedback`` over
a running server, and ``docqa feedback stats`` / ``export`` (whose lines become
eval questions once a maintainer fills in the answers)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from docqa.errors import FeedbackStoreError
from docqa.feedback import FILE_NAME, Feedback, FeedbackStore
from docqa.feedback.export import eval_line
from docqa.settings import Settings
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    running_server,
    tiny_engine,
)

CITATION = {
    "n": 1,
    "doc": "park.md",
    "title": "星河科技园年度报告",
    "section": "研发机构",
    "start": 10,
    "end": 32,
    "page": None,
    "quote": "园区累计备案新型研发机构42家",
    "boxes": [],
    "low_confidence": False,
}


def rating(rating="down", question="它有多少家？", **kw) -> Feedback:
    fields = {
        "resolved_question": FACT_Q,
        "answer": "园区累计备案新型研发机构42家[1]。",
        "created_at": "2025-03-01T08:00:00+00:00",
        "generation": "gen-a",
        "citations": (CITATION,),
        "mode": "extractive",
    } | kw
    return Feedback(rating=rating, question=question, **fields)


# --- the store ---------------------------------------------------------------------------------


def test_store_adds_and_reads_back_every_field(tmp_path):
    store = FeedbackStore(tmp_path / "index" / FILE_NAME)
    assert store.records() == [] and not store.exists()  # reading creates nothing
    first = store.add(rating(comment="数字不对"))
    second = store.add(rating("up", "园区占地多少？", created_at="2025-03-05T09:30:00+00:00", citations=()))
    assert (first, second) == (1, 2)
    got = store.records()
    assert got[0] == rating(comment="数字不对", id=1)
    assert got[1].rating == "up" and got[1].citations == () and got[1].client_ip is None
    assert [r.id for r in store.records(rating="down")] == [1]
    assert [r.id for r in store.records(since="2025-03-02")] == [2]
    assert [r.id for r in store.records(since=datetime(2025, 3, 5, 9, 30, tzinfo=UTC))] == [2]
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_store_stats_count_ratings_modes_generations_and_the_last_week(tmp_path):
    store = FeedbackStore(tmp_path / FILE_NAME)
    assert store.stats().all.total == 0
    store.add(rating(created_at="2025-01-01T00:00:00+00:00", comment="  "))  # a blank comment is no comment
    store.add(rating(created_at="2025-03-01T00:00:00+00:00", comment="引用错了", generation="gen-b"))
    store.add(rating("up", created_at="2025-03-02T00:00:00+00:00", mode="llm", generation="gen-b"))
    store.add(rating("up", created_at="2025-03-03T00:00:00+00:00", mode=None, generation="gen-b"))
    s = store.stats(now=datetime(2025, 3, 6, tzinfo=UTC))
    assert (s.all.up, s.all.down, s.all.total) == (2, 2, 4)
    assert (s.last_7_days.up, s.last_7_days.down) == (2, 1)
    assert s.with_comment == 1
    assert {m: (c.up, c.down) for m, c in s.by_mode.items()} == {"extractive": (0, 2), "llm": (1, 0), "": (1, 0)}
    assert {g: (c.up, c.down) for g, c in s.by_generation.items()} == {"gen-a": (0, 1), "gen-b": (2, 1)}
    assert (s.first, s.last) == ("2025-01-01T00:00:00+00:00", "2025-03-03T00:00:00+00:00")


def test_store_is_safe_from_many_threads(tmp_path):
    store = FeedbackStore(tmp_path / FILE_NAME)
    ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        try:
            for i in range(20):
                new = store.add(rating(comment=f"{t}-{i}"))
                with lock:
                    ids.append(new)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(ids) == list(range(1, 121))
    assert sorted(r.comment for r in store.records()) == sorted(f"{t}-{i}" for t in range(6) for i in range(20))


def test_a_corrupt_database_is_a_clear_error_saying_to_move_it_away(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not SQLite, it is a text file that happens to have the name" * 20)
    store = FeedbackStore(path)
    for call in (lambda: store.add(rating()), store.records, store.stats):
        with pytest.raises(FeedbackStoreError) as err:
            call()
        message = str(err.value)
        assert str(path) in message and "damaged" in message and f"mv {path} {path}.bad" in message


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "index"
    blocker.write_text("a file where the index folder should be", encoding="utf-8")
    with pytest.raises(FeedbackStoreError, match="cannot create the feedback database .*writable"):
        FeedbackStore(blocker / FILE_NAME).add(rating())


def test_a_newer_schema_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / FILE_NAME
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 7")
    con.close()
    with pytest.raises(FeedbackStoreError, match="newer DocQA .*upgrade DocQA, or move the file away"):
        FeedbackStore(path).add(rating())


def test_feedback_survives_a_new_index_generation(tmp_path):
    """Re-ingest writes new generation folders and prunes old ones; the feedback
    file beside them stays, and its rows keep the generation that answered."""
    from docqa.factory import make_ingestor
    from docqa.index.store import live_generation
    from tests.fakes import FakeEmbedder
    from tests.test_web_support import write_corpus

    settings = Settings(home=tmp_path / "home")
    corpus = write_corpus(tmp_path / "corpus")
    ingestor = make_ingestor(settings, FakeEmbedder())
    ingestor.ingest([corpus])
    first = live_generation(settings.index_path).name
    store = FeedbackStore.beside_index(settings.index_path)
    store.add(rating(generation=first))
    for _ in range(3):  # three rebuilds: the first generation is pruned
        ingestor.ingest([corpus], rebuild=True)
    assert not (settings.index_path / first).exists()
    assert live_generation(settings.index_path).name != first
    assert [r.generation for r in FeedbackStore.beside_index(settings.index_path).records()] == [first]


# --- POST /api/feedback ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feedback_server(tiny_engine, tmp_path_factory):
    """A server over the tiny engine whose feedback file is in a temporary index folder."""
    settings = Settings(home=tmp_path_factory.mktemp("feedback") / "home")
    with running_server(tiny_engine, settings) as url:
        yield url, FeedbackStore.beside_index(settings.index_path)


def test_post_feedback_stores_the_rating_with_time_and_generation_and_no_ip(tiny_engine, feedback_server):
    url, store = feedback_server
    answer = httpx.post(f"{url}/api/ask", json={"question": FACT_Q}).json()
    body = {
        "rating": "down",
        "question": answer["question"],
        "resolved_question": answer["resolved_question"],
        "answer": answer["answer"],
        "citations": answer["citations"],
        "mode": answer["mode"],
        "comment": "应该是2024年新增的数目",
    }
    before = datetime.now(UTC).replace(microsecond=0)
    r = httpx.post(f"{url}/api/feedback", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    new_id = r.json()["id"]
    assert r.json() == {"id": new_id} and isinstance(new_id, int)
    [stored] = [f for f in store.records() if f.id == new_id]
    assert stored.rating == "down" and stored.question == FACT_Q and stored.answer == answer["answer"]
    assert list(stored.citations) == answer["citations"] and stored.comment == "应该是2024年新增的数目"
    assert stored.mode == "extractive" and stored.generation == tiny_engine.info()["generation"] != ""
    assert before <= datetime.fromisoformat(stored.created_at) <= datetime.now(UTC)
    assert stored.created_at.endswith("+00:00")
    assert stored.client_ip is None
    con = sqlite3.connect(store.path)
    assert con.execute("SELECT COUNT(*) FROM feedback WHERE client_ip IS NOT NULL").fetchone()[0] == 0
    con.close()


def test_post_feedback_minimal_body_defaults_the_resolved_question(feedback_server):
    url, store = feedback_server
    r = httpx.post(f"{url}/api/feedback", json={"rating": "up", "question": "园区占地多少？", "answer": "120公顷[1]。"})
    assert r.status_code == 201, r.text
    [stored] = [f for f in store.records() if f.id == r.json()["id"]]
    assert stored.resolved_question == "园区占地多少？" and stored.citations == () and stored.mode is None


GOOD = {"rating": "down", "question": FACT_Q, "answer": "42家[1]。"}


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, '"rating" is required; "question" is required; "answer" is required'),
        ({**GOOD, "rating": "meh"}, 'rating must be "up" or "down", got \'meh\''),
        ({**GOOD, "rating": 1}, 'rating must be "up" or "down"'),
        ({**GOOD, "question": ""}, "question must not be empty"),
        ({**GOOD, "answer": "   "}, "answer must not be empty"),
        ({**GOOD, "question": 42}, "question must be a string"),
        ({**GOOD, "question": "问" * 1001}, "question has 1001 characters; at most 1000"),
        ({**GOOD, "answer": "答" * 20_001}, "answer has 20001 characters; at most 20000"),
        ({**GOOD, "comment": "评" * 1001}, "comment has 1001 characters; at most 1000"),
        ({**GOOD, "citations": "[1]"}, "citations must be a list of at most 20 citation objects"),
        ({**GOOD, "citations": [1, 2]}, "citations must be a list of at most 20 citation objects"),
        ({**GOOD, "citations": [CITATION] * 21}, "citations must be a list of at most 20"),
        ({**GOOD, "user": "bob"}, "unknown field(s) user; the fields are rating, question, resolved_question, answer"),
        (["down"], "must be a JSON object"),
    ],
)
def test_malformed_feedback_is_a_422_saying_what_to_change(feedback_server, body, message):
    url, store = feedback_server
    before = len(store.records())
    r = httpx.post(f"{url}/api/feedback", json=body)
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]
    assert len(store.records()) == before


def test_feedback_that_is_not_json_or_too_large_is_a_422(feedback_server):
    url, _ = feedback_server
    r = httpx.post(f"{url}/api/feedback", content=b"rating=down", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not JSON" in r.json()["error"]
    r = httpx.post(f"{url}/api/feedback", content=json.dumps({**GOOD, "comment": "x" * 300_000}))
    assert r.status_code == 422 and "larger than" in r.json()["error"]


def test_the_client_ip_is_stored_only_when_configured(tiny_engine, tmp_path):
    settings = Settings(home=tmp_path / "home", feedback_client_ip=True)
    with running_server(tiny_engine, settings) as url:
        r = httpx.post(f"{url}/api/feedback", json=GOOD)
    assert r.status_code == 201, r.text
    [stored] = FeedbackStore.beside_index(settings.index_path).records()
    assert stored.client_ip == "127.0.0.1"


def test_a_broken_feedback_database_does_not_break_answering(tiny_engine, tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings.index_path.mkdir(parents=True)
    (settings.index_path / FILE_NAME).write_bytes(b"garbage " * 100)
    with running_server(tiny_engine, settings) as url:
        rated = httpx.post(f"{url}/api/feedback", json=GOOD)
        asked = httpx.post(f"{url}/api/ask", json={"question": FACT_Q})
    assert rated.status_code == 503 and "is damaged" in rated.json()["error"] and "mv " in rated.json()["error"]
    assert asked.status_code == 200 and "42家" in asked.json()["answer"]


def test_openapi_documents_the_feedback_request(feedback_server):
    url, _ = feedback_server
    op = httpx.get(f"{url}/api/openapi.json").json()["paths"]["/api/feedback"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {
        "rating",
        "question",
        "resolved_question",
        "answer",
        "citations",
        "mode",
        "comment",
        "collection",
    }
    assert schema["required"] == ["rating", "question", "answer"] and schema["additionalProperties"] is False
    assert {"201", "422", "503"} <= set(op["responses"])


# --- docqa feedback stats / export -------------------------------------------------------------


@pytest.fixture
def cli_index(tmp_path, monkeypatch):
    index = tmp_path / "my-index"
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(index))
    return index


def invoke(*args):
    from docqa.cli import app

    return CliRunner().invoke(app, ["feedback", *args])


def test_cli_on_an_empty_store_prints_a_clear_line(cli_index):
    r = invoke("stats")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == (
        f"no feedback yet in {cli_index / FILE_NAME}; ratings arrive through POST /api/feedback "
        "(the 👍/👎 buttons of the chat window and the widget)"
    )
    r = invoke("export", "--out", str(cli_index.parent / "fb.jsonl"))
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr.startswith(f"no feedback yet in {cli_index / FILE_NAME}")
    assert not (cli_index.parent / "fb.jsonl").exists() and not (cli_index / FILE_NAME).exists()


def test_cli_stats_summarises(cli_index):
    store = FeedbackStore.beside_index(cli_index)
    store.add(rating(comment="数字不对"))
    store.add(rating("up", mode="llm", generation="gen-b"))
    store.add(rating("up", created_at=datetime.now(UTC).isoformat(timespec="seconds")))
    r = invoke("stats")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"3 ratings in {cli_index / FILE_NAME}, 2025-03-01T08:00:00+00:00 to ")
    assert "  all:           2 up, 1 down (33% down)" in lines
    assert "  last 7 days:   1 up, 0 down (0% down)" in lines
    assert "  with comment:  1 of 3 (33%)" in lines
    assert "  extractive     1 up, 1 down (50% down)" in lines and "  llm            1 up, 0 down (0% down)" in lines
    assert "  gen-a  1 up, 1 down (50% down)" in lines and "  gen-b  1 up, 0 down (0% down)" in lines


def test_cli_export_writes_disliked_answers_as_eval_questions_a_maintainer_finishes(cli_index, tmp_path):
    from docqa.errors import DocumentError
    from docqa.eval.questions import load_questions

    store = FeedbackStore.beside_index(cli_index)
    store.add(rating(comment="应该是42家，不是9家", client_ip="10.0.0.7"))
    store.add(rating("up"))
    store.add(rating(question="那占地呢？", resolved_question="星河科技园占地多少？", created_at="2025-04-01T00:00:00+00:00"))
    out = tmp_path / "out" / "feedback.jsonl"
    r = invoke("export", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert f"wrote 2 question(s) to {out}" in r.stderr and "refuses them until you finish each line" in r.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q["id"] for q in lines] == ["fb-1", "fb-3"]
    first = lines[0]
    assert {k: first[k] for k in ("question", "answers", "evidence", "answerable", "type")} == {
        "question": FACT_Q,
        "answers": [],
        "evidence": [],
        "answerable": True,
        "type": "feedback",
    }
    assert first["feedback"] == {
        "rating": "down",
        "asked": "它有多少家？",
        "comment": "应该是42家，不是9家",
        "answer": "园区累计备案新型研发机构42家[1]。",
        "citations": [CITATION],
        "mode": "extractive",
        "generation": "gen-a",
        "created_at": "2025-03-01T08:00:00+00:00",
    }
    assert "10.0.0.7" not in out.read_text(encoding="utf-8")  # the IP is never exported
    assert lines[1]["question"] == "星河科技园占地多少？" and lines[1]["feedback"]["asked"] == "那占地呢？"

    # unfinished lines are refused by the eval, naming the line and what is missing
    with pytest.raises(DocumentError, match=r"feedback.jsonl:1: an answerable question needs at least one fact"):
        load_questions(out)
    # a maintainer fills in the answers (or marks the question unanswerable): the eval loads them
    lines[0] |= {"answers": ["42家"], "evidence": ["园区累计备案新型研发机构42家"], "type": "numeric"}
    lines[1] |= {"answerable": False}
    out.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in lines), encoding="utf-8")
    loaded = load_questions(out)
    assert [(q.id, q.question, q.answers, q.answerable, q.type) for q in loaded] == [
        ("fb-1", FACT_Q, [["42家"]], True, "numeric"),
        ("fb-3", "星河科技园占地多少？", [], False, "feedback"),
    ]


def test_cli_export_since_all_and_stdout(cli_index):
    store = FeedbackStore.beside_index(cli_index)
    store.add(rating())
    store.add(rating("up", created_at="2025-05-01T00:00:00+00:00"))
    store.add(rating(created_at="2025-05-02T00:00:00+00:00"))
    r = invoke("export", "--since", "2025-04-30")
    assert r.exit_code == 0, r.output
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["fb-3"]
    assert "wrote 1 question(s) to standard output" in r.stderr
    r = invoke("export", "--since", "2025-04-30", "--all")
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["fb-2", "fb-3"]
    r = invoke("export", "--since", "2030-01-01")
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr.strip() == f"no disliked answers (👎) since 2030-01-01 in {cli_index / FILE_NAME}; nothing to export"
    r = invoke("export", "--since", "last week")
    assert r.exit_code != 0 and "--since takes a date (2025-01-31)" in str(r.exception)


def test_cli_on_a_corrupt_store_is_one_clear_error(cli_index):
    import subprocess
    import sys

    cli_index.mkdir()
    (cli_index / FILE_NAME).write_bytes(b"garbage " * 100)
    r = subprocess.run([sys.executable, "-m", "docqa.cli", "feedback", "stats"], capture_output=True, text=True)
    assert r.returncode == 3 and r.stdout == ""
    assert r.stderr.strip().startswith(f"docqa: error: the feedback database {cli_index / FILE_NAME} is damaged")
    assert "Traceback" not in r.stderr


def test_eval_line_keeps_what_the_user_saw():
    line = eval_line(rating(id=9, comment=None))
    assert line["id"] == "fb-9" and line["feedback"]["comment"] is None and "client_ip" not in json.dumps(line)
