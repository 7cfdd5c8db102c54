"""What the chat window does with a question: check it, stream the engine's
answer into the conversation, then add the collapsible sources block.

In the window an engine error becomes a warning toast (never an answer, and
the conversation stays visible: a raised ``gr.Error`` would cover it); for
API clients (``/ask``) it is a ``gr.Error``.  Abstentions are answers and are
shown as such."""

from __future__ import annotations

import html

import gradio as gr

from docqa.engine import Engine
from docqa.errors import DocQAError
from docqa.records import Answer
from docqa.web.labels import labels
from docqa.web.render import answer_html, escape_text, partial_answer_html, sources_html, sources_title


def answer_messages(answer: Answer, lang: str) -> list[dict]:
    """The assistant's messages for a final answer: the answer, then (when it
    cites anything) the sources block, collapsed."""
    messages: list[dict] = [{"role": "assistant", "content": answer_html(answer, lang)}]
    if answer.citations:
        messages.append(
            {
                "role": "assistant",
                "content": sources_html(answer, lang),
                "metadata": {"title": sources_title(answer, lang), "status": "done"},
            }
        )
    return messages


class ChatHandlers:
    """Event handlers of the chat window, bound to one engine."""

    def __init__(self, engine: Engine, lang: str = "zh"):
        self.engine = engine
        self.lang = lang

    def respond(self, question: str, history: list[dict] | None, top_k: float | None, mode: str | None):
        """Yield (conversation, question box) as the engine streams the answer:
        a pending "…", the text so far at each of the engine's deltas (an
        extractive answer is one delta; an LLM's arrive token by token), then
        the final answer and its sources.

        A problem (bad question, LLM mode not configured, …) is a toast and
        leaves the conversation as it was, with the question still in its box."""
        k = int(top_k) if top_k is not None else None
        try:
            q, k, m = self.engine.check(question, k, mode)
        except DocQAError as exc:
            self._warn(exc)
            yield gr.skip(), gr.skip()
            return
        history = list(history or [])
        history.append({"role": "user", "content": escape_text(q)})
        yield history + [{"role": "assistant", "content": partial_answer_html("…")}], ""
        text = ""
        try:
            for event in self.engine.stream(q, top_k=k, mode=m):
                if event.kind == "delta":
                    text += event.text
                    yield history + [{"role": "assistant", "content": partial_answer_html(text)}], ""
                elif event.kind == "final" and event.answer is not None:
                    yield history + answer_messages(event.answer, self.lang), ""
        except DocQAError as exc:
            self._warn(exc)
            yield history[:-1], q  # no half answer; the question goes back to its box

    def _warn(self, exc: DocQAError) -> None:
        # Gradio renders toast text as HTML: the message is escaped.
        gr.Warning(html.escape(str(exc)), title=labels(self.lang)["error"])

    def ask(self, question: str, top_k: int | None = None, mode: str | None = None) -> dict:
        """The answer contract for one question (for API clients)."""
        try:
            return self.engine.ask(question, top_k=top_k, mode=mode).to_dict()
        except DocQAError as exc:
            raise gr.Error(str(exc)) from exc
