"""Text utilities every layer shares: normalising for matching, the CJK
character classes, and the one sentence splitter.

The character classes are bodies of a regular-expression class, to be used
inside ``[...]`` (``f"[{HAN}A-Za-z]"``)."""

from __future__ import annotations

import re
import unicodedata

HAN = "\u4e00-\u9fff"  # CJK Unified Ideographs (一 … 鿿)
HAN_EXT = "\u3400-\u9fff"  # … from Extension A (㐀) on, with the Yijing symbols between them
HAN_ALL = HAN_EXT + "\uf900-\ufaff"  # … and the CJK Compatibility Ideographs
CJK_TEXT = "\u3000-\u303f" + HAN_ALL + "\uff00-\uffef"  # … and CJK punctuation and full-width forms

HAN_CHAR = re.compile(f"[{HAN_ALL}]")
LATIN_CHAR = re.compile("[A-Za-z]")

# Marks that end a sentence (full-width and ASCII), and the closing quotes and
# brackets that stay with the sentence they close.
SENTENCE_MARKS = "。！？；!?;"
CLOSING = "”’」』）)"
# The default end of a sentence: an end mark or a line break, nothing kept after it.
SENTENCE_END = re.compile(f"[{SENTENCE_MARKS}\n]")
# An answer's citation marker, [n] (group 1: n). At most three digits: an answer cites no more
# than MAX_TOP_K passages, and a longer run of digits in a document ([2023…]) is text, which
# int() would refuse beyond 4,300 digits.
CITATION_MARKER = re.compile(r"\[(\d{1,3})\]")

_OPEN = "（(「『“《【"
_CLOSE = "）)」』”》】"


def normalize(text: str) -> str:
    """NFKC, markdown emphasis and whitespace removed, case-folded (for matching)."""
    t = unicodedata.normalize("NFKC", text).replace("**", "").replace("__", "")
    return re.sub(r"\s+", "", t).casefold()


def sentence_spans(
    text: str,
    ends: re.Pattern = SENTENCE_END,
    start: int = 0,
    end: int | None = None,
    *,
    skip: str = "",
    nested: bool = False,
) -> list[tuple[int, int]]:
    """The sentences of ``text[start:end]`` as (start, end) offsets, in order.

    A sentence runs to the end of the next match of ``ends`` (its end mark
    and whatever stays with it: closing quotes, citation markers); what
    follows the last match is the last sentence.  Spans are not trimmed.

    ``skip``: characters that begin no sentence; they are dropped between
    sentences, belonging to none.  ``nested``: an end mark inside brackets or
    quotes (（…。）, “…。”) does not end the sentence."""
    end = len(text) if end is None else end
    depth = _bracket_depth(text, start, end) if nested else None
    spans, pos = [], start
    while pos < end:
        while pos < end and text[pos] in skip:
            pos += 1
        if pos == end:
            break
        m = ends.search(text, pos, end)
        while m and depth and depth[m.start() - start]:
            m = ends.search(text, m.end(), end)
        stop = m.end() if m else end
        spans.append((pos, stop))
        pos = stop
    return spans


def _bracket_depth(text: str, start: int, end: int) -> list[int]:
    """Nesting depth of brackets and quotes at each position (unbalanced ones
    are forgotten at the end of a line, so a stray bracket cannot swallow text)."""
    depth, d = [], 0
    for ch in text[start:end]:
        if ch in _OPEN:
            d += 1
        elif ch in _CLOSE and d:
            d -= 1
        elif ch == "\n":
            d = 0
        depth.append(d)
    return depth
