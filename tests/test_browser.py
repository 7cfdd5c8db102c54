"""End to end in headless Chromium (Debian's ``chromium``, driven by Playwright).

- The demo portal page, served from another port, embeds the widget with the
  script snippet: the bubble appears, a question typed into the widget gets an
  answer with a visible citation (real model, bundled report).
- The full chat window: ask, see the answer, open its sources.
- Hostile documents are shown as text; nothing runs.
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
        # LLM mode is not configured: an error toast, not an answer
        page.click("#dq-settings button")
        page.locator("#dq-mode").get_by_text("大模型生成").click()
        ask_in_chat(page, FACT_Q)
        page.get_by_text(re.compile("LLM mode is not configured")).first.wait_for(timeout=15_000)
        assert page.locator("#dq-chat [data-testid='bot']").count() == 1  # only the abstention
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
