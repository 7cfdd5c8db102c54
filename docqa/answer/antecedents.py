"""Some chosen spans say what they answer only with what comes before them.

- A consequence says why only with its cause: 「因此它有时也被称为笨蛋水果。」 answers
  「为什么称猴面包树为笨蛋水果？」 with its reason in the sentence before.  A span
  chosen for a why-question that opens with a consequence word (因此, 所以,
  于是…: ``consequence_opening`` in ``docqa/lang/zh.toml``) runs back
  (``with_reason``).
- A pronoun says whom or what a sentence is about only with the sentence that
  named it: 「这一群包括原恒星、沃夫-瑞叶星和闪光星」 answers 「闪光星与沃夫-瑞叶星都
  属于哪一种变星？」 with 激变星 in the sentence before.  A span that opens with a pronoun or a
  demonstrative (他, 它, 其, 该, 这…: ``pronoun_start``) runs back
  (``with_antecedent``), unless it already holds the kind of thing asked (a
  number, a time, a name…).

Running back takes the clauses before the span in its sentence and, when the
sentence itself opens so, the sentence before it in the same paragraph, up to
``MAX_CHARS`` — still one exact quote of the document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from docqa import lang
from docqa.answer.candidates import Span, doc_slice, same_paragraph
from docqa.ingest.sentences import display
from docqa.question import Question

MAX_CHARS = 300  # the span and what it runs back over
_ZH = lang.load("zh")
_CONSEQUENCE = _ZH.pattern("consequence_opening")
_PRONOUN = _ZH.pattern("pronoun_start")
_CALLED_WHAT = _ZH.pattern("called_what")
_CHECKED_KINDS = ("time", "duration", "number", "list", "org", "person", "place", "why")  # kinds a span can be seen to hold


def asks_why(q: Question) -> bool:
    """Does ``q`` ask why (``kinds.why``), rather than what something is called (称为什么)?"""
    return q.kind == "why" and not _CALLED_WHAT.search(q.text)


def with_reason(q: Question, span: Span, spans: Sequence[Span]) -> Span:
    """``span`` with what it is the consequence of, when it opens as one and ``q`` asks why."""
    return _run_back(span, spans, _CONSEQUENCE) if asks_why(q) else span


def with_antecedent(q: Question, span: Span, spans: Sequence[Span]) -> Span:
    """``span`` with the sentence that names what its opening pronoun stands
    for, unless it holds what ``q`` asks for (or ``q`` asks how)."""
    if q.kind == "how" or (q.kind in _CHECKED_KINDS and span.kind_ok):
        return span
    return _run_back(span, spans, _PRONOUN)


def _run_back(span: Span, spans: Sequence[Span], opens: re.Pattern[str]) -> Span:
    """``span`` with the clauses, and the sentence, before it when it ``opens`` so."""
    if not opens.match(span.text):
        return span
    hit = span.hit
    sentence = _whole(spans, span, span.index)
    if sentence is None:
        return span
    start = sentence.start
    if start == span.start and opens.match(sentence.text):
        before = _whole(spans, span, span.index - 1)
        if before is not None and same_paragraph(hit, before.end, sentence.start):
            start = before.start
    if start == span.start or span.end - start > MAX_CHARS:
        return span
    return replace(span, start=start, text=display(doc_slice(hit, start, span.end)))


def _whole(spans: Sequence[Span], of: Span, index: int) -> Span | None:
    """The whole sentence at ``index`` of ``of``'s passage, when it is a candidate."""
    return next((s for s in spans if s.hit is of.hit and s.index == index and s.whole), None)
