"""Labelled fields: a line such as 「地址：青岚市东湖区湖滨路56号」 answers a
question that asks for what its label names (「东湖支行在哪儿？」), and a
price line such as 「EB-30座垫：89元」 one that asks what the item it names
costs, when its document's title, its headings and the line name everything
else the question names.

The answer selector scores how much of a question a sentence repeats.  Users
ask for an address, a number to call, opening hours or a price in words a
label does not repeat (在哪儿 for 地址, 电话多少 for 客服热线), so the right line of a
service guide scores below the threshold and is refused.  Which questions ask
for which field, and which labels and values give it, is language knowledge
(``asks_*``, ``*_label``, ``*_value`` in the language file).  A field answers
only a question the selector refused, and only when exactly one value fits:
a question that does not say which branch is still refused.
"""

from __future__ import annotations

import re
from dataclasses import replace

from docqa import lang
from docqa.answer.candidates import Span, doc_slice
from docqa.ingest.sentences import display
from docqa.question import Question, normalize
from docqa.question.frames import day_frames

_ZH = lang.load("zh")
# (what a question asks it by, its words that name nothing, the labels that give it, what its value holds)
FIELDS = tuple(
    (_ZH.pattern(asks), _ZH.pattern(words), _ZH.pattern(label), _ZH.pattern(value))
    for asks, words, label, value in (
        ("asks_address", "address_words", "address_label", "address_value"),
        ("asks_phone", "phone_words", "phone_label", "phone_evidence"),
        ("asks_opening", "opening_words", "opening_label", "opening_value"),
        ("asks_price", "price_words", "price_label", "price_value"),
        ("asks_range", "range_words", "range_label", "range_value"),
        ("asks_weight", "weight_words", "weight_label", "weight_value"),
        ("asks_speed", "speed_words", "speed_label", "speed_value"),
        ("asks_charge", "charge_words", "charge_label", "charge_value"),
        ("asks_colour", "colour_words", "colour_label", "colour_value"),
    )
)
_FIELD_LINE = _ZH.pattern("field_line")
_GENERIC = _ZH.pattern("field_label_generic")
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")
_LABEL = re.compile(r"\s*[：:]\s*")
_ENUMERATOR = _ZH.pattern("section_number")  # 「6. 」 of 「6. 考试地点：…」


def field_answer(q: Question, spans: list[Span], allowed: list[bool]) -> Span | None:
    """The labelled line that gives what a Chinese question asks for, as the
    span it answers with (None when no line, or more than one, gives it).

    Its document's title, headings and line must name every word the
    question names besides what it asks; of the lines that do, those whose
    label repeats the most of them count («客服热线» for 「客服电话是多少」, not
    «白金卡专线» under the same chapter), and their values must agree.  The
    answer goes on over the rest of its line that may answer too (「周六
    9:00—12:00；周日休息」 after 「营业时间：周一至周五 9:00—17:00；」 for a question
    that names no days; only the weekend's part for 「周末呢？」)."""
    if q.lang != "zh":
        return None
    asked = normalize(q.text)
    days = bool(day_frames(q.text))
    for asks, words, label, value in FIELDS:
        if not asks.search(asked):
            continue
        # What the question asks names nothing; nor does a class of days (工作日), which
        # the candidates already agree with (``candidates``: 「周一至周五 …」 for 工作日).
        terms = [
            t.text for t in q.terms
            if not (asks.search(t.text) or words.match(t.text) or label.fullmatch(t.text) or day_frames(t.text))
        ]  # fmt: skip
        if not terms:
            return None  # 「充满电能跑多远？」 names no model: which one's line answers it is not known
        found: dict[str, tuple[int, Span]] = {}
        for s, ok in zip(spans, allowed):
            field = _labelled(s, continued=days) if ok and s.whole else None
            if field is None:
                continue
            name, given = field
            said = label.search(name)
            if not (said and value.search(given) and _names_no_more(name, said, asked)):
                continue
            # what the value adds in brackets names no more of it: 「整车质量：48千克（含电池）」 is not the battery's
            where = normalize(f"{s.hit.chunk.title}\n{s.hit.chunk.section}\n{name}\n{_BRACKETED.sub('', given)}")
            if all(t in where for t in terms):
                found.setdefault(normalize(given), (sum(t in normalize(name) for t in terms), s))
        best = max((n for n, _ in found.values()), default=0)
        values = [s for n, s in found.values() if n == best]
        return _through(values[0], _rest_of_line(values[0], spans, allowed)) if len(values) == 1 else None
    return None


def _labelled(s: Span, continued: bool) -> tuple[str, str] | None:
    """A whole sentence's label and value: its own (「地址：…」), or, when
    ``continued``, the one its line opened with when it goes on after a
    semicolon (「周六 9:00—12:00；」 of 「营业时间：周一至周五 9:00—17:00；周六
    9:00—12:00；周日休息」)."""
    own = _field(s.text)
    if own is not None or not continued:
        return own
    before = doc_slice(s.hit, s.hit.chunk.start, s.start).rpartition("\n")[2]
    opened = _field(before)
    return (opened[0], s.text) if opened is not None and before.rstrip().endswith(("；", ";")) else None


def _field(text: str) -> tuple[str, str] | None:
    """The label and value of a `label：value` line (a list number before it read past)."""
    line = _ENUMERATOR.sub("", text, count=1)
    if not _FIELD_LINE.match(line):
        return None
    name, given = _LABEL.split(line, maxsplit=1)
    return name, given


def _rest_of_line(first: Span, spans: list[Span], allowed: list[bool]) -> list[Span]:
    """The whole sentences after ``first`` on its line, up to one with a label
    of its own or one that may not answer."""
    rest = []
    for s, ok in zip(spans, allowed):
        if s.hit is not first.hit or not s.whole or s.start < first.end or "\n" in doc_slice(s.hit, first.end, s.start):
            continue
        if not ok or _field(s.text) is not None:
            break
        rest.append(s)
    return rest


def _through(first: Span, rest: list[Span]) -> Span:
    """``first`` and the sentences after it as one span (one quote, one citation)."""
    if not rest:
        return first
    end = rest[-1].end
    return replace(first, end=end, text=display(doc_slice(first.hit, first.start, end)), clauses=first.clauses + len(rest))


def _names_no_more(name: str, said: re.Match[str], asked: str) -> bool:
    """Does a label name nothing besides its field word, generic words and what
    the question names?  «泳池开放时间» is the pool's hours, not the gym's; an
    item's price line (「EB-30座垫：89元」) is named by 「EB-30的座垫多少钱？」.
    What the label adds in brackets (「电池（以旧换新）」) qualifies it."""
    rest = _GENERIC.sub("", normalize(_BRACKETED.sub("", name[: said.start()] + name[said.end() :])))
    return not rest or rest in asked.replace("的", "")
