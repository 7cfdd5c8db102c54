"""The DocQA chat window: people -> engine.

``build_app(engine)`` lays out the Gradio UI over an engine it is given; it
loads no model and starts no server (``docqa serve`` and the repository's
``app.py`` serve it with the portal widget and the HTTP API)."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from docqa.engine import MAX_TOP_K, Engine
from docqa.settings import DEFAULT_COLLECTION
from docqa.web.chat import MAX_COMMENT_CHARS, ChatHandlers, Feedback, page_texts
from docqa.web.labels import labels
from docqa.web.limits import RateLimit
from docqa.web.shelf import Shelf

ENGINE_CONCURRENCY_ID = "docqa-engine"  # every event that calls the engine shares one limit


def build_app(
    engine: Engine | Shelf,
    lang: str = "zh",
    concurrency: int = 4,
    feedback: Feedback | None = None,
    limit: RateLimit | None = None,
    queue_size: int | None = None,
    on_limited: Callable[[], None] | None = None,
) -> gr.Blocks:
    """The chat UI over ``engine`` (or a shelf of collections: ``?collection=NAME``
    in the page's URL picks one).  Gradio endpoints (stable ``api_name``s):
    ``/ask`` (question, top_k, mode, history, collection) -> answer contract, and
    ``/chat`` (the window's own streaming event).  With ``feedback`` (records
    the body of ``POST /api/feedback``, returns its id) every answer gets
    👍 / 👎 buttons; without it, none."""
    t = labels(lang)
    handlers = ChatHandlers(engine, lang, feedback, limit=limit, on_limited=on_limited)
    engine = handlers.engine  # the default collection's: the page as first sent
    header_text, placeholder, examples, index_text = page_texts(engine, lang)
    collection = engine.collection
    with gr.Blocks(title=collection.title or t["title"], analytics_enabled=False) as demo:
        # the collection this page asks, set from ?collection= on load (a hidden box: a State needs a heartbeat)
        served = gr.Textbox(DEFAULT_COLLECTION, visible=False, elem_id="dq-collection")
        header = gr.Markdown(header_text, elem_id="dq-header")
        chatbot = gr.Chatbot(
            label=t["chat"],
            elem_id="dq-chat",
            height=520,
            layout="bubble",
            latex_delimiters=[],
            allow_tags=False,
            sanitize_html=True,
            feedback_options=("Like", "Dislike") if feedback is not None else None,
            buttons=["copy"],
            placeholder=t["empty"],
        )
        with gr.Row(visible=False, elem_id="dq-feedback", equal_height=True) as feedback_row:
            comment = gr.Textbox(
                label=t["feedback_comment"],
                placeholder=t["feedback_comment_placeholder"],
                max_length=MAX_COMMENT_CHARS,
                lines=1,
                max_lines=3,
                scale=8,
                elem_id="dq-feedback-comment",
            )
            send_comment = gr.Button(t["feedback_send"], size="sm", scale=1, min_width=80, elem_id="dq-feedback-send")
            cancel_comment = gr.Button(t["feedback_cancel"], size="sm", scale=1, min_width=60, elem_id="dq-feedback-cancel")
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                placeholder=placeholder,
                show_label=False,
                lines=1,
                max_lines=4,
                scale=8,
                elem_id="dq-question",
                autofocus=True,
            )
            send = gr.Button(t["send"], variant="primary", scale=1, min_width=80, elem_id="dq-send")
        shown = gr.Examples(
            examples=[[q] for q in examples] or [[""]], inputs=[question], label=t["examples"], visible=bool(examples)
        )
        with gr.Accordion(t["settings"], open=False, elem_id="dq-settings"):
            top_k = gr.Slider(1, MAX_TOP_K, value=engine.top_k, step=1, label=t["top_k"], elem_id="dq-top-k")
            mode = gr.Radio(
                choices=[(t["mode_extractive"], "extractive"), (t["mode_llm"], "llm")],
                value=engine.default_mode,
                label=t["mode"],
                elem_id="dq-mode",
            )
            clear = gr.Button(t["clear"], size="sm")
        index_line = gr.Markdown(index_text, elem_id="dq-index")
        demo.load(handlers.open_page, None, [served, header, question, shown.dataset, index_line], api_visibility="private")

        chat_event = {
            "fn": handlers.respond,
            "inputs": [question, chatbot, top_k, mode, served],
            "outputs": [chatbot, question],
            "concurrency_id": ENGINE_CONCURRENCY_ID,
            "concurrency_limit": concurrency,
            "show_progress": "hidden",  # the pending "…" message shows progress
        }
        send.click(**chat_event, api_name="chat")
        question.submit(**chat_event, api_visibility="private")
        # the clear button and the chatbot's own trash button forget the conversation
        reset = {"fn": handlers.reset, "outputs": [chatbot, question, feedback_row, comment], "api_visibility": "private"}
        clear.click(**reset)
        chatbot.clear(**reset)
        if feedback is not None:
            rated = [chatbot, feedback_row, comment]
            chatbot.like(handlers.rate, [chatbot, served], rated, api_visibility="private")
            send_comment.click(handlers.send_comment, [chatbot, comment, served], rated, api_visibility="private")
            comment.submit(handlers.send_comment, [chatbot, comment, served], rated, api_visibility="private")
            cancel_comment.click(handlers.cancel_comment, None, [feedback_row, comment], api_visibility="private")

        def ask(
            question: str,
            top_k: int | None = None,
            mode: str | None = None,
            history: list[dict] | None = None,
            collection: str | None = None,
            request: gr.Request | None = None,
        ) -> dict:
            """Answer one question from the indexed documents, asked after the
            conversation's earlier turns (``history``: ``{"role": "user" |
            "assistant", "content": str}`` objects, oldest first), from
            ``collection`` (default: the default one); returns the answer contract."""
            return handlers.ask(question, top_k, mode, history, collection, request)

        gr.api(ask, api_name="ask", concurrency_id=ENGINE_CONCURRENCY_ID, concurrency_limit=concurrency)
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)  # None: unbounded
    return demo
