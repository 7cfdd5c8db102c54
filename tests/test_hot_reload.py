"""Hot reload: a server follows the index's live generation while clients keep
asking — zero errors, every answer from exactly one generation, the new
document answerable after the switch — and ``docqa rollback`` goes back."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from docqa.factory import make_engine, make_ingestor
from docqa.index.store import KEEP_GENERATIONS, generations, live_generation, rollback
from docqa.settings import Settings
from docqa.web.live import LiveEngine
from tests.fakes import FakeEmbedder
from tests.test_web_support import FACT_Q, running_server, write_corpus

NEW_DOC = "# 园区新闻\n\n## 人才\n\n星河科技园2025年引进博士后研究人员75名。\n"
NEW_Q = "星河科技园2025年引进了多少名博士后研究人员？"


def _live_engine(home):
    settings = Settings(home=home)
    embedder = FakeEmbedder()
    corpus = write_corpus(home.parent / "corpus")
    make_ingestor(settings, embedder).ingest([corpus])

    def generation():
        gen = live_generation(settings.index_path)
        return gen.name if gen else None

    live = LiveEngine(make_engine(settings, embedder), lambda: make_engine(settings, embedder), generation, interval=0.05)
    return live, settings, embedder, corpus


def test_clients_asking_through_a_switch_get_no_error_and_one_generation_each(tmp_path):
    live, settings, embedder, corpus = _live_engine(tmp_path / "home")
    before = {c.chunk_id for _, c in live.passages()}
    errors: list[str] = []
    answers: list[dict] = []
    stop = threading.Event()
    with running_server(live.start(), settings) as url:

        def client() -> None:
            with httpx.Client(timeout=30) as http:
                while not stop.is_set():
                    r = http.post(f"{url}/api/ask", json={"question": FACT_Q})
                    if r.status_code != 200:
                        errors.append(r.text)
                    else:
                        answers.append(r.json())

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        (corpus / "news.md").write_text(NEW_DOC, encoding="utf-8")
        make_ingestor(settings, embedder).ingest([corpus])  # a new generation goes live
        deadline = time.monotonic() + 20
        while live.reloads == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        after = {c.chunk_id for _, c in live.passages()}
        fresh = httpx.post(f"{url}/api/ask", json={"question": NEW_Q}).json()
        health = httpx.get(f"{url}/healthz").json()
    live.stop()
    assert live.reloads == 1 and not errors and len(answers) > 10
    assert health["generation"] == live_generation(settings.index_path).name and health["documents"] == 3
    for a in answers:  # every answer's passages come from one generation
        ids = {p["chunk_id"] for p in a["passages"]}
        assert ids <= before or ids <= after
    assert not fresh["refused"] and "75名" in fresh["answer"]


def test_rollback_goes_back_one_generation_and_the_server_follows(tmp_path):
    live, settings, embedder, corpus = _live_engine(tmp_path / "home")
    first = live.index.generation
    (corpus / "news.md").write_text(NEW_DOC, encoding="utf-8")
    make_ingestor(settings, embedder).ingest([corpus])
    assert live.refresh() and live.info()["documents"] == 3
    was, now = rollback(settings.index_path)
    assert now == first and was != first
    assert live.refresh() and live.info()["documents"] == 2 and live.index.generation == first
    with pytest.raises(Exception, match="nothing to roll back to"):
        rollback(settings.index_path)


def test_a_generation_that_fails_to_load_leaves_the_old_one_serving(tmp_path):
    live, settings, embedder, corpus = _live_engine(tmp_path / "home")
    old = live.index.generation

    def broken():
        raise RuntimeError("disk on fire")

    live._build = broken
    (corpus / "news.md").write_text(NEW_DOC, encoding="utf-8")
    make_ingestor(settings, embedder).ingest([corpus])
    assert not live.refresh() and live.index.generation == old
    assert not live.ask(FACT_Q).refused


def test_only_the_newest_generations_are_kept(tmp_path):
    live, settings, embedder, corpus = _live_engine(tmp_path / "home")
    for n in range(KEEP_GENERATIONS + 2):
        (corpus / f"n{n}.md").write_text(f"# 第{n}条\n\n星河科技园第{n}条消息。\n", encoding="utf-8")
        make_ingestor(settings, embedder).ingest([corpus])
    kept = generations(settings.index_path)
    assert len(kept) == KEEP_GENERATIONS and kept[-1] == live_generation(settings.index_path).name
