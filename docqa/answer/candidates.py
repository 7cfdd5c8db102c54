"""Candidate answers: every sentence of the retrieved passages and every run of
up to three of its clauses, each with the text around it.

A candidate quotes the document exactly (``start``/``end`` are offsets in the
document's cleaned text); what it shows is the quote as the reader sees it
(a repaired statistic reads in its own order).  Scoring is not done here: the
learned selector (``selector.py``) reads the features ``features.py`` computes
for each candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from docqa import lang
from docqa.ingest.sentences import display
from docqa.question import Question, must_hold, names_organisation, normalize, satisfies_kind
from docqa.question.frames import EVERY, about_other_days, day_frames
from docqa.question.ranges import leaves_out, stated
from docqa.question.values import MODEL, TIER, about_other_value, values
from docqa.records import Hit

MAX_SPAN_CHARS = 90  # longer clause runs are left out (a whole sentence is always a candidate)
MAX_RUN = 3  # clauses in a run
HEADING_KINDS = ("org",)  # "which institute did X": the answer may be the heading over X
_ZH = lang.load("zh")
_ASKS = _ZH.pattern("asking_sentence")
_MODEL_CODE = _ZH.pattern("product_code")
_ASKS_CODE = _ZH.pattern("asks_code")
_OFFICE = _ZH.pattern("office_name")
OFFICE_TAIL = 4  # 生工作组: the end of an office's name that tells it from another of its kind
_ITEMS = re.compile(r"[；;]")  # between the items of a sentence: what one says does not hold for the next


@dataclass
class Span:
    """A candidate answer: one or more consecutive clauses of a sentence."""

    hit: Hit
    sentence: int  # the sentence's id (its start offset in the document)
    index: int  # the sentence's position in its passage
    start: int
    end: int
    text: str
    udense: float = 0.0  # cosine of the question with these clauses (late-chunked vectors)
    whole: bool = False  # the span is its whole sentence
    first: int = 0  # position of its first clause in the sentence
    clauses: int = 1  # how many clauses it runs over
    sentence_text: str = ""  # its whole sentence, normalised
    before: str = ""  # normalised: the sentence(s) before it in the same paragraph
    rest: str = ""  # normalised: the rest of its sentence (empty for a whole sentence)
    kind_ok: bool = True  # holds the kind of thing asked (a number for 多少, …)
    lead: bool = False  # names no one, but the heading over it names the organisation asked about
    score: float = 0.0  # the selector's ranking score
    covered: dict[str, float] = field(default_factory=dict)  # question term -> credit (features.py)


def leaf(hit: Hit) -> str:
    """The innermost heading of a passage, when it is a line of the document."""
    c = hit.chunk
    return c.section_path[-1] if c.heading_span and c.section_path else ""


def reading(heading: str, sentence: str) -> str:
    """What the answer reader (``reader.py``) reads of a candidate: its
    passage's headings and its sentence."""
    heading = " ".join(heading.split())
    return f"{heading}\n{sentence}" if heading else sentence


def doc_slice(hit: Hit, start: int, end: int) -> str:
    c = hit.chunk
    return c.text[start - c.start : end - c.start]


def same_paragraph(hit: Hit, end: int, start: int) -> bool:
    """No line break between a sentence of a passage that ends at ``end`` and one that starts at ``start``."""
    return "\n" not in doc_slice(hit, end, start)


def _runs(n: int) -> list[tuple[int, int]]:
    """The whole sentence first, then every run of up to ``MAX_RUN`` of its ``n`` clauses."""
    runs = [(0, n)]
    if n > 1:
        runs += [(i, j) for i in range(n) for j in range(i + 1, min(n, i + MAX_RUN) + 1) if (i, j) != (0, n)]
    return runs


def passage_candidates(q: Question, hit: Hit, segmenter) -> list[Span]:
    sentences = hit.chunk.sentences()
    dense = hit.unit_dense or [hit.dense] * len(hit.chunk.units)
    index = {id(u): i for i, u in enumerate(hit.chunk.units)}
    heading = leaf(hit)
    out = []
    texts = [normalize("".join(u.text for u in sent)) for sent in sentences]
    asks = [bool(_ASKS.match(text)) for text in texts]
    for k, sent in enumerate(sentences):
        if asks[k]:
            continue  # an FAQ's 问：…？ answers nothing
        # The sentence before lends its subject when it is in the same
        # paragraph, asks what this one answers (问：…？ 答：…), or opens the
        # passage (a lead-in such as "2024年度…显示").
        near = [
            j for j in (0, k - 1)
            if 0 <= j < k and (j == 0 or asks[j] or same_paragraph(hit, sentences[j][-1].end, sent[0].start))
        ]  # fmt: skip
        before = normalize("".join(u.text for j in near for u in sentences[j]))
        sentence_text = texts[k]
        for i, j in _runs(len(sent)):
            units = sent[i:j]
            raw = doc_slice(hit, units[0].start, units[-1].end)
            whole = (i, j) == (0, len(sent))
            if len(units) == 1 and display(raw) != units[0].text:
                text = units[0].text  # a repaired statistic reads in its own order
            else:
                raw = raw if whole else raw.rstrip("，,：:；; \n")
                text = display(raw)
            if not whole and len(text) > MAX_SPAN_CHARS:
                continue
            sizes = [max(1, len(u.text)) for u in units]
            udense = sum(dense[index[id(u)]] * n for u, n in zip(units, sizes)) / sum(sizes)
            span = Span(
                hit, sent[0].sentence_id, k, units[0].start, units[0].start + len(raw), text, udense, whole, i, j - i,
                sentence_text, before, "" if whole else normalize("".join(u.text for u in sent[:i] + sent[j:])),
            )  # fmt: skip
            span.kind_ok = satisfies_kind(q.kind, text, q.text, segmenter)
            if q.kind in HEADING_KINDS and heading and not names_organisation(text, q.text):
                # The span says what was done but not by whom: the heading over it may name the doer.
                span.lead = names_organisation(heading, q.text)
                span.kind_ok = span.kind_ok or span.lead
            out.append(span)
    return out


def _scope(hit: Hit, s: Span) -> str:
    """What a value said before a span still holds for, besides its headings
    (``heading_values``): the sentence before (unless a semicolon ended it),
    and its own sentence up to it from the last semicolon (「2023年，…，较2022年」:
    the year holds; 「…等级保护二级…；对通过DCMM三级…」: the 二级 does not)."""
    before = "" if _ITEMS.match(doc_slice(hit, s.sentence - 1, s.sentence).strip() or "。") else s.before
    return f"{before}\n{_item(hit, s)}"


def _item(hit: Hit, s: Span) -> str:
    """A span with the conditions over it: its own sentence up to it from the
    last semicolon (「员工累计工作已满1年不满10年的，年休假5天；」 for 「年休假5天」)."""
    return _ITEMS.split(doc_slice(hit, s.sentence, s.start))[-1] + s.text


def _own_scope(s: Span, names: Callable[[str], object]) -> str:
    """What a span is about, by what ``names`` finds: the span when it names
    some (「金卡200元」 of 「银卡100元，金卡200元」; 「周一至周五 06:00—23:00」 of a
    line that gives the weekend's hours after a semicolon); else its sentence
    (「转让手续费」 of 「转让手续费：金卡200元，黑卡免收」 is about 金卡 and 黑卡)."""
    return s.text if names(s.text) else s.sentence_text


def _names_tier(text: str) -> bool:
    return any(kind == TIER for kind, _ in values(text))


def _other_office(offices: list[str], question: str, path: tuple[str, ...]) -> bool:
    """Is a passage under a heading naming another office than the ones the
    question names (「第十条 受理部门：研究生院学生工作办公室」 for 「学院研究生工作组的办公时间呢？」)?"""
    named = _OFFICE.findall(path[-1]) if path else []
    return bool(named) and not any(n in question for n in named) and not any(o[-OFFICE_TAIL:] in path[-1] for o in offices)


def _model_scope(hit: Hit, s: Span) -> tuple[str, bool]:
    """What a span is about, by the model codes said, as written: the codes it
    or its sentence up to it names; else the last code its paragraph named before it (「答：QH-R500共有3支
    滤芯：…；RO反渗透滤芯…」 is about QH-R500 until another is named); else the
    codes of the line before when that one asks (an FAQ's 问：…？).  And whether
    a code was carried from before the span: in prose the last code named is
    often a passing one (「…由ABM-1（俄国编号A-35/A-35M）…改建。1995年初整套系统
    …开始运作。」 is about A-135)."""
    if _MODEL_CODE.search(s.text):
        return s.text, False
    own = doc_slice(hit, s.sentence, s.start) + s.text  # 「WD-10可…延保服务，…，价格199元」
    if _MODEL_CODE.search(own):
        return own, False
    head, _, current = doc_slice(hit, hit.chunk.start, s.start).rpartition("\n")
    named = _MODEL_CODE.findall(current)
    if named:
        return f"{named[-1]}。{s.text}", True
    lines = [line for line in head.split("\n") if line.strip()]
    asking = lines[-1] if lines and _ASKS.match(normalize(lines[-1])) else ""
    return f"{asking}。{s.text}", bool(_MODEL_CODE.search(asking))


def _about_other_model(models: set, hit: Hit, s: Span, codes_asked: bool) -> bool:
    """Is the span about another model than the question names (WD-10's fact for
    a question about HD-9)?  Any code of another number is another model, but a
    code carried from before the span, or one answering a question that asks
    for a code, only with the asked one's letters (QH-R500 for QH-R800)."""
    scope, carried = _model_scope(hit, s)
    return about_other_value(models, scope, hit.chunk.section_path, codes_asked or carried)


def candidates(q: Question, hits: list[Hit], segmenter) -> tuple[list[Span], list[bool]]:
    """The candidates of the retrieved passages, and which of them may answer.

    A question naming an organisation that heads a section is answered only
    from passages about it (the others are left out).  A follow-up that
    carried an entity from the conversation is answered only from sentences
    about that entity (its heading, its sentence or the one before names it)
    and about any organisation it names, and an elliptical one (那“女娲”呢？)
    not from a sentence naming what it moved away from (“伏羲”) and not what
    it moved to; there the other candidates stay, not
    allowed: the selector reads how far the best allowed one is from the best
    one overall, so a fact that belongs to another entity is refused.  So is
    a sentence about another year, level, batch, session or phase than the
    question pins down (四级 for 二级) when neither it, the sentence before it nor
    its headings name the asked one; and a span without what any answer holds
    (``must_hold``: a number when the question only counts things — 「助力孵化企业
    迅速成长」 names them, counts none —, a year when it asks which year); nor a
    span under a condition that leaves out a quantity the question states
    (「已满1年不满10年的」 for someone who worked 12 years: ``ranges.py``)."""
    out: list[Span] = []
    allowed: list[bool] = []
    asked = values(q.text)
    models = {v for v in asked if v[0].startswith(MODEL)}
    asked -= models
    codes_asked = bool(models and _ASKS_CODE.search(q.text))
    tiers = {v for v in asked if v[0] == TIER}
    days = day_frames(q.text) - {EVERY} if q.lang == "zh" else set()
    offices = _OFFICE.findall(q.text) if q.lang == "zh" else []
    needed = must_hold(q.text)
    quantities = stated(q.text) if q.lang == "zh" else []
    for hit in hits:
        named = q.about_named(hit.chunk.section, hit.chunk.text)
        if not named and not q.carried:
            continue
        other_office = bool(offices) and _other_office(offices, q.text, hit.chunk.section_path)
        for s in passage_candidates(q, hit, segmenter):
            if quantities and leaves_out(quantities, _item(hit, s)):
                continue
            out.append(s)
            allowed.append(
                named
                and q.about_carried(hit.chunk.title + "\n" + hit.chunk.section, s.before + "\n" + s.sentence_text)
                and not q.about_swapped_out(s.sentence_text)
                and not (asked and about_other_value(asked, _scope(hit, s), hit.chunk.section_path))
                and not (tiers and about_other_value(tiers, _own_scope(s, _names_tier)))
                and not (days and about_other_days(days, _own_scope(s, day_frames)))
                and not other_office
                and not (models and _about_other_model(models, hit, s, codes_asked))
                and not (needed and not needed.search(s.text))
            )
    return out, allowed
