"""Several named collections served by one server: ``docqa ingest --collection``,
the ``collection`` field of the API, ``?collection=`` on the chat window and the
widget, ``docqa/NAME`` models on the OpenAI-compatible endpoint, feedback beside
each collection's index; the default collection keeps today's commands."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from typer.testing import CliRunner

from docqa.errors import BadRequest, IndexNotFound, NotFound
from docqa.settings import Settings, check_collection_name
from tests.fakes import FakeEmbedder, use_embedder
from tests.test_web_support import FACT_Q, running_server, write_corpus

POLICY = "# 人才政策\n\n## 住房\n\n青年人才每月可领取住房补贴2500元。\n"
POLICY_Q = "青年人才每月可领取多少住房补贴？"
POLICY_TOML = (
    'title = "人才政策汇编"\nexamples = ["青年人才每月可领取多少住房补贴？"]\n[refusal]\nzh = "政策汇编中没有相关规定。"\n'
)


@pytest.fixture
def cli(monkeypatch):
    from docqa.cli import app

    emb = FakeEmbedder()
    use_embedder(monkeypatch, emb)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _policies(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "policy.md").write_text(POLICY, encoding="utf-8")
    (root / "collection.toml").write_text(POLICY_TOML, encoding="utf-8")
    return root


@pytest.fixture
def shelf(docqa_home, tmp_path):
    """Default collection: the park; "policies": the policy document."""
    from docqa.factory import make_engine, make_ingestor
    from docqa.web.shelf import Shelf

    settings = Settings(min_confidence=0.0)  # the fake embedder's scores are not calibrated
    emb = FakeEmbedder()
    make_ingestor(settings, emb).ingest([write_corpus(tmp_path / "park")])
    make_ingestor(settings, emb, settings.collection_index("policies")).ingest([_policies(tmp_path / "policies")])
    opened: list[str] = []

    def open_collection(name: str):
        opened.append(name)
        return make_engine(settings, emb, settings.collection_index(name))

    shelf = Shelf(make_engine(settings, emb), open_collection, settings.collection_names)
    shelf.opened = opened  # type: ignore[attr-defined]
    return shelf, settings


def test_collection_names_are_checked():
    assert check_collection_name(None) == "default" and check_collection_name("") == "default"
    assert check_collection_name("annual-2025_v2") == "annual-2025_v2"
    for bad in ("../x", "Policies", "a b", "-x", "x" * 41, "政策"):
        with pytest.raises(BadRequest, match="lowercase letters"):
            check_collection_name(bad)


def test_cli_ingest_ask_docs_remove_rollback_with_a_collection(cli, docqa_home, tmp_path):
    policies = _policies(tmp_path / "policies")
    r = cli("ingest", "--collection", "policies", str(policies))
    assert r.exit_code == 0, r.output
    assert (docqa_home / "collections" / "policies").is_dir() and not (docqa_home / "index").exists()
    r = cli("docs", "--collection", "policies")
    assert r.exit_code == 0 and "人才政策" in r.output and "1 documents" in r.output
    r = cli("ask", "--collection", "policies", "--json", POLICY_Q)
    assert r.exit_code == 0 and "2500" in json.loads(r.output)["answer"]
    assert cli("docs").exit_code != 0  # the default collection has no index: nothing was ingested there
    (policies / "policy.md").write_text(POLICY.replace("2500", "3000"), encoding="utf-8")
    assert cli("ingest", "--collection", "policies", str(policies)).exit_code == 0
    r = cli("rollback", "--collection", "policies")
    assert r.exit_code == 0 and "live generation" in r.output
    r = cli("remove", "--collection", "policies", str(policies / "policy.md"))
    assert r.exit_code == 0, r.output


def test_cli_rejects_a_bad_collection_name_and_index_with_collection(cli, tmp_path):
    r = cli("ingest", "--collection", "../etc", str(tmp_path))
    assert r.exit_code != 0 and "lowercase letters" in str(r.exception)  # `docqa` prints it as one line
    r = cli("ask", "--collection", "x", "--index", str(tmp_path), "问题？")
    assert r.exit_code != 0 and "not both" in str(r.exception)


def test_shelf_opens_named_collections_lazily_and_names_the_ones_there_are(shelf):
    shelf, settings = shelf
    assert shelf.names() == ["default", "policies"] and shelf.opened == []
    assert shelf.get(None) is shelf.default and shelf.get("default") is shelf.default
    policies = shelf.get("policies")
    assert shelf.get("policies") is policies and shelf.opened == ["policies"]  # opened once, then kept
    assert policies.collection.title == "人才政策汇编"
    with pytest.raises(NotFound, match="no collection 'annual'.*default, policies.*--collection annual"):
        shelf.get("annual")
    with pytest.raises(BadRequest):
        shelf.get("../index")
    (settings.home / "collections" / "empty").mkdir()  # a folder without an index is not a collection to serve
    with pytest.raises(NotFound):
        shelf.get("empty")


def test_a_shelf_of_one_engine_has_only_the_default(shelf):
    from docqa.web.shelf import Shelf, as_shelf

    engine = shelf[0].default
    one = as_shelf(engine)
    assert isinstance(one, Shelf) and one.default is engine and one.names() == ["default"] and as_shelf(one) is one
    with pytest.raises(NotFound):
        one.get("policies")


def test_the_api_answers_from_the_collection_asked(shelf):
    shelf, settings = shelf
    with running_server(shelf, settings) as url:
        from_policies = httpx.post(f"{url}/api/ask", json={"question": POLICY_Q, "collection": "policies"}).json()
        from_default = httpx.post(f"{url}/api/ask", json={"question": POLICY_Q}).json()
        park = httpx.post(f"{url}/api/ask", json={"question": FACT_Q, "collection": "default"}).json()
        unknown = httpx.post(f"{url}/api/ask", json={"question": POLICY_Q, "collection": "annual"})
        malformed = httpx.post(f"{url}/api/ask", json={"question": POLICY_Q, "collection": 3})
        health = httpx.get(f"{url}/healthz", params={"collection": "policies"}).json()
        widget = httpx.get(f"{url}/widget", params={"collection": "policies"})
        no_widget = httpx.get(f"{url}/widget", params={"collection": "annual"})
    assert "2500" in from_policies["answer"] and from_policies["citations"][0]["title"] == "人才政策"
    assert "2500" not in from_default["answer"]
    assert not park["refused"]
    assert unknown.status_code == 404 and "no collection 'annual'" in unknown.json()["error"]
    assert malformed.status_code == 422 and "collection must be" in malformed.json()["error"]
    assert health["documents"] == 1 and health["collections"] == ["default", "policies"]
    assert widget.status_code == 200 and "人才政策汇编" in widget.text and POLICY_Q in widget.text
    assert no_widget.status_code == 404


def test_the_openai_endpoint_serves_each_collection_as_a_model(shelf):
    shelf, settings = shelf
    with running_server(shelf, settings) as url:
        models = httpx.get(f"{url}/v1/models").json()
        one = httpx.get(f"{url}/v1/models/docqa/policies")
        body = {"model": "docqa/policies", "messages": [{"role": "user", "content": POLICY_Q}]}
        answer = httpx.post(f"{url}/v1/chat/completions", json=body).json()
        missing = httpx.post(f"{url}/v1/chat/completions", json={**body, "model": "docqa/annual"})
    assert [m["id"] for m in models["data"]] == ["docqa", "docqa/policies"]
    assert one.status_code == 200 and one.json()["id"] == "docqa/policies"
    assert answer["model"] == "docqa/policies" and "2500" in answer["choices"][0]["message"]["content"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert '"docqa/policies"' in missing.json()["error"]["message"]


def test_feedback_is_stored_beside_the_collection_that_answered(shelf):
    from docqa.feedback import FeedbackStore

    shelf, settings = shelf
    with running_server(shelf, settings) as url:
        answer = httpx.post(f"{url}/api/ask", json={"question": POLICY_Q, "collection": "policies"}).json()
        rating = {"rating": "up", "question": POLICY_Q, "answer": answer["answer"], "collection": "policies"}
        assert httpx.post(f"{url}/api/feedback", json=rating).status_code == 201
        assert httpx.post(f"{url}/api/feedback", json={**rating, "collection": "annual"}).status_code == 404
    stored = FeedbackStore.beside_index(settings.collection_index("policies"))
    assert stored.exists() and not FeedbackStore.beside_index(settings.index_path).exists()


def test_the_chat_window_serves_the_collection_in_its_url(shelf):
    from docqa.web.chat import ChatHandlers

    shelf, _ = shelf
    handlers = ChatHandlers(shelf)
    page = SimpleNamespace(query_params={"collection": "policies"}, session_hash="s1")
    name, header, box, examples, index_line = handlers.open_page(page)
    assert name == "policies" and "人才政策汇编" in header and POLICY_Q in box["placeholder"]
    assert examples.raw_samples == [[POLICY_Q]] and "1" in index_line
    frames = list(handlers.respond(POLICY_Q, [], 3, "extractive", page, name))
    assert "2500" in frames[-1][0][1]["content"]
    unknown = SimpleNamespace(query_params={"collection": "annual"}, session_hash="s2")
    with pytest.warns(UserWarning, match="no collection"):
        assert handlers.open_page(unknown)[0] == "default"  # a warning, and the default collection is served
    assert handlers.ask(POLICY_Q, collection="policies")["citations"][0]["title"] == "人才政策"


def test_page_image_links_name_a_collection_other_than_the_default():
    from docqa.records import Citation
    from docqa.web.render import page_images

    c = Citation(n=1, doc="d", title="t", section_path=(), start=0, end=1, page=2, quote="x", boxes=[[2, 0.1, 0.1, 0.2, 0.2]])
    assert "collection" not in page_images(c)[0][1] and "collection" not in page_images(c, "default")[0][1]
    assert page_images(c, "policies")[0][1].endswith("&collection=policies")


def test_a_collection_without_an_index_is_not_opened(settings):
    from docqa.web.shelf import Shelf

    def open_collection(name):
        raise IndexNotFound(f"no index for {name}")

    shelf = Shelf(SimpleNamespace(), open_collection, lambda: ["default", "drafts"])
    with pytest.raises(NotFound, match="drafts"):
        shelf.get("drafts")
