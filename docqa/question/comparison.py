"""A question that compares things named in it: 「宝山区和静安区，哪个区组建的
创新联合体更多？」 is answered only when the documents give the fact for each of
them.  One sentence that names both answers it; else each thing is asked about
on its own (「宝山区组建的创新联合体是多少？」, 「静安区…」), and a thing whose fact
the documents do not give makes the comparison a refusal: the other's figure
alone does not say which is more.

The words and the pattern are data (docqa/lang/zh.toml: ``comparison``,
``comparison_joins``, ``comparison_time``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from docqa import lang
from docqa.question.preamble import without_preamble
from docqa.text import normalize

_ZH = lang.load("zh")
_COMPARISON = _ZH.pattern("comparison")
# a join word starting the question is part of the first name (和平区和河西区)
_JOIN = re.compile("(?<=..)(?:" + "|".join(re.escape(w) for w in _ZH.words["comparison_joins"]) + ")")
_TIME = _ZH.wordset("comparison_time")
MIN_ITEM_CHARS = 2
MAX_ITEMS = 4
MISSING = "文档中没有{}的这一项，无从比较"  # the refusal's notice: which thing lacks its fact


@dataclass(frozen=True)
class Comparison:
    """The things compared, as the question names them, and for each the
    question that asks for its fact alone."""

    items: tuple[str, ...]
    parts: tuple[str, ...]

    def missing(self, items: list[str]) -> str:
        """The notice for a comparison refused because ``items`` lack their fact."""
        return MISSING.format("、".join(items))

    def names_all(self, text: str) -> bool:
        """Does ``text`` (an answer's quotes and their sections) name every thing compared?"""
        where = normalize(text).replace("的", "")
        return all(normalize(item).replace("的", "") in where for item in self.items)


def comparison(question: str) -> Comparison | None:
    """The comparison ``question`` asks, or None when it asks none (or names
    fewer than two things before its 哪个…更多)."""
    m = _COMPARISON.match(without_preamble(question).strip())
    if m is None:
        return None
    items = tuple(dict.fromkeys(i.strip(" ，,") for i in _JOIN.split(m.group(1)) if i.strip(" ，,")))
    if not 2 <= len(items) <= MAX_ITEMS or any(len(i) < MIN_ITEM_CHARS for i in items):
        return None
    thing = m.group(2).strip()
    shared = os.path.commonprefix([i[::-1] for i in items])[::-1]  # 宝山区, 静安区: 区 (「哪个区组建的…」)
    for n in range(len(shared), 0, -1):
        if thing.startswith(shared[-n:]):
            thing = thing[n:]
            break
    thing = thing.removesuffix("得").removesuffix("的")  # 成立得更早, 规模的更大
    asks = "是什么时候" if m.group(3) in _TIME else "是多少"
    return Comparison(items, tuple(f"{item}{thing}{asks}？" for item in items))
