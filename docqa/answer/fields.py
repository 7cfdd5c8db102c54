"""Labelled fields: a line such as 「地址：青岚市东湖区湖滨路56号」 answers a
question that asks for what its label names (「东湖支行在哪儿？」), and a
price line such as 「EB-30座垫：89元」 one that asks what the item it names
costs, when its document's title, its headings and the line name everything
else the question names.

The answer selector scores how much of a question a sentence repeats.  Users
ask for an address, a number to call, opening hours, a price or a product's
specification in words a label does not repeat (在哪儿 for 地址, 电话多少 for
客服热线, 能跑多远 for 续航里程), so the right line of a service guide or a manual
scores below the threshold and is refused.  Which questions ask for which
field, and which labels and values give it, is language knowledge (``asks_*``,
``*_label``, ``*_value`` in the language files; an English question's asking
words are in en.toml, its other words count as their Chinese translations).
A field answers only a question the selector refused, and only when exactly
one value fits: a question that does not say which branch is still refused.

A table's column is a field of its own kind: a question that asks for a value
and repeats part of a column's label (「别墅装修押金交多少」, 「装修押金：10000元」) is
answered by that cell of the one row that names the rest of the question
(联排别墅), or whose range holds a quantity it states (「满10年不满20年」 for 工作了
12年).  Who asks and how (我家, 宝宝, 一针, 最晚: ``asker_words``) need not be named.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from docqa import lang
from docqa.answer.candidates import Span, doc_slice
from docqa.ingest.sentences import display
from docqa.question import Question, normalize
from docqa.question.frames import about_other_days, day_frames
from docqa.question.ranges import Range, fits, stated

_ZH, _EN = lang.load("zh"), lang.load("en")
# The fields, by their names in the language files (asks_*, *_words, *_label), and what a value holds.
_KINDS = (
    ("address", "address_value"),
    ("phone", "phone_evidence"),
    ("opening", "opening_value"),
    ("price", "price_value"),
    ("range", "range_value"),
    ("weight", "weight_value"),
    ("speed", "speed_value"),
    ("charge", "charge_value"),
    ("colour", "colour_value"),
)
# Per language: (what a question asks it by, its words that name nothing, the labels that give it,
# what its value holds).  Labels and values are the documents' (Chinese); questions may be English.
FIELDS = {
    code: tuple(
        (rules.pattern(f"asks_{kind}"), rules.pattern(f"{kind}_words"), _ZH.pattern(f"{kind}_label"), _ZH.pattern(value))
        for kind, value in _KINDS
    )
    for code, rules in (("zh", _ZH), ("en", _EN))
}
_KIND_WORDS = _EN.pattern("field_kind_words")
_ASKS_COLUMN = {"zh": _ZH.pattern("asks_column"), "en": _EN.pattern("asks_column")}
_ASKER, _LIGHT, _GAP = _ZH.pattern("asker_words"), _ZH.pattern("light_verbs"), _ZH.pattern("column_gap")
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# An English phrase glossed by the Chinese in brackets after it: "the quick charger (快速充电器)".
_GLOSS = re.compile(r"((?:[A-Za-z][\w'’-]*\s+){1,3})[（(]\s*[\u4e00-\u9fff]")
_GLOSS_STOP = frozenset("the a an of for at in on to is are what which".split())
_FIELD_LINE = _ZH.pattern("field_line")
_GENERIC = _ZH.pattern("field_label_generic")
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")
_FIRST_CLAUSE = re.compile(r"[，,；;。]")  # a value's first clause ends here
_LABEL = re.compile(r"\s*[：:]\s*")
_CELL_BREAK = re.compile(r"[，,；;。\n]")
_CELL_EDGES = ("，", ",", "；", ";", "。", "\n", "")
_ENUMERATOR = _ZH.pattern("section_number")  # 「6. 」 of 「6. 考试地点：…」


def field_answer(q: Question, spans: list[Span], allowed: list[bool]) -> Span | None:
    """The labelled line that gives what a question asks for, as the span it
    answers with (None when no line, or more than one, gives it).

    Its document's title, headings and line must name every word the
    question names besides what it asks; of the lines that do, those whose
    label repeats the most of them count («客服热线» for 「客服电话是多少」, not
    «白金卡专线» under the same chapter), and their values must agree.  The
    answer goes on over the rest of its line that may answer too (「周六
    9:00—12:00；周日休息」 after 「营业时间：周一至周五 9:00—17:00；」 for a question
    that names no days; only the weekend's part for 「周末呢？」)."""
    fields = FIELDS.get(q.lang)
    if fields is None:
        return None
    r = _Reading.of(q)
    if r.english:  # "on weekends": the candidates read the days of Chinese questions only
        allowed = [ok and not about_other_days(r.days, s.text) for s, ok in zip(spans, allowed)]
    for asks, words, label, value in fields:
        if not asks.search(q.text if r.english else r.asked):
            continue
        terms = [t.text for t in q.terms if not r.names_nothing(t.text, (asks, words, label))]
        if not terms:
            return None  # 「充满电能跑多远？」 names no model: which one's line answers it is not known
        found: dict[str, tuple[int, Span]] = {}
        for s, name, given in _lines(spans, allowed, continued=bool(r.days)):
            said = label.search(name)
            if not (said and value.search(given) and _names_no_more(name, said, r.asked, r.translated)):
                continue
            where = r.where(s, name, given)
            if all(r.names(t, where) for t in terms):
                repeated = sum(any(f in normalize(name) for f in r.forms[t]) for t in terms)
                found.setdefault(normalize(given), (repeated, s))
        # no line of its kind: a column its label names may still give it, with a value of that kind
        return _one(found, spans, allowed) if found else _column_answer(q, r, spans, allowed, value)
    return _column_answer(q, r, spans, allowed)


def _column_answer(
    q: Question, r: _Reading, spans: list[Span], allowed: list[bool], kind: re.Pattern[str] | None = None
) -> Span | None:
    """The cell (or labelled line) whose label the question repeats, of the one
    row that names everything else the question names: 「装修押金：10000元」 of
    「房屋类型：联排别墅，装修押金：10000元，…」 for 「别墅装修押金交多少」.  A cell
    whose value the question states (「房屋类型：联排别墅」) is not what it asks."""
    if not _ASKS_COLUMN[q.lang].search(q.text if r.english else r.asked):
        return None
    terms = [t.text for t in q.terms if not (_ASKS_COLUMN[q.lang].search(t.text) or r.names_nothing(t.text))]
    found: dict[str, tuple[int, Span]] = {}
    for s, name, given in _lines(spans, allowed, continued=False):
        label = normalize(_GENERIC.sub("", _BRACKETED.sub("", name)))
        shared = {t: max(_shared(f, label) for f in r.forms[t]) if r.forms[t] else 0 for t in terms}
        column = [t for t in terms if shared[t] > 1 and (r.english or _next_to_asking(t, r.asked))]
        rest = [t for t in terms if t not in column]
        value = normalize(given)
        if not column or not rest or (kind is not None and not kind.search(given)):
            continue
        if _stated(value, terms, r):
            continue
        where = r.where(s, name, given)
        if all(r.names(t, where) for t in rest):
            found.setdefault(value, (max(shared.values()), s))  # 装修押金: 4 of 装修押金, 2 of 装修垃圾清运费
    return _one(found, spans, allowed) if found else None


def _stated(value: str, terms: list[str], r: _Reading) -> bool:
    """Does the question state a cell's value (联排别墅 of 「联排别墅的房屋类型是什么？」)?
    Its first clause is in the question, or is one of its words; a word the value
    goes on to mention (「…提交《研究生国家奖学金申请审批表》」) states nothing."""
    first = _FIRST_CLAUSE.split(value, maxsplit=1)[0]
    return bool(first) and (first in r.asked or any(first in f for t in terms for f in r.forms[t]))


def _next_to_asking(term: str, asked: str) -> bool:
    """Is a question's word next to what it asks with, only verbs and adverbs between (「装修押金交
    多少」, 「几天到账」)?  In 「奖学金比例是多少」 it is the 比例 that is asked, not the 奖学金."""
    for m in _ASKS_COLUMN["zh"].finditer(asked):
        before, after = asked.rfind(term, 0, m.start()), asked.find(term, m.end())
        if before >= 0 and _GAP.fullmatch(asked[before + len(term) : m.start()]):
            return True
        if after >= 0 and _GAP.fullmatch(asked[m.end() : after]):
            return True
    return False


def _one(found: dict[str, tuple[int, Span]], spans: list[Span], allowed: list[bool]) -> Span | None:
    """The one value found, of the lines whose label repeats the most of the question, with the
    rest of its line (None when they give more than one)."""
    best = max(n for n, _ in found.values())
    values = [s for n, s in found.values() if n == best]
    return _through(values[0], _rest_of_line(values[0], spans, allowed)) if len(values) == 1 else None


def _shared(form: str, label: str) -> int:
    """How many Chinese characters in a row a question's word and a label share (补贴 of 租房补贴 and
    每月补贴标准: 2)."""
    longest = 0
    for i in range(len(form)):
        j = i + longest + 1
        while j <= len(form) and _HAN.fullmatch(form[i:j]) and form[i:j] in label:
            longest, j = j - i, j + 1
    return longest


@dataclass(frozen=True)
class _Reading:
    """How a question's words are read against a labelled line."""

    english: bool
    asked: str  # the question, normalised
    forms: dict[str, list[str]]  # term -> what names it: a Chinese term itself, an English one its translations
    translated: list[str]  # an English question's words in Chinese, all of them (none for a Chinese one)
    glossed: frozenset[str]  # English words the Chinese in brackets after them says
    days: set[str]  # the classes of days asked about
    quantities: list[Range]  # the quantities it states (工作了12年)

    @classmethod
    def of(cls, q: Question) -> _Reading:
        english = q.lang == "en"
        # An English word counts as any of its Chinese translations (one character says too little).
        forms = {t.text: [f for f in map(normalize, t.forms) if len(f) > 1] if english else [t.text] for t in q.terms}
        every = [f for fs in forms.values() for f in fs]
        days = set().union(*(day_frames(f) for f in [q.text, *every]))
        glossed = _glossed(q.text) if english else frozenset()
        quantities = [] if english else stated(q.text)
        return cls(english, normalize(q.text), forms, every if english else [], glossed, days, quantities)

    def names(self, term: str, where: str) -> bool:
        """Does ``where`` name a word of the question: say it (a translation of it), or, for a
        quantity the question states (12 of 工作了12年), give a range that holds it
        (「满10年不满20年」)?"""
        if _NUMBER.fullmatch(term):  # 3 is not said by 30 or 2023
            return bool(re.search(rf"(?<![\d.]){re.escape(term)}(?![\d.])", where)) or fits(term, self.quantities, where)
        return any(f in where for f in self.forms[term])

    def names_nothing(self, term: str, kind: tuple[re.Pattern[str], ...] = ()) -> bool:
        """What the question asks names nothing; nor does a class of days (工作日), which the
        candidates already agree with (「周一至周五 …」 for 工作日); nor English words the
        Chinese in brackets after them says, or a kind of place (branch)."""
        if kind and (kind[0].search(term) or kind[1].match(term) or kind[2].fullmatch(term)):
            return True
        if any(day_frames(f) for f in self.forms[term]):
            return True
        if not self.english and _ASKER.fullmatch(_LIGHT.sub("", term)):
            return True  # 宝宝打, 一针: who asks or how, not what
        return self.english and (set(term.split()) <= self.glossed or bool(_KIND_WORDS.match(term)))

    def where(self, s: Span, name: str, given: str) -> str:
        """What names a line's subject: its document's title, its headings, the line that opens its
        table or list (「…分为银卡、金卡、铂金卡三个等级：」), its label, its value
        (what the value adds in brackets names no more of it: 「整车质量：48千克（含电池）」 is not the
        battery's; nor, for an English word, the value at all: "Nanhu" is no 南湖区 of an address),
        and for a table row's cell the cells beside it."""
        said_by = "" if self.english else _BRACKETED.sub("", given)
        row = "" if s.whole else s.sentence_text.replace(normalize(given), "", 1)
        heads = f"{s.hit.chunk.title}\n{s.hit.chunk.section}\n{_caption(s)}"
        return normalize(f"{heads}\n{name}\n{said_by}") + "\n" + row


def _caption(s: Span) -> str:
    """The line that opens the table or list a line is in (「第二十条 “栖云会”会员分为银卡、金卡、铂金卡
    三个等级：」 over the rows of the tiers), or nothing."""
    lines = doc_slice(s.hit, s.hit.chunk.start, s.start).split("\n")[:-1]
    for line in reversed(lines):
        if line.strip() and _field(line) is None:
            return line if line.rstrip().endswith(("：", ":")) else ""
    return ""


def _lines(spans: list[Span], allowed: list[bool], continued: bool) -> Iterator[tuple[Span, str, str]]:
    """The candidates that may answer and are a labelled line (``_labelled``) or a table
    row's cell (``_cell``), with their label and value."""
    for s, ok in zip(spans, allowed):
        field = (_labelled(s, continued) if s.whole else _cell(s)) if ok else None
        if field is not None:
            yield s, *field


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


def _cell(s: Span) -> tuple[str, str] | None:
    """The label and value of a table row's cell (「地址：云岭市松溪区西湖路120号1楼」 of
    「服务厅：松溪区办税服务厅，地址：…，办公时间：…」): a label and the one clause of
    value after it, between the row's commas."""
    if s.clauses != 2 or _CELL_BREAK.search(s.text) or s.sentence_text.count(":") < 2:
        return None
    before = doc_slice(s.hit, max(s.start - 1, s.hit.chunk.start), s.start)
    after = doc_slice(s.hit, s.end, s.end + 1)
    if before not in _CELL_EDGES or after not in _CELL_EDGES:
        return None
    return _field(s.text)


def _field(text: str) -> tuple[str, str] | None:
    """The label and value of a `label：value` line (a list number before it read past)."""
    line = _ENUMERATOR.sub("", text, count=1)
    if not _FIELD_LINE.match(line):
        return None
    name, given = _LABEL.split(line, maxsplit=1)
    if name.count("（") + name.count("(") != name.count("）") + name.count(")"):
        return None  # 「国际移民组织（英语：International…）是…」: a bracket's gloss, no label
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


def _glossed(question: str) -> frozenset[str]:
    """The English words a question glosses with Chinese in brackets after them
    ("main branch" of "Huicheng Bank's main branch (分行营业部)"): up to three,
    back to an article, a preposition or a possessive."""
    glossed: set[str] = set()
    for m in _GLOSS.finditer(question):
        for word in reversed(m.group(1).lower().split()):
            if word in _GLOSS_STOP or word.endswith(("'s", "’s")):
                break
            glossed.add(word)
    return frozenset(glossed)


def _names_no_more(name: str, said: re.Match[str], asked: str, named: list[str] | None = None) -> bool:
    """Does a label name nothing besides its field word, generic words and what
    the question names?  «泳池开放时间» is the pool's hours, not the gym's; an
    item's price line (「EB-30座垫：89元」) is named by 「EB-30的座垫多少钱？」.
    What the label adds in brackets (「电池（以旧换新）」) qualifies it."""
    rest = _GENERIC.sub("", normalize(_BRACKETED.sub("", name[: said.start()] + name[said.end() :])))
    for form in sorted(named or (), key=len, reverse=True):  # an English question's words, translated
        rest = rest.replace(form, "")
    return not rest or rest in asked.replace("的", "")
