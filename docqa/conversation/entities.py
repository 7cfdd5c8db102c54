"""What a question or an answer is about: the entities it names.

The sources, strongest first: the section headings of the indexed documents
(上海期智研究院, and the short form a question may use, 期智研究院), names by
their ending (上海御渡半导体科技有限公司, the Shanghai Qi Zhi Institute), a
product's model code (AP-30, and the word its heading names its kind by: 烘干机),
place names (静安区) and the area a document's title starts with (澜州市, which
jieba reads 澜/州市); on request, the weakest, a name in quotation marks (“数转贷”).
The patterns are data (docqa/lang/*.toml)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from docqa import lang
from docqa.crosslingual import Glossary, PinyinFinder
from docqa.index.tokenize import Segmenter
from docqa.question import MIN_ORG_CHARS, organisation_headings

_ZH = lang.load("zh")
_EN = lang.load("en")
_SECTION_NUMBER = _ZH.pattern("section_number")
_ORG_NAME = _ZH.pattern("org_name")
_PRODUCT = _ZH.pattern("product_code")
_TITLE_PLACE = _ZH.pattern("title_place")
_EN_NAME = _EN.pattern("entity_name")
_WORD = re.compile(r"[A-Za-z]+")
_PLACE_TAGS = _ZH.wordset("place_tags")
_QUOTED = re.compile(r"“[\u4e00-\u9fffA-Za-z0-9]{2,12}”")  # “数转贷”, “伏羲”
_KIND_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")  # 烘干机 of 「HD-9热泵烘干机」
_NO_PLACES = _ZH.wordset("generic_places") | _ZH.wordset("mistagged_places")
_NAME_BREAKERS = tuple(_ZH.words["name_breakers"])
_ORG_LEAD = _ZH.wordset("org_lead_words")
_CHANNELS = tuple(_ZH.words["channel_names"])
_COMPANY_FORMS = ("股份", "有限")  # 「…集团股份有限公司」: the rest after the name is no name
_COMPANY = re.compile("(?:股份有限公司|有限责任公司|有限公司)$")
MAX_HEADING_CHARS = 30
MIN_TRANSLATED = 0.55  # share of a heading's characters an English name must account for
# What kind of mention, strongest first: the one a follow-up most likely refers to.
KINDS = ("org", "heading", "name", "product", "place", "quoted", "area")


@dataclass(frozen=True)
class Mention:
    text: str  # as written in the text
    start: int
    end: int
    kind: str  # one of KINDS
    canonical: str = ""  # the heading it is a short form of (期智研究院 -> 上海期智研究院)

    @property
    def name(self) -> str:
        return self.canonical or self.text


def main_mention(mentions: Iterable[Mention]) -> Mention | None:
    """The mention a follow-up most likely refers to: the strongest kind, then the
    first — but a part named right after its whole (东湖支行 of 「汇澄银行东湖支行」,
    a sub-institute after its institute) is the one talked about."""
    ranked = sorted(mentions, key=lambda m: (KINDS.index(m.kind), m.start))
    if not ranked:
        return None
    best = ranked[0]
    parts = {m.start: m for m in ranked if m.kind == best.kind}
    while best.end in parts:
        best = parts[best.end]
    return best


class EntityFinder:
    """``find(text)`` -> the entities ``text`` names, in order (``quoted``: names
    in quotation marks too).  ``titles`` are the indexed documents' section
    headings (read once, when first needed)."""

    def __init__(self, titles: Callable[[], Iterable[str]], segmenter: Segmenter, glossary: Glossary | None = None):
        self._titles = titles
        self.segmenter = segmenter
        self.glossary = glossary  # English names -> the headings they translate (None: not mapped)
        self._pinyin: PinyinFinder | None = None
        self._lexicon: list[tuple[str, str, str]] | None = None  # (form, kind, canonical), longest first
        self._lock = threading.Lock()

    def lexicon(self) -> list[tuple[str, str, str]]:
        if self._lexicon is None:
            with self._lock:
                if self._lexicon is None:
                    self._lexicon = self._build()
        return self._lexicon

    def _build(self) -> list[tuple[str, str, str]]:
        titles = [_SECTION_NUMBER.sub("", t).strip() for t in dict.fromkeys(self._titles())]
        entries: dict[str, tuple[str, str]] = {}
        for forms in organisation_headings(titles, self.segmenter):
            for form in forms:
                entries.setdefault(form, ("org", forms[0]))
        for t in titles:
            if MIN_ORG_CHARS <= len(t) <= MAX_HEADING_CHARS and t not in entries:
                entries[t] = ("heading", t)
        for form, code in self._product_kinds(titles).items():
            entries.setdefault(form, ("product", code))
        for t in titles:
            # 澜州市 of 「澜州市人民政府办公室」 (jieba reads 澜/州市): the area a whole document
            # is about, so a question naming it names its subject, but it is no topic to carry
            place = _TITLE_PLACE.match(t)
            if place:
                entries.setdefault(place.group(1), ("area", place.group(1)))
        return sorted(((f, k, c) for f, (k, c) in entries.items()), key=lambda e: -len(e[0]))

    def _product_kinds(self, titles: list[str]) -> dict[str, str]:
        """The words that name a product by its kind, each with its model code: a
        heading of one model (「（二）HD-9热泵烘干机」) makes its last word (烘干机)
        and its code with it (HD-9烘干机) name HD-9, when no heading of another
        model ends in the same word — 「烘干机显示F3是什么问题？」 after questions about
        WD-10 is about HD-9."""
        kinds: dict[str, set[str]] = {}
        for t in titles:
            codes = list(_PRODUCT.finditer(t))
            if len(codes) != 1:
                continue  # a title naming two models (「WD-10滚筒洗衣机 / HD-9热泵烘干机」) gives neither a kind
            words = self.segmenter.coarse_words(t[codes[0].end() :])
            if words and _KIND_WORD.fullmatch(words[-1]):
                kinds.setdefault(words[-1], set()).add(codes[0].group())
        forms: dict[str, str] = {}
        for kind, models in kinds.items():
            if len(models) == 1:
                (code,) = models
                forms[kind] = forms[code + kind] = code
        return forms

    def _leading_word(self, name: str) -> int:
        """How many characters a name match starts with that are a word of their own
        and no name's start (在, 到, 从: `org_lead_words`): 在江屿市中心医院 is
        在/江屿/…, where 在线教育有限公司 is 在线/教育/…."""
        words = self.segmenter.coarse_words(name[:4])
        return len(words[0]) if words and words[0] in _ORG_LEAD else 0

    def find(self, text: str, quoted: bool = False) -> list[Mention]:
        taken = [False] * len(text)
        found: list[Mention] = []

        def add(start: int, end: int, kind: str, canonical: str = "") -> None:
            if end > start and not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                found.append(Mention(text[start:end], start, end, kind, canonical))

        for form, kind, canonical in self.lexicon():
            at = text.find(form)
            while at >= 0:
                add(at, at + len(form), kind, canonical if canonical != form else "")
                at = text.find(form, at + len(form))
        words = self._located_words(text)
        for m in _ORG_NAME.finditer(text):
            end = _name_end(m, [e for _, e in words])
            if end is None:
                continue
            start = m.start() + self._leading_word(m.group())  # 在 of 「在江屿市中心医院做CT」 is no part of it
            body = _COMPANY.sub("", text[start:end])  # the 有 of 有限公司 breaks no name
            if (
                len(body) >= MIN_ORG_CHARS
                and not body.startswith(_COMPANY_FORMS)
                and not any(w in body for w in _NAME_BREAKERS)
                and not body.endswith(_CHANNELS)
            ):
                add(start, end, "org")
        for m in _EN_NAME.finditer(text):
            add(m.start(), m.end(), "name", self.translate(m.group()) or "")
        for m in _PRODUCT.finditer(text):
            add(m.start(), m.end(), "product")  # AP-30: the code is the name the documents use
        for start, end in words:
            word = text[start:end]
            if len(word) >= 2 and word not in _NO_PLACES and (self.segmenter.tag(word) or "") in _PLACE_TAGS:
                add(start, end, "place")
        if quoted:  # last, so the others are found as without them: a name in quotation marks (“数转贷”)
            for m in _QUOTED.finditer(text):
                add(m.start(), m.end(), "quoted", m.group()[1:-1])
        return sorted(found, key=lambda m: m.start)

    def _located_words(self, text: str) -> list[tuple[int, int]]:
        """Where the words of jieba's precise mode are in ``text`` (a word the
        segmenter normalised out of recognition is left out)."""
        located, at = [], 0
        for word in self.segmenter.coarse_words(text):
            start = text.find(word, at)
            if start >= 0:
                at = start + len(word)
                located.append((start, at))
        return located

    def translate(self, name: str) -> str | None:
        """The heading an English name translates (the Shanghai Qi Zhi Institute
        -> 上海期智研究院): the one whose characters the dictionary translations
        and pinyin spellings of its words cover best, if they cover most of it."""
        if self.glossary is None:
            return None
        headings = [c for _, kind, c in self.lexicon() if kind in ("org", "heading")]
        if not headings:
            return None
        if self._pinyin is None:
            self._pinyin = PinyinFinder(list(dict.fromkeys(headings)))
        pieces = {c for _, found in self.glossary.terms(name) for c in found}
        words = _WORD.findall(name)
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 3) + 1):
                pieces.update(self._pinyin.find(words[i:j]))
        scored = sorted(((_covered(h, pieces), h) for h in set(headings)), reverse=True)
        best_share, best = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        return best if best_share >= MIN_TRANSLATED and best_share > runner_up else None


def _name_end(match: re.Match, word_ends: list[int]) -> int | None:
    """Where an organisation's name that ``match`` found ends: at the end of a
    word (集团 of 「…科技集团股份有限公司」 ends inside 集团股份, so the name goes on
    to 有限公司), else None (银行 of 「…企业银行贷款贴息」, 企业/银行贷款, ends no name).
    A text whose words were not all located leaves the match as found."""
    if not word_ends or match.end() in word_ends or match.end() > word_ends[-1]:
        return match.end()
    for end in word_ends:
        if end > match.end() and match.re.fullmatch(match.string, match.start(), end):
            return end
    return None


def _covered(heading: str, pieces: Iterable[str]) -> float:
    hit = [False] * len(heading)
    for p in pieces:
        at = heading.find(p) if len(p) >= 1 else -1
        while at >= 0:
            hit[at : at + len(p)] = [True] * len(p)
            at = heading.find(p, at + 1)
    return sum(hit) / len(heading)
