"""A named collection in the browser: the chat window at ``/?collection=NAME``
and the widget at ``/widget?collection=NAME`` show that collection's title and
example questions and answer from it (headless Chromium, as tests/test_browser.py)."""

from __future__ import annotations

import pytest

from tests.test_browser import CHROMIUM, ask_in_chat, browser, guarded_page, last_bot_text, widget_ask  # noqa: F401
from tests.test_named_collections import POLICY_Q, shelf  # noqa: F401  (fixture)
from tests.test_web_support import running_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def test_chat_window_and_widget_answer_from_the_collection_in_their_url(browser, shelf):  # noqa: F811
    shelf, settings = shelf
    with running_server(shelf, settings) as url, guarded_page(browser) as (page, guard):
        page.goto(f"{url}/?collection=policies")
        page.locator("#dq-header", has_text="人才政策汇编").wait_for(timeout=30_000)
        assert POLICY_Q in page.locator("#dq-question textarea").get_attribute("placeholder")
        ask_in_chat(page, POLICY_Q)
        page.locator("#dq-chat [data-testid='bot']", has_text="2500").first.wait_for(timeout=30_000)
        assert "2500" in last_bot_text(page) or "2500" in page.locator("#dq-chat").inner_text()

        page.goto(f"{url}/widget?collection=policies")
        assert page.title() == "人才政策汇编"
        widget_ask(page, POLICY_Q, 1)
        assert "2500" in page.locator(".dqw-bot").last.inner_text()
        asks = [r for r in guard.requests if r.endswith("/api/ask")]
        assert asks

        page.goto(f"{url}/")  # the default collection: the park's documents, not the policies
        page.locator("#dq-header", has_text="星河科技园资料").wait_for(timeout=30_000)
