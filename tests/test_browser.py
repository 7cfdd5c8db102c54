"""End to end in headless Chromium (Debian's ``chromium``, driven by Playwright).

- The demo portal page, served from another port, embeds the widget with the
  script snippet: the bubble appears, a question typed into the widget gets an
  answer with a visible citation (real model, bundled report).
- The full chat window: ask, see the answer, open its sources.
- Hostile documents are shown as text; nothing runs.
- A conversation in the widget and in the chat window: follow-ups sent with
  the earlier turns, 「理解为」 under a rewritten one, kept across a reload of
  the widget, cleared by 「新对话」 / the clear button; 👍 / 👎 (with a
  comment) recorded.
- The admin page: sign in with the token, upload a document, follow its job;
  the widget then answers from the new document.
Every page must make no request to any host but the local servers.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from docqa.settings import REPO_ROOT, Settings
from tests.test_web_app import FIRST_Q, FOLLOW_UP_Q, THIRD_Q, with_rewriter
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    HOSTILE_LINE,
    HOSTILE_Q,
    REFUSAL_ZH,
    REPORT_Q,
    running_server,
    tiny_engine,
)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts"
PORTAL = REPO_ROOT / "examples" / "portal" / "index.html"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


class Guard:
    """Records every request of a browser context and blocks (and reports)
    any to a host other than the local servers; records dialogs too."""

    def __init__(self, context):
        self.foreign: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
            self.foreign.append(url)
            route.abort()
        else:
            route.continue_()

    def watch(self, page):
        def on_dialog(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page


@contextlib.contextmanager
def guarded_page(browser, **kwargs):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, **kwargs)
    guard = Guard(context)
    page = guard.watch(context.new_page())
    try:
        yield page, guard
    finally:
        context.close()
    assert guard.foreign == [], f"requests to other hosts: {guard.foreign}"


@contextlib.contextmanager
def portal_server(docqa_url: str):
    """The demo portal page on its own port, with its snippets pointed at the
    DocQA server under test (the file points at http://localhost:7860)."""
    page = PORTAL.read_text(encoding="utf-8").replace("http://localhost:7860", docqa_url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def prefix_proxy(upstream: str, prefix: str = "/docqa"):
    """A reverse proxy publishing ``upstream`` under ``prefix`` (stripped
    before forwarding, as nginx's ``proxy_pass http://…/;`` does), streaming
    responses (Gradio's server-sent events)."""
    import httpx
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.responses import PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    from docqa.web.server import BackgroundServer

    client = httpx.AsyncClient(timeout=60)
    hop = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "date", "server"}

    async def forward(request):
        path = request.url.path
        if not (path == prefix or path.startswith(prefix + "/")):
            return PlainTextResponse("not under the proxy prefix", status_code=404)
        url = upstream + (path[len(prefix) :] or "/") + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in hop]
        req = client.build_request(request.method, url, headers=headers, content=await request.body())
        resp = await client.send(req, stream=True)
        out = {k: v for k, v in resp.headers.items() if k.lower() not in hop}
        return StreamingResponse(
            resp.aiter_raw(), status_code=resp.status_code, headers=out, background=BackgroundTask(resp.aclose)
        )

    methods = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    with BackgroundServer(app, Settings()) as url:
        yield url + prefix


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.fixture(scope="module")
def report_server(report_engine):
    with running_server(report_engine, Settings()) as url:
        yield url


@pytest.fixture(scope="module")
def tiny_ui(tiny_engine):
    with running_server(tiny_engine, Settings()) as url:
        yield url


def ask_in_chat(page, question: str) -> None:
    page.fill("#dq-question textarea", question)
    page.click("#dq-send")


def last_bot_text(page) -> str:
    return page.locator("#dq-chat [data-testid='bot']").last.inner_text()


@pytest.mark.model
def test_portal_widget_bubble_answers_with_citation(browser, report_server):
    with portal_server(report_server) as portal, guarded_page(browser) as (page, guard):
        assert urlparse(portal).port != urlparse(report_server).port
        page.goto(portal)
        bubble = page.locator("#docqa-bubble")
        bubble.wait_for(state="visible", timeout=15_000)
        # the iframe snippet is on the page too
        inline = page.frame_locator("iframe[src$='/widget']")
        inline.locator("#dqw-title").wait_for(timeout=15_000)
        bubble.click()
        widget = page.frame_locator("#docqa-frame")
        widget.locator("#dqw-input").fill(REPORT_Q)
        widget.locator("#dqw-input").press("Enter")
        cite = widget.locator(".dqw-bot .dqw-cite").first
        cite.wait_for(state="visible", timeout=30_000)
        answer = widget.locator(".dqw-bot").last
        assert "36" in answer.inner_text() and cite.inner_text() == "[1]"
        answer.locator("summary").click()
        quote = answer.locator(".dqw-passage mark").first
        quote.wait_for(state="visible")
        assert "36家" in quote.inner_text()
        shot(page, "portal-widget.png")
        assert any(urlparse(u).port == urlparse(portal).port for u in guard.requests)
        assert any(u.endswith("/api/ask") for u in guard.requests)
        assert guard.dialogs == []


@pytest.mark.model
def test_chat_ui_answers_and_opens_sources(browser, report_server):
    with guarded_page(browser) as (page, guard):
        page.goto(report_server + "/")
        page.locator("#dq-question textarea").wait_for(timeout=30_000)
        assert "DocQA 文档问答" in page.inner_text("#dq-header")
        page.get_by_role("button", name=REPORT_Q).first.click()  # an example question fills the box
        playwright_api.expect(page.locator("#dq-question textarea")).to_have_value(REPORT_Q)
        page.click("#dq-send")
        page.locator("#dq-chat .dq-cite").first.wait_for(timeout=30_000)
        answer = page.locator("#dq-chat .dq-answer").last.inner_text()
        assert "36" in answer and "[1]" in answer
        quote = page.locator("#dq-chat mark.dq-quote").first
        assert not quote.is_visible()  # the sources block starts collapsed
        page.get_by_text(re.compile(r"^来源 \(1\)$")).click()
        quote.wait_for(state="visible", timeout=5_000)
        page.wait_for_timeout(1500)
        assert quote.is_visible(), "the sources block closed again by itself"
        assert "36家" in quote.inner_text()
        head = page.locator("#dq-chat .dq-source-head").first.inner_text()
        assert "上海科技创新报告" in head and "新型研发机构" in head
        shot(page, "chat-ui.png")
        assert guard.dialogs == []


def test_a_pdf_source_shows_the_quote_highlighted_on_its_page(browser, tmp_path):
    from tests.test_page_images import QUESTION, build_pdf_engine

    engine, _ = build_pdf_engine(tmp_path)
    with running_server(engine, Settings()) as url, guarded_page(browser) as (page, guard):
        page.goto(url + "/")
        ask_in_chat(page, QUESTION)
        page.locator("#dq-chat .dq-cite").first.wait_for(timeout=30_000)
        page.get_by_text(re.compile(r"^来源 \(1\)$")).click()
        page.get_by_text("在页面上查看").first.click()
        image = page.locator("#dq-chat img.dq-page").first
        image.wait_for(state="visible", timeout=10_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10_000)
        assert "page=2" in image.get_attribute("src")
        image.scroll_into_view_if_needed()
        shot(page, "chat-pdf-page.png")

        page.goto(url + "/widget")
        page.locator("#dqw-input").fill(QUESTION)
        page.locator("#dqw-input").press("Enter")
        answer = page.locator(".dqw-bot").last
        answer.locator(".dqw-cite").first.wait_for(timeout=30_000)
        answer.locator("summary").first.click()
        answer.locator(".dqw-pages summary").click()
        image = answer.locator("img.dqw-page")
        image.wait_for(state="visible", timeout=10_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10_000)
        shot(page, "widget-pdf-page.png")
        assert any("/api/page?" in u for u in guard.requests) and not guard.foreign


def test_hostile_document_is_shown_as_text_in_chat_and_widget(browser, tiny_engine, tiny_ui):
    expected = tiny_engine.ask(HOSTILE_Q).answer  # whatever the answerer quotes, it is shown verbatim
    assert "7788" in expected and "[1]" in expected
    with guarded_page(browser) as (page, guard):
        page.goto(tiny_ui + "/")
        page.locator("#dq-question textarea").wait_for(timeout=30_000)
        ask_in_chat(page, HOSTILE_Q)
        page.locator("#dq-chat .dq-cite").first.wait_for(timeout=30_000)
        page.get_by_text(re.compile(r"^来源 \(1\)$")).click()
        page.locator("#dq-chat mark.dq-quote").first.wait_for(state="visible")
        assert page.locator("#dq-chat .dq-answer").last.inner_text().strip() == expected
        assert HOSTILE_LINE in page.locator("#dq-chat .dq-passage").first.inner_text()
        chat = page.locator("#dq-chat")
        assert chat.locator("script").count() == 0
        assert chat.locator("img[src='x']").count() == 0
        assert chat.locator("a[href^='javascript']").count() == 0
        shot(page, "hostile-chat.png")

        page.goto(tiny_ui + "/widget")
        page.fill("#dqw-input", HOSTILE_Q)
        page.press("#dqw-input", "Enter")
        page.locator(".dqw-cite").first.wait_for(timeout=30_000)
        page.locator(".dqw-sources summary").last.click()
        assert page.locator(".dqw-answer").last.inner_text().strip() == expected
        assert HOSTILE_LINE in page.locator(".dqw-passage").last.inner_text()
        assert page.locator("#dqw-log script, #dqw-log img, #dqw-log a").count() == 0
        page.wait_for_timeout(300)
        assert guard.dialogs == []


def test_chat_ui_errors_and_abstentions(browser, tiny_ui):
    with guarded_page(browser) as (page, guard):
        page.goto(tiny_ui + "/")
        page.locator("#dq-question textarea").wait_for(timeout=30_000)
        ask_in_chat(page, "火星上有多少人？")
        page.locator("#dq-chat .dq-refused").wait_for(timeout=30_000)
        assert REFUSAL_ZH in page.locator("#dq-chat .dq-refused").inner_text()
        # under it, collapsed: the passages closest to the question, not an answer
        page.get_by_text("最接近问题的段落（未能确认其中有答案） (2)").click()
        page.locator("#dq-chat .dq-nearest").first.wait_for(state="visible", timeout=5_000)
        assert page.locator("#dq-chat .dq-nearest").count() == 2 and page.locator("#dq-chat mark").count() == 0
        # LLM mode is not configured: an error toast, not an answer
        page.click("#dq-settings button")
        page.locator("#dq-mode").get_by_text("大模型生成").click()
        ask_in_chat(page, FACT_Q)
        page.get_by_text(re.compile("LLM mode is not configured")).first.wait_for(timeout=15_000)
        assert page.locator("#dq-chat [data-testid='bot']").count() == 2  # only the abstention and its passages
        playwright_api.expect(page.locator("#dq-question textarea")).to_have_value(FACT_Q)  # given back
        shot(page, "chat-error.png")


def test_english_interface(browser, tiny_engine):
    with running_server(tiny_engine, Settings(), lang="en") as url, guarded_page(browser) as (page, _):
        page.goto(url + "/")
        page.locator("#dq-question textarea").wait_for(timeout=30_000)
        assert page.locator("#dq-send").inner_text() == "Ask"
        ask_in_chat(page, FACT_Q)
        page.get_by_text(re.compile(r"^Sources \(1\)$")).wait_for(timeout=30_000)
        page.goto(url + "/widget")
        assert page.locator("#dqw-send").inner_text() == "Ask"


def test_chat_and_widget_behind_a_reverse_proxy_sub_path(browser, tiny_engine):
    with running_server(tiny_engine, Settings(root_path="/docqa")) as upstream, prefix_proxy(upstream) as public:
        with guarded_page(browser) as (page, guard):
            page.goto(public + "/")
            page.locator("#dq-question textarea").wait_for(timeout=30_000)
            ask_in_chat(page, FACT_Q)
            page.locator("#dq-chat .dq-cite").first.wait_for(timeout=30_000)
            assert "42家" in page.locator("#dq-chat .dq-answer").last.inner_text()
            page.goto(public + "/widget")
            page.fill("#dqw-input", FACT_Q)
            page.press("#dqw-input", "Enter")
            page.locator(".dqw-cite").first.wait_for(timeout=30_000)
            upstream_port = urlparse(upstream).port
            assert not any(urlparse(u).port == upstream_port for u in guard.requests)  # all through the proxy
            assert any(urlparse(u).path == "/docqa/api/ask" for u in guard.requests)
            assert any(urlparse(u).path.startswith("/docqa/gradio_api/") for u in guard.requests)


RESOLVED_2 = "星河科技园累计引进了多少家高新技术企业？"
RESOLVED_3 = "星河科技园累计备案了多少家新型研发机构？"


def _asks(guard_requests: list) -> list[dict]:
    import json

    return [json.loads(r.post_data) for r in guard_requests if r.url.endswith("/api/ask")]


def widget_ask(page, question: str, answers: int) -> None:
    """Ask in the widget and wait for its ``answers``-th answer."""
    page.fill("#dqw-input", question)
    page.press("#dqw-input", "Enter")
    page.locator(".dqw-bot .dqw-feedback").nth(answers - 1).wait_for(timeout=30_000)


def test_widget_holds_a_conversation_keeps_it_across_a_reload_and_starts_over(browser, tiny_engine):
    from docqa.feedback import FeedbackStore

    settings = Settings()
    store = FeedbackStore.beside_index(settings.index_path)  # where the server keeps ratings
    engine = with_rewriter(tiny_engine)
    with running_server(engine, settings) as url, guarded_page(browser) as (page, guard):
        page.set_viewport_size({"width": 400, "height": 720})
        posted = []
        page.on("request", lambda r: posted.append(r) if r.method == "POST" else None)
        page.goto(url + "/widget")
        assert page.locator("#dqw-reset").inner_text() == "新对话"
        widget_ask(page, FIRST_Q, 1)
        widget_ask(page, FOLLOW_UP_Q, 2)
        widget_ask(page, THIRD_Q, 3)
        answers = page.locator(".dqw-bot:has(.dqw-feedback)")
        assert "120公顷" in answers.nth(0).inner_text() and answers.nth(0).locator(".dqw-resolved").count() == 0
        assert "58家" in answers.nth(1).inner_text() and "42家" in answers.nth(2).inner_text()
        assert answers.nth(1).locator(".dqw-resolved").inner_text() == "理解为：" + RESOLVED_2
        assert answers.nth(2).locator(".dqw-resolved").inner_text() == "理解为：" + RESOLVED_3
        # each question went with the conversation so far: questions as asked, answers' text
        first_text = engine.ask(FIRST_Q).answer
        bodies = _asks(posted)
        assert [len(b["history"]) for b in bodies] == [0, 2, 4]
        assert bodies[1]["history"] == [
            {"role": "user", "content": FIRST_Q},
            {"role": "assistant", "content": first_text},
        ]
        assert bodies[2]["history"][2]["content"] == FOLLOW_UP_Q
        shot(page, "widget-conversation.png")

        # a reload of the widget (the iframe) brings the conversation back, and it goes on
        page.reload()
        page.locator(".dqw-bot .dqw-feedback").nth(2).wait_for(timeout=10_000)
        assert page.locator(".dqw-user").all_inner_texts() == [FIRST_Q, FOLLOW_UP_Q, THIRD_Q]
        assert page.locator(".dqw-resolved").all_inner_texts() == ["理解为：" + RESOLVED_2, "理解为：" + RESOLVED_3]
        assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('docqa:')).length") == 1

        # 👎 with a comment on the follow-up: it lands in the feedback store
        second = page.locator(".dqw-bot:has(.dqw-feedback)").nth(1)
        second.get_by_role("button", name="没有帮助").click()
        comment = second.get_by_role("textbox", name="哪里不对？（可选）")
        playwright_api.expect(comment).to_be_focused()
        comment.fill("应该是园区的数字，请核对")
        second.get_by_role("button", name="发送", exact=True).click()
        playwright_api.expect(second.locator(".dqw-feedback-status")).to_have_text("已记录，谢谢", timeout=10_000)
        assert second.get_by_role("button", name="没有帮助").is_disabled()
        assert second.get_by_role("button", name="有帮助", exact=True).is_disabled()
        [record] = store.records()
        assert (record.rating, record.question, record.resolved_question) == ("down", FOLLOW_UP_Q, RESOLVED_2)
        assert record.comment == "应该是园区的数字，请核对" and "58家" in record.answer and record.mode == "extractive"
        assert [c["n"] for c in record.citations] == [1] and "58家" in record.citations[0]["quote"]

        # a failure says so and leaves the buttons to try again; 👍 works from the keyboard
        third = page.locator(".dqw-bot:has(.dqw-feedback)").nth(2)
        page.route("**/api/feedback", lambda route: route.fulfill(status=503, json={"error": "数据库暂时不可写"}))
        third.get_by_role("button", name="有帮助", exact=True).focus()
        page.keyboard.press("Enter")
        playwright_api.expect(third.locator(".dqw-feedback-status")).to_have_text("反馈未能发送：数据库暂时不可写")
        page.unroute("**/api/feedback")
        playwright_api.expect(third.get_by_role("button", name="有帮助", exact=True)).to_be_enabled()
        third.get_by_role("button", name="有帮助", exact=True).focus()
        page.keyboard.press("Enter")
        playwright_api.expect(third.locator(".dqw-feedback-status")).to_have_text("已记录，谢谢")
        assert [r.rating for r in store.records()] == ["down", "up"]

        # the ratings survive a reload too (no second rating of the same answer)
        page.reload()
        page.locator(".dqw-bot .dqw-feedback").nth(2).wait_for(timeout=10_000)
        assert page.locator(".dqw-rate:disabled").count() == 4 and page.locator(".dqw-rate:enabled").count() == 2

        # 「新对话」 clears the conversation and the storage: the follow-up now stands alone
        page.get_by_role("button", name="新对话").click()
        assert page.locator(".dqw-user").count() == 0 and page.locator(".dqw-bot").count() == 1  # the greeting
        assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('docqa:')).length") == 0
        widget_ask(page, FOLLOW_UP_Q, 1)
        assert page.locator(".dqw-resolved").count() == 0
        assert _asks(posted)[-1]["history"] == []
        page.reload()
        page.locator(".dqw-bot .dqw-feedback").first.wait_for(timeout=10_000)
        assert page.locator(".dqw-user").all_inner_texts() == [FOLLOW_UP_Q]
        assert guard.dialogs == []


def test_widget_shows_the_closest_passages_under_a_refusal(browser, tiny_ui):
    with guarded_page(browser) as (page, guard):
        page.goto(tiny_ui + "/widget")
        widget_ask(page, "火星上有多少人？", 1)
        refusal = page.locator(".dqw-bot.dqw-refused")
        assert REFUSAL_ZH in refusal.inner_text()
        nearest = refusal.locator(".dqw-nearest")
        assert nearest.locator("summary").inner_text() == "最接近问题的段落（未能确认其中有答案） (2)"
        playwright_api.expect(nearest.locator(".dqw-passage").first).to_be_hidden()  # collapsed
        nearest.locator("summary").click()
        assert nearest.locator(".dqw-passage").count() == 2 and nearest.locator("mark").count() == 0
        assert guard.dialogs == []


def test_widget_conversations_do_not_mix_between_two_embeddings(browser, tiny_engine):
    """The inline iframe and the bubble on one page (one tab, one origin) keep
    a conversation each."""
    with running_server(tiny_engine, Settings()) as url, guarded_page(browser) as (page, _):
        page.goto(url + "/widget")
        widget_ask(page, FACT_Q, 1)
        page.goto(url + "/widget?embed=bubble")
        page.locator("#dqw-input").wait_for()
        assert page.locator(".dqw-user").count() == 0
        page.goto(url + "/widget?lang=en")
        assert page.locator(".dqw-user").all_inner_texts() == [FACT_Q]
        assert page.locator("#dqw-reset").inner_text() == "New conversation"
        assert page.get_by_role("button", name="Not helpful").count() == 1


def test_chat_window_holds_a_conversation_and_takes_feedback(browser, tiny_engine, monkeypatch):
    import docqa.web.ui

    sent = []
    real_build_app = docqa.web.ui.build_app

    def build_app(*args, **kwargs):  # a feedback recorder of our own (the server passes the store's)
        return real_build_app(*args, **{**kwargs, "feedback": lambda body: sent.append(body) or len(sent)})

    monkeypatch.setattr(docqa.web.ui, "build_app", build_app)
    with running_server(with_rewriter(tiny_engine), Settings()) as url, guarded_page(browser) as (page, guard):
        page.goto(url + "/")
        page.locator("#dq-question textarea").wait_for(timeout=30_000)
        ask_in_chat(page, FIRST_Q)
        page.locator("#dq-chat .dq-answer").first.wait_for(timeout=30_000)
        playwright_api.expect(page.locator("#dq-chat .dq-cite")).to_have_count(1, timeout=30_000)
        ask_in_chat(page, FOLLOW_UP_Q)
        resolved = page.locator("#dq-chat .dq-resolved")
        resolved.wait_for(timeout=30_000)
        assert resolved.inner_text() == "理解为：" + RESOLVED_2
        playwright_api.expect(page.locator("#dq-chat .dq-cite")).to_have_count(2, timeout=30_000)
        # 👎 on the follow-up opens the comment box; sending records the rating with the comment
        page.locator("#dq-chat [data-testid='bot']").last.hover()
        page.get_by_role("button", name=re.compile("^(Dislike|踩)$")).last.click()
        box = page.locator("#dq-feedback-comment textarea")
        box.wait_for(state="visible", timeout=10_000)
        box.fill("数字不对")
        page.click("#dq-feedback-send")
        page.get_by_text("已记录：没有帮助。谢谢！").wait_for(timeout=10_000)
        playwright_api.expect(box).to_be_hidden()
        assert [(b["rating"], b["question"], b["resolved_question"], b["comment"]) for b in sent] == [
            ("down", FOLLOW_UP_Q, RESOLVED_2, "数字不对")
        ]
        assert "58家" in sent[0]["answer"] and sent[0]["citations"][0]["n"] == 1
        shot(page, "chat-conversation.png")
        # the clear button forgets the conversation: the same follow-up now stands alone
        page.click("#dq-settings button")
        page.get_by_role("button", name="清空对话").click()
        playwright_api.expect(page.locator("#dq-chat .dq-answer")).to_have_count(0)
        ask_in_chat(page, FOLLOW_UP_Q)
        page.locator("#dq-chat .dq-answer").first.wait_for(timeout=30_000)
        playwright_api.expect(page.locator("#dq-chat .dq-cite")).to_have_count(1, timeout=30_000)
        assert page.locator("#dq-chat .dq-resolved").count() == 0
        assert guard.dialogs == []


def test_admin_upload_then_the_widget_answers_from_the_new_document(browser):
    """An administrator signs in on /admin, uploads a Markdown file; once its
    job is done (and the default collection has reloaded) the widget answers
    from it."""
    import httpx

    from tests.test_admin_api import NEWS, NEWS_FACT, NEWS_Q, TOKEN, admin_server, wait_until

    settings = Settings(admin_token=TOKEN)
    with admin_server(settings) as url, guarded_page(browser) as (page, guard):
        page.goto(url + "/admin")
        page.fill("#adm-token", "not-the-token")
        page.press("#adm-token", "Enter")
        playwright_api.expect(page.locator("#adm-error")).to_have_text("令牌不正确。")
        assert page.locator("#adm-main").is_hidden()
        page.fill("#adm-token", TOKEN)
        page.click("#adm-login-btn")
        page.locator("#adm-main").wait_for(state="visible", timeout=10_000)
        playwright_api.expect(page.locator("#adm-login")).to_be_hidden()
        playwright_api.expect(page.locator("#adm-error")).to_have_text("")
        playwright_api.expect(page.locator("#adm-docs tr")).to_have_count(2)  # the park report and the notice

        page.set_input_files("#adm-files", {"name": "news.md", "mimeType": "text/markdown", "buffer": NEWS.encode()})
        page.click("#adm-upload-btn")
        job = page.locator("#adm-jobs li").first
        job.locator("[data-state='done']").wait_for(timeout=30_000)
        assert "upload · default · news.md" in job.inner_text() and "1 added" in job.inner_text()
        playwright_api.expect(page.locator("#adm-docs tr")).to_have_count(3, timeout=10_000)
        playwright_api.expect(page.locator("#adm-docs")).to_contain_text("news.md")
        playwright_api.expect(page.locator("#adm-audit")).to_contain_text("admin@127.0.0.1")
        shot(page, "admin-upload.png")

        # the default collection follows the new index generation within a second or two
        wait_until(lambda: httpx.get(url + "/healthz").json()["documents"] == 3, "the default collection to reload")
        page.goto(url + "/widget")
        widget_ask(page, NEWS_Q, 1)
        answer = page.locator(".dqw-bot:has(.dqw-feedback)").last
        assert NEWS_FACT in answer.locator(".dqw-answer").inner_text()
        answer.locator(".dqw-sources summary").click()
        assert "园区新闻" in answer.inner_text()
        shot(page, "admin-upload-widget.png")
        assert any(urlparse(u).path == "/api/admin/documents" for u in guard.requests)
        assert guard.dialogs == []
