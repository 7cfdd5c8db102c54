"""A consequence says why only with what comes before it: 「因此它有时也被称为笨蛋水果。」
answers 「为什么称猴面包树为笨蛋水果？」 with its reason in the sentence before.
When the span chosen for a why-question opens with a consequence word
(因此, 所以, 于是…: ``consequence_opening`` in ``docqa/lang/zh.toml``), the
answer runs back over the clauses before it in its sentence and, when the
sentence itself opens so, over the sentence before it in the same paragraph —
still one exact quote of the document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from docqa import lang
from docqa.answer.candidates import Span, doc_slice
from docqa.ingest.sentences import display

MAX_CHARS = 300  # the reason and its consequence
_OPENS = lang.load("zh").pattern("consequence_opening")
_CALLED_WHAT = lang.load("zh").pattern("called_what")


def asks_why(question: str) -> bool:
    """Does a why-question (``kinds.why``) ask why, rather than what something is called (称为什么)?"""
    return not _CALLED_WHAT.search(question)


def with_reason(span: Span, spans: Sequence[Span]) -> Span:
    """``span`` with what it is the consequence of, when it opens as one."""
    if not _OPENS.match(span.text):
        return span
    hit = span.hit
    sentence = _whole(spans, span, span.index)
    if sentence is None:
        return span
    start = sentence.start
    if start == span.start and _OPENS.match(sentence.text):
        before = _whole(spans, span, span.index - 1)
        if before is not None and "\n" not in doc_slice(hit, before.end, sentence.start):
            start = before.start
    if start == span.start or span.end - start > MAX_CHARS:
        return span
    return replace(span, start=start, text=display(doc_slice(hit, start, span.end)))


def _whole(spans: Sequence[Span], of: Span, index: int) -> Span | None:
    """The whole sentence at ``index`` of ``of``'s passage, when it is a candidate."""
    return next((s for s in spans if s.hit is of.hit and s.index == index and s.whole), None)
