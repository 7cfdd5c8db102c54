"""A lead that announces a list says nothing by itself: 「第五条 以下商品不适用七天
无理由退货：」 answers which goods only with the items under it.  When the chosen
span ends its line with a colon and the lines after it in its passage are list
items (（一）, 1., 一、, ①, a bullet: ``LIST_ITEM``), the answer runs on through
them — still one exact quote of the document."""

from __future__ import annotations

from dataclasses import replace

from docqa.answer.candidates import Span, doc_slice
from docqa.ingest.layout import LIST_ITEM
from docqa.ingest.sentences import display

MAX_ITEMS = 10
MAX_CHARS = 400  # the lead and its items
_COLONS = ("：", ":")


def with_items(span: Span) -> Span:
    """``span`` with the list items that follow it, when it is a list's lead."""
    c = span.hit.chunk
    if not doc_slice(span.hit, span.start, span.end).rstrip().endswith(_COLONS):
        return span
    rest, _, after = c.text[span.end - c.start :].partition("\n")
    if rest.strip():
        return span  # the colon is inside a line: what follows it is its own text, not items
    end, items = span.end, 0
    at = span.end + len(rest) + 1
    for line in after.split("\n"):
        text = line.strip()
        if text:
            stop = at + len(line.rstrip())
            if not LIST_ITEM.match(text) or items == MAX_ITEMS or stop - span.start > MAX_CHARS:
                break
            end, items = stop, items + 1
        at += len(line) + 1
    if not items:
        return span
    return replace(span, end=end, text=display(doc_slice(span.hit, span.start, end)))
