"""A question that compares things named in it: 「宝山区和静安区，哪个区组建的
创新联合体更多？」 is answered only when the documents give the fact for each of
them.  One sentence that names both answers it; else each thing is asked about
on its own (「宝山区组建的创新联合体是多少？」, 「静安区…」), and a thing whose fact
the documents do not give makes the comparison a refusal: the other's figure
alone does not say which is more.

「宝山区组建的创新联合体比静安区多吗？」 compares the same way: the thing named
before 比 and the one after it.

The words and the patterns are data (docqa/lang/zh.toml: ``comparison``,
``comparison_than``, ``comparison_joins``, ``comparison_time``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from docqa import lang
from docqa.question.preamble import without_preamble
from docqa.text import normalize

_ZH = lang.load("zh")
_COMPARISON = _ZH.pattern("comparison")
_THAN = _ZH.pattern("comparison_than")
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9-]*\d[A-Za-z0-9-]*")  # a model code: QH-R800
_ASKS = tuple(_ZH.words["interrogatives"]) + ("为什么", "怎么", "如何", "是否")
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
    asked = without_preamble(question).strip()
    m = _COMPARISON.match(asked)
    if m is None:
        return _than(asked)
    items = tuple(dict.fromkeys(i.strip(" ，,") for i in _JOIN.split(m.group(1)) if i.strip(" ，,")))
    if not 2 <= len(items) <= MAX_ITEMS or any(len(i) < MIN_ITEM_CHARS for i in items):
        return None
    thing = m.group(2).strip()
    shared = os.path.commonprefix([i[::-1] for i in items])[::-1]  # 宝山区, 静安区: 区 (「哪个区组建的…」)
    for n in range(len(shared), 0, -1):
        if thing.startswith(shared[-n:]):
            thing = thing[n:]
            break
    return _compared(items, thing, m.group(3))


def _compared(items: tuple[str, ...], thing: str, comparative: str) -> Comparison:
    thing = thing.removesuffix("得").removesuffix("的")  # 成立得更早, 规模的更大
    asks = "是什么时候" if comparative in _TIME else "是多少"
    return Comparison(items, tuple(f"{item}{thing}{asks}？" for item in items))


def _than(question: str) -> Comparison | None:
    """「A…比B多吗？」 or 「A比B…多吗？」: the two things and what is compared,
    told apart by what the things share — the character they end with (宝山区,
    静安区) or the shape of a model code (QH-R800, QH-R500); None when neither
    reading finds two such things."""
    m = _THAN.match(question)
    if m is None:
        return None
    before, after = m.group(1).strip(" ，,"), m.group(2).strip(" ，,").removesuffix("的")
    if any(w in before + after for w in _ASKS):
        return None  # 「为什么宝山区比…」, 「宝山区比哪个区…」 ask no fact of each
    split = _leading(before, after)  # 宝山区组建的创新联合体 | 静安区
    if split is not None:
        first, thing = split
        items = (first, after)
    else:
        split = _leading(after, before)  # 宝山区 | 静安区组建的创新联合体
        if split is None:
            return None
        second, thing = split
        items = (before, second)
    if any(len(i) < MIN_ITEM_CHARS for i in items) or not thing.strip("的") or items[0] == items[1]:
        return None
    return _compared(items, thing, m.group(3))


def _leading(text: str, like: str) -> tuple[str, str] | None:
    """``text`` as a thing like ``like`` and what follows it: (宝山区, 组建的…) of
    「宝山区组建的…」 like 静安区; None when ``like`` is not a thing's name (it has
    的, or no start of ``text`` ends as it does)."""
    if "的" in like or not like:
        return None
    code = _CODE.fullmatch(like) and _CODE.match(text)
    if code:
        return text[: code.end()], text[code.end() :]
    end = text.find(like[-1], 1)
    if end < 0 or end == len(text) - 1:
        return None
    return text[: end + 1], text[end + 1 :]
