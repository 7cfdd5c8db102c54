"""`--mode llm` through every client: the CLI, the HTTP API, the chat window
(streamed text replaced by the checked answer before sources are shown) and
the eval (which counts what the guard changed)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from typer.testing import CliRunner

from docqa.factory import make_engine
from tests.fake_llm_server import Reply
from tests.fakes import use_embedder
from tests.llm_support import (  # noqa: F401  (fixtures)
    CHAIN_Q,
    ORGS_Q,
    corpus_dir,
    llm_engine,
    llm_index,
    llm_server,
    llm_settings,
    number_of,
)


def _n(engine, server, question, needle) -> int:
    server.script(Reply(""))
    engine.ask(question, mode="llm")
    return number_of(server.requests[-1], needle)


def test_cli_ask_mode_llm(llm_index, llm_server, monkeypatch):
    from docqa.cli import app

    settings, emb = llm_index
    use_embedder(monkeypatch, emb)
    monkeypatch.setenv("DOCQA_LLM_BASE_URL", llm_server.url)
    monkeypatch.setenv("DOCQA_LLM_MODEL", "fake-model")
    n = _n(make_engine(llm_settings(settings, llm_server.url), emb), llm_server, ORGS_Q, "36家")
    llm_server.script(Reply(f"上海累计备案新型研发机构36家[{n}]。上海共有99家[{n}]。"))
    result = CliRunner().invoke(app, ["ask", ORGS_Q, "--mode", "llm"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "上海累计备案新型研发机构36家[1]。"
    assert lines[1] == "(已删除 1 句无法由所引段落核实的内容。)"
    assert lines[3].startswith("[1] ") and "(chars " in lines[3] and "36家" in lines[4]
    result = CliRunner().invoke(app, ["ask", ORGS_Q, "--mode", "llm", "--json"])
    body = json.loads(result.stdout)
    assert body["mode"] == "llm" and body["llm"]["guard"]["removed"][0]["text"] == "上海共有99家。"


def test_cli_ask_mode_llm_unconfigured_is_one_line(llm_index, monkeypatch):
    from docqa.cli import main

    settings, emb = llm_index
    use_embedder(monkeypatch, emb)
    monkeypatch.setattr("sys.argv", ["docqa", "ask", ORGS_Q, "--mode", "llm"])
    import pytest

    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2


def test_api_ask_passes_the_mode(llm_engine, llm_server):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from docqa.web.api import api_router
    from docqa.web.schema import AnswerContract

    n = _n(llm_engine, llm_server, CHAIN_Q, "147家")
    app = FastAPI()
    app.include_router(api_router(llm_engine, 2))
    llm_server.script(Reply(f"浦芯研究院累计接入链主企业147家[{n}]。"))
    r = TestClient(app).post("/api/ask", json={"question": CHAIN_Q, "mode": "llm"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "llm" and body["answer"] == "浦芯研究院累计接入链主企业147家[1]。"
    assert body["citations"][0]["quote"] and body["llm"]["guard"]["kept"] == 1
    AnswerContract.model_validate(body)  # the documented contract, with its LLM report
    r = TestClient(app).post("/api/ask", json={"question": CHAIN_Q})
    assert r.json()["mode"] == "extractive" and "llm" not in r.json()


def test_chat_window_replaces_streamed_text_with_the_checked_answer(llm_engine, llm_server):
    from docqa.web.chat import ChatHandlers
    from docqa.web.render import partial_answer_html

    n = _n(llm_engine, llm_server, CHAIN_Q, "147家")
    chunks = ["浦芯研究院", f"累计接入链主企业147家[{n}]。", f"还接入了500家银行[{n}]。"]
    llm_server.script(Reply("".join(chunks), chunks=chunks))
    frames = list(ChatHandlers(llm_engine).respond(CHAIN_Q, [], 5, "llm", SimpleNamespace(session_hash="s1")))
    contents = [[m["content"] for m in history] for history, _ in frames]
    streamed = [c[-1] for c in contents[1:-1]]
    # the raw reply as the engine streamed it, one frame per delta …
    assert streamed == [partial_answer_html("".join(chunks[:i])) for i in range(1, len(chunks) + 1)]
    assert all("dq-source" not in s for s in streamed)  # … with no sources yet
    final = contents[-1]
    assert "500" not in final[1] and "147家" in final[1]  # … replaced by the checked answer
    assert "dq-notice" in final[1] and "dq-source" in final[2]  # the notice, then the sources


def test_eval_mode_llm_counts_what_the_guard_changed(llm_index, llm_server, tmp_path, monkeypatch):
    from docqa.eval.questions import load_questions
    from docqa.eval.runner import Source, run_eval

    monkeypatch.setattr("docqa.llm.client.time.sleep", lambda s: None)
    settings, emb = llm_index
    qfile = tmp_path / "q.jsonl"
    qs = [
        {"id": "a", "question": CHAIN_Q, "answers": ["147家"], "evidence": ["累计接入链主企业147家"], "answerable": True,
         "type": "numeric"},
        {"id": "b", "question": "火星基地什么时候建成？", "answers": [], "evidence": [], "answerable": False, "type": "outside"},
    ]  # fmt: skip
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in qs), encoding="utf-8")
    llm_server.script(Reply("浦芯研究院累计接入链主企业147家[1][2][3]。另有300家[1]。"))
    result = run_eval(
        llm_settings(settings, llm_server.url), load_questions(qfile), [corpus_dir(tmp_path)], tmp_path / "out",
        Source("q"), Source("c"), mode="llm", embedder=emb, show_progress=False,
    )  # fmt: skip
    s = result.summary
    assert s["config"]["mode"] == "llm"
    assert s["llm"]["asked"] == 1 and s["llm"]["guard_changed"] == 1 and s["llm"]["sentences_removed"] == 1
    assert s["answer"]["fact_recall"] == 1.0 and s["citation"]["precision"] == 1.0 and s["abstention"]["recall"] == 1.0
    rows = [json.loads(x) for x in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    from docqa.llm.audit import unsupported_numbers

    assert [unsupported_numbers(r) for r in rows] == [[], []]
