"""The one interface every answerer implements.

An answerer turns a question and its retrieved passages into an answer, as a
stream: zero or more ``Delta`` events (more answer text, shown as it comes),
then exactly one ``Final`` (the complete, checked answer with its citations).
The extractive answerer yields its whole text as one delta; the LLM answerer
yields tokens.  The engine chooses an answerer by mode and never needs to know
which one it holds.

A refusal is a ``Final`` with ``refused=True``: its text is the ``refusal``
wording the engine passes in (it belongs to the collection being asked, not to
the answerer).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from docqa.question import Question
from docqa.records import Citation, Hit


@dataclass(frozen=True)
class Delta:
    """More of the answer text (citation markers may still change)."""

    text: str


@dataclass
class Final:
    """The complete answer: text with ``[n]`` markers, whether it is a
    refusal, the citations the markers point to, and a notice for the user
    (e.g. the LLM was unavailable and the answer is extractive)."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    notice: str | None = None
    llm: dict | None = None  # LLM answers: model, tokens, timings, the grounding guard's report
    reason: str = ""  # why the answer was refused (for explanations and the eval)
    confidence: float | None = None  # how likely the answer is to answer the question (the selector's estimate)
    second_opinion: float | None = None  # the LLM's, when DOCQA_CHECK asked it (docqa/answer/second_opinion.py)


Event = Delta | Final


class Answerer(Protocol):
    """Answers from retrieved passages, or refuses."""

    def answer(self, question: Question, hits: list[Hit], refusal: str, min_confidence: float | None = None) -> Iterator[Event]:
        """Stream the answer to ``question`` from ``hits``; refuse with the text
        ``refusal``.  ``min_confidence`` overrides the answer selector's
        threshold (the eval's risk–coverage curve moves it)."""
        ...


def final_of(events: Iterator[Event]) -> Final:
    """The ``Final`` event of an answer stream (deltas are dropped)."""
    for event in events:
        if isinstance(event, Final):
            return event
    raise RuntimeError("the answer stream ended without a final answer")
