"""Reading an LLM's reply: its sentences, the ``[n]`` markers each one carries,
and the sentence's own text without markers or references to the passages.

The grounding guard (``guard.py``) checks what this module reads.
"""

from __future__ import annotations

import re

from docqa.text import CLOSING, SENTENCE_MARKS, sentence_spans

MARKER = re.compile(r"[\[［【]\s*(?:passages?|资料|段落|来源)?\s*(\d{1,3}(?:\s*[,，、\-–~]\s*\d{1,3})*)\s*[\]］】]", re.I)
_BULLET = re.compile(r"(?m)^[ \t]*(?:\d{1,2}[.、)）](?!\d)|[-*•·]|#+)[ \t]*")
# A reply's sentence ends at a run of end marks, a full stop that is no decimal
# point, or line breaks; closing quotes and its [n] markers stay with it.
_END = re.compile(rf"(?:[{SENTENCE_MARKS}]+|\.(?!\d)|\n+)(?:[ \t]*[{CLOSING}\"']|[ \t]*{MARKER.pattern})*", re.I)
_TERMINATOR = re.compile(r"[。！？!?；;.，,：:、\s]+$")
# References to the passages themselves ("根据资料中的第3段", "according to passage 2",
# "(Passage 2)"): not claims, and their numbers would be wrong once citations are renumbered.
_META = re.compile(
    r"(?:根据|依据|参考|据|见|如)?(?:以上|上述)?(?:资料|段落|材料)?\s*(?:中的?)?\s*第\s*\d+\s*段(?:资料|段落)?(?:中的?)?(?:的)?(?:描述|内容|信息|所述|记载|所示)?[，,：:]?"
    r"|(?:根据|依据|参考|据|见|如)(?:以上|上述)?(?:资料|段落|材料)\s*[\[［【]\s*\d+\s*[\]］】]\s*(?:中的?)?(?:的)?(?:描述|内容|信息|所述|记载|所示)?[，,：:]?"
    r"|^(?:根据|依据)(?:以上|上述)?(?:资料|段落|材料)(?:中的?)?(?:描述|内容|信息)?[，,：:]"
    r"|(?:according to|as stated in|based on|as shown in|see) (?:the )?passages? ?\[?\d+\]?,? ?"
    r"|\s*[（(]\s*(?:passages?|sources?|资料|段落|来源)\s*\d{1,3}(?:\s*(?:[,，、]|and)\s*\d{1,3})*\s*[）)]",
    re.I,
)


def markers(text: str) -> list[int]:
    out: list[int] = []
    for m in MARKER.finditer(text):
        for part in re.split(r"\s*[,，、]\s*", m.group(1)):
            if re.search(r"[\-–~]", part):
                a, b = (int(x) for x in re.split(r"\s*[\-–~]\s*", part)[:2])
                out.extend(range(a, b + 1) if 0 < b - a < 10 else [a, b])
            else:
                out.append(int(part))
    return out


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """The reply's sentences, each with the markers that follow it, and
    whether a line break ended it."""
    text = _BULLET.sub("", text.replace("**", "").replace("__", ""))
    out: list[tuple[str, bool]] = []
    for start, end in sentence_spans(text, _END):
        piece = text[start:end]
        if piece.strip():
            out.append((piece.strip(), "\n" in piece))
        elif out and "\n" in piece:
            out[-1] = (out[-1][0], True)
    return out


def sentence_body(sentence: str) -> tuple[str, str]:
    """The sentence without markers (or references to passages), and its closing punctuation."""
    body = MARKER.sub("", _META.sub("", sentence.strip())).strip()
    m = _TERMINATOR.search(body)
    end = m.group().strip() if m else ""
    body = body[: m.start()] if m else body
    closing = end[-1] if end and end[-1] in "。！？!?.；;" else ""
    return body.strip(), closing
