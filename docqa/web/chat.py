"""What the chat window does with a question: check it, stream the engine's
answer into the conversation, then add the collapsible sources block; and
what it does with a 👍 / 👎 on an answer.

Each browser session's answers are kept by the server (``ChatSessions``):
the plain turns sent with each question come from them (the earlier
questions and the answers' text, never the HTML shown), and so does what a
rating sends.

In the window an engine error becomes a warning toast (never an answer, and
the conversation stays visible: a raised ``gr.Error`` would cover it); for
API clients (``/ask``) it is a ``gr.Error``.  Abstentions are answers and are
shown as such."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace

import gradio as gr

from docqa.engine import Engine
from docqa.errors import DocQAError, TooManyQuestions
from docqa.records import Answer
from docqa.settings import DEFAULT_COLLECTION
from docqa.web.labels import labels
from docqa.web.limits import RateLimit
from docqa.web.render import (
    answer_html,
    escape_text,
    nearest_html,
    nearest_title,
    partial_answer_html,
    rated_html,
    sources_html,
    sources_title,
)
from docqa.web.sessions import ChatSession, ChatSessions, history_turns
from docqa.web.shelf import Shelf, as_shelf

MAX_COMMENT_CHARS = 1000  # the feedback contract's limit

# Records one rating: the body of ``POST /api/feedback`` in, the new record's id out;
# raises ``DocQAError`` (with a message for the user) for a rejected one.
Feedback = Callable[[dict], int]


def answer_messages(answer: Answer, lang: str, rating: str | None = None, collection: str = "") -> list[dict]:
    """The assistant's messages for a final answer: the answer (with the
    recorded rating, if any), then (when it cites anything) the sources
    block, collapsed; under a refusal, the passages closest to the question
    instead, collapsed too."""
    note = rated_html(rating, lang) if rating else ""
    messages: list[dict] = [{"role": "assistant", "content": answer_html(answer, lang) + note}]
    if answer.citations:
        messages.append(
            {
                "role": "assistant",
                "content": sources_html(answer, lang, collection),
                "metadata": {"title": sources_title(answer, lang), "status": "done"},
            }
        )
    elif nearest := nearest_html(answer, lang):
        messages.append(
            {"role": "assistant", "content": nearest, "metadata": {"title": nearest_title(answer, lang), "status": "done"}}
        )
    return messages


def feedback_payload(answer: Answer, rating: str, comment: str = "") -> dict:
    """The body of ``POST /api/feedback`` for a rating of ``answer``."""
    contract = answer.to_dict()
    payload = {
        "rating": rating,
        "question": contract["question"],
        "resolved_question": contract["resolved_question"],
        "answer": contract["answer"],
        "citations": contract["citations"],
        "mode": contract["mode"],
    }
    if comment.strip():
        payload["comment"] = comment.strip()[:MAX_COMMENT_CHARS]
    return payload


def _session_key(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


class ChatHandlers:
    """Event handlers of the chat window, bound to one engine (and, when
    feedback is collected, to the function that records it)."""

    def __init__(
        self,
        engine: Engine | Shelf,
        lang: str = "zh",
        feedback: Feedback | None = None,
        sessions: ChatSessions | None = None,
        limit: RateLimit | None = None,
        on_limited: Callable[[], None] | None = None,
    ):
        self.shelf = as_shelf(engine)
        self.limit = limit  # questions per client address (DOCQA_RATE_LIMIT), as on the HTTP API
        self.on_limited = on_limited  # counts a refused question (the server's metrics)
        self.lang = lang
        self.feedback = feedback
        self.sessions = sessions or ChatSessions()

    @property
    def engine(self) -> Engine:
        """The default collection's engine."""
        return self.shelf.default

    def respond(
        self,
        question: str,
        history: list[dict] | None,
        top_k: float | None,
        mode: str | None,
        request: gr.Request,
        collection: str | None = None,
    ):
        """Yield (chat messages, question box) as the engine streams the
        answer: a pending "…", the text so far at each of the engine's deltas
        (an extractive answer is one delta; an LLM's arrive token by token),
        then the final answer and its sources.  The question is asked with
        the earlier turns of the conversation shown.

        A problem (bad question, LLM mode not configured, …) is a toast and
        leaves the conversation as it was, with the question still in its box."""
        k = int(top_k) if top_k is not None else None
        try:
            self._check_rate(request)
            engine = self.shelf.get(collection)
            q, k, m = engine.check(question, k, mode)
        except DocQAError as exc:
            self._warn(exc)
            yield gr.skip(), gr.skip()
            return
        key = _session_key(request)
        history = list(history or [])
        earlier = self.sessions.get(key).shown_in(len(history))
        history.append({"role": "user", "content": escape_text(q)})
        yield history + [{"role": "assistant", "content": partial_answer_html("…")}], ""
        text = ""
        try:
            for event in engine.stream(q, top_k=k, mode=m, history=history_turns(earlier)):
                if event.kind == "delta":
                    text += event.text
                    yield history + [{"role": "assistant", "content": partial_answer_html(text)}], ""
                elif event.kind == "final" and event.answer is not None:
                    messages = answer_messages(event.answer, self.lang, collection=collection or "")
                    self.sessions.add(key, event.answer, len(history), len(messages), len(history) - 1)
                    yield history + messages, ""
        except DocQAError as exc:
            self._warn(exc)
            yield history[:-1], q  # no half answer; the question goes back to its box

    def reset(self, request: gr.Request):
        """The clear button (and the chatbot's own): forget the conversation.
        Returns (chat messages, question box, comment row, comment)."""
        self.sessions.clear(_session_key(request))
        return [], "", gr.update(visible=False), ""

    def rate(self, history: list[dict] | None, data: gr.LikeData, request: gr.Request, collection: str | None = None):
        """A 👍 / 👎 on a message: 👍 is recorded at once; 👎 opens the comment
        box (sending it records the rating).  Returns (chat messages, comment
        row, comment)."""
        key = _session_key(request)
        session = self.sessions.get(key)
        session.turns = session.shown_in(len(history or []))
        i = session.turn_at(data.index)
        if i is None or data.liked not in (True, False):  # not an answer (e.g. pending), or a rating taken back
            return gr.skip(), gr.skip(), gr.skip()
        if session.turns[i].rating:
            gr.Info(labels(self.lang)["feedback_again"])
            return gr.skip(), gr.skip(), gr.skip()
        if data.liked is False:
            session.commenting = i
            self.sessions.put(key, session)
            return gr.skip(), gr.update(visible=True), ""
        chat = self._record(key, session, history, i, "up", "", collection)
        return (gr.skip(), gr.skip(), gr.skip()) if chat is None else (chat, gr.update(visible=False), "")

    def send_comment(self, history: list[dict] | None, comment: str, request: gr.Request, collection: str | None = None):
        """Record the 👎 being commented on, with the comment (may be empty).
        Returns (chat messages, comment row, comment); after a failure the
        box stays open with the comment, to send again."""
        key = _session_key(request)
        session = self.sessions.get(key)
        i = session.commenting
        if i is None or i >= len(session.turns) or session.turns[i].rating:
            return gr.skip(), gr.update(visible=False), ""
        chat = self._record(key, session, history, i, "down", comment or "", collection)
        return (gr.skip(), gr.skip(), gr.skip()) if chat is None else (chat, gr.update(visible=False), "")

    def cancel_comment(self, request: gr.Request):
        """Close the comment box without sending.  Returns (comment row, comment)."""
        key = _session_key(request)
        session = self.sessions.get(key)
        session.commenting = None
        self.sessions.put(key, session)
        return gr.update(visible=False), ""

    def _record(
        self,
        key: str | None,
        session: ChatSession,
        history: list[dict] | None,
        i: int,
        rating: str,
        comment: str,
        collection: str | None = None,
    ) -> list[dict] | None:
        """Send one rating; on success the chat messages with the answer
        marked as rated; ``None`` (and a short warning) when it could not be
        recorded."""
        t = labels(self.lang)
        turn = session.turns[i]
        try:
            if self.feedback is None:
                raise DocQAError("feedback is not collected by this server")
            payload = feedback_payload(turn.answer, rating, comment)
            if collection and collection != DEFAULT_COLLECTION:
                payload["collection"] = collection
            self.feedback(payload)
        except DocQAError as exc:
            gr.Warning(html.escape(str(exc)), title=t["feedback_failed"])
            return None
        session.turns[i] = replace(turn, rating=rating)
        session.commenting = None
        self.sessions.put(key, session)
        chat = list(history or [])
        if turn.at < len(chat):
            chat[turn.at] = answer_messages(turn.answer, self.lang, rating, collection or "")[0]
        gr.Info(t["feedback_thanks"])
        return chat

    def _check_rate(self, request: gr.Request | None) -> None:
        """``TooManyQuestions`` when the asking address is over its rate limit."""
        client = getattr(request, "client", None) if request is not None else None
        if self.limit is None or client is None:
            return
        wait = self.limit.hit(getattr(client, "host", None) or "unknown")
        if wait is not None:
            if self.on_limited is not None:
                self.on_limited()
            raise TooManyQuestions(labels(self.lang)["too_many"].format(s=wait), wait)

    def open_page(self, request: gr.Request):
        """Page load: the collection named by ``?collection=`` (an unknown one is
        a warning and the default is served).  Returns (collection, header,
        question box, examples, index line)."""
        name = request.query_params.get("collection") if request is not None else None
        try:
            engine = self.shelf.get(name or None)
        except DocQAError as exc:
            self._warn(exc)
            name, engine = DEFAULT_COLLECTION, self.shelf.default
        header, placeholder, examples, index_line = page_texts(engine, self.lang)
        shown = gr.Dataset(samples=[[q] for q in examples], visible=bool(examples))
        return name or DEFAULT_COLLECTION, header, gr.update(placeholder=placeholder), shown, index_line

    def _warn(self, exc: DocQAError) -> None:
        # Gradio renders toast text as HTML: the message is escaped.
        gr.Warning(html.escape(str(exc)), title=labels(self.lang)["error"])

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        mode: str | None = None,
        history: list[dict] | None = None,
        collection: str | None = None,
        request: gr.Request | None = None,
    ) -> dict:
        """The answer contract for one question, asked after ``history``'s
        turns (for API clients), from ``collection`` (default: the default one)."""
        try:
            self._check_rate(request)
            engine = self.shelf.get(collection)
            return engine.ask(question, top_k=top_k, mode=mode, history=history or ()).to_dict()
        except DocQAError as exc:
            raise gr.Error(str(exc)) from exc


def page_texts(engine: Engine, lang: str) -> tuple[str, str, list[str], str]:
    """What the chat window says about the collection it serves: (header,
    question box placeholder, example questions, index line)."""
    t = labels(lang)
    collection = engine.collection
    examples = list(collection.examples)
    subtitle = f"**{collection.title}** · " if collection.title else ""
    placeholder = t["placeholder_example"].format(example=examples[0]) if examples else t["placeholder"]
    return f"# {t['title']}\n{subtitle}{t['intro']}", placeholder, examples, t["index"].format(**engine.info())
