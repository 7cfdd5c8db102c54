"""Follow-up resolution by the LLM: the rewrite prompt (``prompts/rewrite_*``)
asks the configured model for the standalone question.  The extractive
rewriter runs first (it is cheap) and stays the answer whenever the model
fails, times out or replies with something that is not one question."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from docqa import lang
from docqa.conversation import Resolution, Turn
from docqa.conversation.base import Rewriter
from docqa.errors import LLMError
from docqa.llm.client import ChatClient
from docqa.llm.prompts import load_prompt

log = logging.getLogger(__name__)
MAX_TURN_CHARS = 300  # each earlier turn as the model sees it (answers are long; the subject is at the start)
MAX_TOKENS = 96
_ROLE = {"zh": {"user": "用户", "assistant": "助手"}, "en": {"user": "User", "assistant": "Assistant"}}
_PREFIXES = ("改写后的独立问题：", "独立问题：", "问题：", "Standalone question:", "Question:")


class LLMRewriter:
    """``rewrite(question, history)`` with ``client``; ``fallback`` (the
    extractive rewriter) when the model cannot be used."""

    def __init__(self, client: ChatClient, fallback: Rewriter, prompts_dir: Path | None = None, max_history: int = 6):
        self.client = client
        self.fallback = fallback
        self.prompts_dir = prompts_dir
        self.max_history = max_history
        self.prompts("zh"), self.prompts("en")  # a broken prompt file fails at start, not mid-conversation

    def prompts(self, code: str):
        return load_prompt("rewrite_system", code, self.prompts_dir), load_prompt("rewrite_user", code, self.prompts_dir)

    def rewrite(self, question: str, history: Sequence[Turn]) -> Resolution:
        extractive = self.fallback.rewrite(question, history)
        code = lang.detect(question)
        system, user = self.prompts(code)
        shown = "\n".join(f"{_ROLE[code][t.role]}：{t.content.strip()[:MAX_TURN_CHARS]}" for t in history[-self.max_history :])
        messages = [
            {"role": "system", "content": system.render()},
            {"role": "user", "content": user.render(history=shown, question=question)},
        ]
        try:
            reply = self.client.complete(messages, max_tokens=MAX_TOKENS, temperature=0.0, stream=False)
        except LLMError as exc:
            log.warning("follow-up rewrite by the LLM failed (%s); using the extractive rewrite", exc)
            return extractive
        resolved = _one_question(reply, question)
        if resolved is None:
            log.warning("the LLM's rewrite %r is not one question; using the extractive rewrite", reply[:200])
            return extractive
        carried = tuple(c for c in extractive.carried if c in resolved)
        return Resolution(question, resolved, carried, "llm")


def _one_question(reply: str, question: str) -> str | None:
    """The model's rewrite, cleaned; None when it is not one plausible question."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    text = lines[0]
    for prefix in _PREFIXES:
        text = text.removeprefix(prefix).strip()
    text = text.strip("\"'“”「」")
    if not text or len(text) > 2 * len(question) + 120:
        return None
    return text
