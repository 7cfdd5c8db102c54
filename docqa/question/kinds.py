"""Answer kinds: what sort of answer a question expects, recognised from its
wording (Chinese or English), and whether a text holds that sort of thing.
The patterns are data: docqa/lang/zh.toml and en.toml."""

from __future__ import annotations

import re

from docqa import lang
from docqa.index.tokenize import Segmenter
from docqa.text import normalize

_ZH, _EN = lang.load("zh"), lang.load("en")
# Each kind with its patterns in both languages, in recognition order: the first kind found wins.
_KINDS = [(kind, (_ZH.kinds[kind].pattern, _EN.kinds[kind].pattern)) for kind in _ZH.kinds]
VALUE_KINDS = ("number", "time", "duration", "person")  # questions asking for a value of the thing they name
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

_PERSON_TAGS = _ZH.wordset("person_tags")
_PLACE_TAGS = _ZH.wordset("place_tags")


def answer_kind_names() -> tuple[str, ...]:
    """Every answer kind ``answer_kind`` returns, in a fixed order."""
    return tuple(kind for kind, _ in _KINDS) + ("other", "multi")


def answer_kind(question: str) -> str:
    """What sort of answer the question expects; "multi" when it asks several
    things of different sorts (each part then only needs covering)."""
    parts = [p for p in _ZH.pattern("question_parts").split(question) if p.strip()]
    kinds = {_kind(p) for p in parts} if len(parts) > 1 else set()
    if len(kinds) > 1:
        return "multi"
    return _kind(question)


def _kind(question: str) -> str:
    for kind, patterns in _KINDS:
        if any(p.search(question) for p in patterns):
            return kind
    return "other"


def satisfies_kind(kind: str, text: str, question: str = "", segmenter: Segmenter | None = None) -> bool:
    """Does ``text`` contain the sort of thing the question asks for — and
    something the question did not already say (a number, place or name
    repeated from the question is not an answer)?"""
    if kind == "time":
        return bool(_ZH.pattern("time_evidence").search(_without(text, question, NUMBER)))
    if kind == "duration":
        return bool(_ZH.pattern("duration_evidence").search(_without(text, question, NUMBER)))
    if kind == "number":
        return bool(
            _ZH.pattern("number_evidence").search(_ZH.pattern("not_quantity").sub("", _without(text, question, NUMBER)))
        )
    if kind == "list":
        if not (
            _ZH.pattern("list_evidence").search(text) or (_ZH.pattern("joined").search(text) and not re.search(r"\d", text))
        ):
            return False
        asked = _asked_count(question)  # "36家…分别是哪些": an answer names at least three
        return asked is None or _items(text) >= min(asked, 3)
    if kind == "org":
        return bool(_ZH.pattern("org_evidence").search(text))
    if kind == "why":
        return bool(_ZH.pattern("reason_evidence").search(text))
    if kind == "task":
        return False  # "write me a poem" is not a question about the documents
    if kind == "person" and _ZH.pattern("org_name").search(text):
        return True  # "who" may be an organisation (龙头企业是谁)
    if kind in ("person", "place") and segmenter is not None:
        tags = _PERSON_TAGS if kind == "person" else _PLACE_TAGS
        asked_text = normalize(question)
        if kind == "place":
            text = _ZH.pattern("org_name").sub("", text)  # 中国商用飞机有限责任公司 names a company, not a place
        words = [w for w in segmenter.coarse_words(text) if len(w) >= 2 and normalize(w) not in asked_text]
        if any((segmenter.tag(w) or "") in tags for w in words):
            return True
        return kind == "place" and any(m.group() not in asked_text for m in _ZH.pattern("place_name").finditer(text))
    return True


def must_hold(question: str) -> re.Pattern | None:
    """What any answer to the question holds, if it must: a number, in digits or
    in Chinese numerals, when it only counts things (多少家, 几个); a year when
    it asks which year (哪一年); a month when it asks which month (哪个月); a day
    when it asks which day (哪一天); a number of three digits or more when it
    asks which number to call (客服电话多少, 打哪个电话)."""
    asked = normalize(question)
    for asks, holds in (
        ("counts_things", "any_number"),
        ("asks_year", "year_evidence"),
        ("asks_day", "day_evidence"),  # before the month: 几月几号 asks a day
        ("asks_month", "month_evidence"),
        ("asks_phone", "phone_evidence"),
    ):
        if _ZH.pattern(asks).search(asked):
            return _ZH.pattern(holds)
    return None


def _asked_count(question: str) -> int | None:
    m = _ZH.pattern("asked_count").search(question)
    if not m:
        return None
    n = m.group(1)
    return int(n) if n.isdigit() else _ZH.numerals[n]


def _items(text: str) -> int:
    """How many items an enumeration lists (A、B和C -> 3)."""
    return text.count("、") + 1 + (1 if _ZH.pattern("joined_tail").search(text.split("、")[-1]) else 0)


def _without(text: str, question: str, pattern: re.Pattern) -> str:
    """``text`` minus the matches of ``pattern`` that the question already contains."""
    asked = set(pattern.findall(normalize(question)))
    return pattern.sub(lambda m: "" if m.group() in asked else m.group(), text) if asked else text
