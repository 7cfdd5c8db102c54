"""The one interface every follow-up rewriter implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from docqa.conversation.records import Resolution, Turn


class Rewriter(Protocol):
    """Turns a question asked after ``history`` into a standalone question."""

    def rewrite(self, question: str, history: Sequence[Turn]) -> Resolution: ...


class Standalone:
    """Every question stands alone (the engine's default without a rewriter)."""

    def rewrite(self, question: str, history: Sequence[Turn]) -> Resolution:
        return Resolution(question, question)
