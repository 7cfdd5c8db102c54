"""``app.py`` and ``docqa serve``: nothing heavy at import time, flags and
``DOCQA_*`` variables reach the server, the bundled report is ingested when
there is no index, the interface comes in Chinese and English."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from docqa.settings import REPO_ROOT
from tests.fakes import FakeEmbedder, use_embedder
from tests.test_web_support import tiny_engine  # noqa: F401  (fixture)


def test_importing_app_and_cli_loads_no_model_and_starts_nothing():
    code = (
        "import sys, threading, docqa.cli\n"
        "light = 'gradio' not in sys.modules and 'torch' not in sys.modules\n"
        "import app\n"
        "print(light, 'sentence_transformers' in sys.modules, 'torch' in sys.modules,"
        " callable(app.build_app), threading.active_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    light, st, torch, callable_, threads = out.stdout.split()
    assert (light, st, torch, callable_) == ("True", "False", "False", "True")
    assert int(threads) == 1  # no server, no analytics thread


def _labels(blocks) -> set[str]:
    cfg = blocks.get_config_file()
    return {str(c["props"].get(key)) for c in cfg["components"] for key in ("label", "value", "placeholder")}


def test_build_app_in_chinese_and_english(tiny_engine):
    from docqa.web.ui import build_app

    zh = _labels(build_app(tiny_engine))
    assert {"提问", "设置", "检索段落数（top-k）", "回答模式"} <= zh
    en = _labels(build_app(tiny_engine, lang="en"))
    assert {"Ask", "Settings", "Passages to retrieve (top-k)", "Answer mode"} <= en
    with pytest.raises(ValueError, match="choose one of zh, en"):
        build_app(tiny_engine, lang="fr")


@pytest.fixture
def captured(monkeypatch):
    """``docqa serve`` with the fake embedder and the server call captured."""
    import docqa.factory
    import docqa.web.server

    calls = {}
    use_embedder(monkeypatch, FakeEmbedder())

    def fake_serve(engine, settings, lang):
        calls.update(engine=engine, settings=settings, lang=lang)

    monkeypatch.setattr(docqa.web.server, "serve", fake_serve)
    return calls


def test_serve_ingests_the_bundled_report_when_there_is_no_index(captured, settings, monkeypatch):
    from docqa.cli import app as cli

    monkeypatch.setenv("DOCQA_HOST", "0.0.0.0")
    monkeypatch.setenv("DOCQA_CONCURRENCY", "8")
    monkeypatch.setenv("DOCQA_LANG", "en")
    result = CliRunner().invoke(
        cli,
        ["serve", "--port", "8123", "--root-path", "/docqa/", "--allowed-origin", "https://portal.example.com"],
    )
    assert result.exit_code == 0, result.output
    assert "ingesting the bundled report" in result.output
    s = captured["settings"]
    assert (s.host, s.port, s.root_path, s.concurrency) == ("0.0.0.0", 8123, "/docqa", 8)
    assert s.allowed_origins == ["https://portal.example.com"]
    assert captured["lang"] == "en"
    assert captured["engine"].default.info()["documents"] == 1 and captured["engine"].names() == ["default"]
    assert (settings.index_path / "manifest.json").exists() or any(settings.index_path.iterdir())

    # second start: the index is there, nothing is ingested
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0 and "ingesting" not in result.output
    assert captured["settings"].port == 7860 and captured["lang"] == "en"


@pytest.mark.parametrize(
    "args, message",
    [(["--lang", "fr"], "--lang must be zh or en"), (["--root-path", "docqa"], "must start with '/'")],
)
def test_serve_refuses_bad_options(captured, args, message):
    from docqa.cli import app as cli
    from docqa.errors import DocQAError

    result = CliRunner().invoke(cli, ["serve", *args])
    assert isinstance(result.exception, DocQAError) and message in str(result.exception)
    assert captured == {}


def test_public_url():
    from docqa.settings import Settings
    from docqa.web.server import public_url

    assert public_url(Settings()) == "http://127.0.0.1:7860/"
    assert public_url(Settings(host="0.0.0.0", port=80, root_path="/docqa")) == "http://localhost:80/"


# --- the conversation and feedback in the chat window ---------------------------------------------

FIRST_Q = "星河科技园占地面积多少公顷？"
FOLLOW_UP_Q = "它累计引进了多少家高新技术企业？"
THIRD_Q = "它累计备案了多少家新型研发机构？"


class EntityRewriter:
    """A deterministic stand-in for the follow-up rewriter: a question starting
    with 它 is about the entity named in the conversation's first question."""

    def __init__(self, entities=("星河科技园",)):
        self.entities = entities

    def rewrite(self, question, history):
        from docqa.conversation import Resolution

        firsts = [t.content for t in history if t.role == "user"]
        named = [e for e in self.entities if firsts and e in firsts[0]]
        if question.startswith("它") and named:
            return Resolution(question, named[0] + question[1:], carried=(named[0],), how="test")
        return Resolution(question, question)


def with_rewriter(engine):
    """The same engine answering follow-ups with ``EntityRewriter``."""
    import copy

    rewriting = copy.copy(engine)
    rewriting.rewriters = {"extractive": EntityRewriter()}
    return rewriting


class Recorder:
    """Delegates to an engine, keeping the history each question came with."""

    def __init__(self, engine):
        self._engine = engine
        self.histories = []

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def stream(self, question, top_k=None, mode=None, history=()):
        self.histories.append([(t.role, t.content) for t in history])
        yield from self._engine.stream(question, top_k=top_k, mode=mode, history=history)


def _last(gen):
    """The last thing a generator yields."""
    *_, last = gen
    return last


def _text(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def _visible(fragment: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _session(key: str = "s1"):
    from types import SimpleNamespace

    return SimpleNamespace(session_hash=key)  # what the handlers read of a gr.Request


def _converse(handlers, questions, request=None):
    chat = []
    for q in questions:
        chat, box = _last(handlers.respond(q, chat, 3, "extractive", request or _session()))
        assert box == ""
    return chat


def test_chat_window_asks_with_the_conversation_and_shows_how_a_follow_up_was_understood(tiny_engine):
    from docqa.web.chat import ChatHandlers

    engine = Recorder(with_rewriter(tiny_engine))
    handlers = ChatHandlers(engine)
    chat = _converse(handlers, (FIRST_Q, FOLLOW_UP_Q, THIRD_Q))
    turns = handlers.sessions.get("s1").turns
    first, second, third = (t.answer for t in turns)
    # the plain turns, oldest first: the questions as asked and the answers' text (never HTML)
    assert engine.histories == [
        [],
        [("user", FIRST_Q), ("assistant", first.answer)],
        [("user", FIRST_Q), ("assistant", first.answer), ("user", FOLLOW_UP_Q), ("assistant", second.answer)],
    ]
    assert "<" not in first.answer and "120公顷" in first.answer
    assert second.resolved_question == "星河科技园累计引进了多少家高新技术企业？" and "58家" in second.answer
    assert "42家" in third.answer
    answers = [_text(m) for m in chat if m["role"] == "assistant" and not m.get("metadata")]
    assert [_visible(a).count("理解为：") for a in answers] == [0, 1, 1]
    assert "理解为：星河科技园累计引进了多少家高新技术企业？" in _visible(answers[1])
    assert [t.at for t in turns] == [1, 4, 7]  # user, answer, sources per turn
    assert all(t.answer.passages == [] for t in turns)  # kept without their passages

    # another session is another conversation; a client sending an empty chat started over
    engine.histories.clear()
    _converse(handlers, (FOLLOW_UP_Q,), _session("s2"))
    _last(handlers.respond(FOLLOW_UP_Q, [], 3, "extractive", _session("s1")))
    assert engine.histories == [[], []]
    handlers.reset(_session("s1"))
    assert handlers.sessions.get("s1").turns == []


def test_sessions_are_bounded(tiny_engine):
    from docqa.conversation import MAX_TURNS
    from docqa.web.sessions import ChatSessions, history_turns

    answer = tiny_engine.ask(FIRST_Q)
    sessions = ChatSessions(max_sessions=3, max_turns=5)
    for i in range(40):
        sessions.add("a", answer, 1 + 3 * i, 2, 3 * i)
    turns = sessions.get("a").turns
    assert [t.at for t in turns] == [1 + 3 * i for i in range(35, 40)]
    assert len(history_turns(turns * 3)) == MAX_TURNS
    for key in "bcd":
        sessions.add(key, answer, 1, 2, 0)
    assert len(sessions) == 3 and sessions.get("a").turns == []  # the least recently used is dropped
    sessions.add(None, answer, 1, 2, 0)  # no session: nothing kept
    assert len(sessions) == 3


def test_chat_window_errors_leave_the_conversation_as_it_was(tiny_engine):
    from docqa.web.chat import ChatHandlers

    handlers = ChatHandlers(with_rewriter(tiny_engine))
    chat = _converse(handlers, (FIRST_Q,))
    out = _last(handlers.respond("", chat, 3, "extractive", _session()))  # empty question: a toast
    assert all(o == {"__type__": "update"} for o in out) and len(handlers.sessions.get("s1").turns) == 1


def _like(index: int, liked):
    import gradio as gr

    return gr.LikeData(None, {"index": index, "value": [], "liked": liked})


def test_feedback_up_is_recorded_once_with_the_answer(tiny_engine):
    from docqa.web.chat import ChatHandlers

    sent = []
    handlers = ChatHandlers(with_rewriter(tiny_engine), feedback=lambda body: sent.append(body) or len(sent))
    chat = _converse(handlers, (FIRST_Q, FOLLOW_UP_Q))
    second = handlers.sessions.get("s1").turns[1].answer
    chat, row, comment = handlers.rate(chat, _like(4, True), _session())
    assert sent == [
        {
            "rating": "up",
            "question": FOLLOW_UP_Q,
            "resolved_question": "星河科技园累计引进了多少家高新技术企业？",
            "answer": second.answer,
            "citations": [c.to_dict() for c in second.citations],
            "mode": "extractive",
        }
    ]
    assert [t.rating for t in handlers.sessions.get("s1").turns] == [None, "up"]
    assert "已记录：有帮助" in _visible(_text(chat[4])) and "已记录" not in _visible(_text(chat[1]))
    assert row["visible"] is False
    # rated already, the sources message of the same answer, a rating taken back, the pending message,
    # another session: nothing sent
    handlers.rate(chat, _like(5, False), _session())
    handlers.rate(chat, _like(1, ""), _session())
    handlers.rate(chat + [{"role": "user", "content": "x"}, {"role": "assistant", "content": "…"}], _like(8, True), _session())
    handlers.rate(chat, _like(1, True), _session("s2"))
    assert len(sent) == 1


def test_feedback_down_opens_the_comment_box_and_sends_the_comment(tiny_engine):
    from docqa.errors import BadRequest
    from docqa.web.chat import ChatHandlers

    sent, fail = [], []

    def store(body):
        if fail:
            raise BadRequest("comment is too long")
        sent.append(body)
        return 7

    handlers = ChatHandlers(tiny_engine, lang="en", feedback=store)
    chat = _converse(handlers, (FIRST_Q,))
    _, row, comment = handlers.rate(chat, _like(1, False), _session())
    assert row["visible"] is True and comment == "" and sent == []  # nothing sent yet
    fail.append(True)
    out = handlers.send_comment(chat, "wrong figure", _session())  # a failure keeps the box open
    assert sent == [] and all(o == {"__type__": "update"} for o in out)  # every output unchanged
    fail.clear()
    chat, row, comment = handlers.send_comment(chat, "  wrong figure  ", _session())
    assert [(b["rating"], b["comment"], b["question"]) for b in sent] == [("down", "wrong figure", FIRST_Q)]
    assert handlers.sessions.get("s1").turns[0].rating == "down" and row["visible"] is False and comment == ""
    assert "Recorded as not helpful" in _visible(_text(chat[1]))
    # cancelling a comment sends nothing
    chat = _converse(handlers, (FIRST_Q,), _session("s3"))
    handlers.rate(chat, _like(1, False), _session("s3"))
    handlers.cancel_comment(_session("s3"))
    handlers.send_comment(chat, "x", _session("s3"))
    assert len(sent) == 1


def test_the_clear_button_and_the_chatbots_trash_reset_the_conversation(tiny_engine):
    from docqa.web.ui import build_app

    demo = build_app(tiny_engine, feedback=lambda body: 1)
    cfg = demo.get_config_file()
    ids = {c["id"]: c for c in cfg["components"]}
    assert not [c for c in cfg["components"] if c["type"] == "state"]  # a State would need a heartbeat connection
    resets = [d for d in cfg["dependencies"] if "reset" in getattr(demo.fns[d["id"]].fn, "__name__", "")]
    assert {(ids[t[0]]["type"], t[1]) for d in resets for t in d["targets"]} == {("button", "click"), ("chatbot", "clear")}
    chatbot = next(c for c in cfg["components"] if c["props"].get("elem_id") == "dq-chat")
    assert chatbot["props"]["likeable"] is True and chatbot["props"]["feedback_options"] == ["Like", "Dislike"]
    without = build_app(tiny_engine).get_config_file()  # no feedback store: no 👍 / 👎
    assert next(c for c in without["components"] if c["props"].get("elem_id") == "dq-chat")["props"]["likeable"] is False


def test_gradio_ask_takes_the_conversation(tiny_engine):
    import gradio as gr

    from docqa.web.chat import ChatHandlers

    handlers = ChatHandlers(with_rewriter(tiny_engine))
    history = [{"role": "user", "content": FIRST_Q}, {"role": "assistant", "content": "占地面积120公顷。"}]
    a = handlers.ask(FOLLOW_UP_Q, 3, None, history)
    assert a["question"] == FOLLOW_UP_Q and a["resolved_question"] == "星河科技园累计引进了多少家高新技术企业？"
    assert "58家" in a["answer"]
    assert handlers.ask(FOLLOW_UP_Q)["resolved_question"] == FOLLOW_UP_Q
    with pytest.raises(gr.Error, match=r"history\[0\].role must be"):
        handlers.ask(FOLLOW_UP_Q, history=[{"role": "system", "content": "x"}])
