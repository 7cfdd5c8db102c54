"""What a question asks: its language, its key terms (weighted by IDF), the
numbers it names, and the kind of answer it expects."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from index.tokenize import STOPWORDS, Segmenter

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Expected answer kinds, recognised from question wording (Chinese and English).
_KIND_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("time", re.compile(r"何时|什么时候|哪一?年|几月|几号|哪天|日期|时间是|多久|\bwhen\b|what (?:year|date|time)|how long", re.I)),
    ("number", re.compile(r"多少|几[个家项名支篇次倍亿万所座台套]|几|数量|比例|占比|百分之|规模|金额|how many|how much|what (?:percentage|share|proportion|number)|number of", re.I)),
    ("list", re.compile(r"哪些|分别是|名单|有哪几|包括哪|列举|\bwhich\b.*\b(?:are|were)\b|what are the|\blist\b|\bname (?:the|all)\b", re.I)),
    ("person", re.compile(r"谁|\bwho\b|\bwhom\b", re.I)),
    ("place", re.compile(r"哪里|在哪|何地|\bwhere\b", re.I)),
]
_TIME_EVIDENCE = re.compile(r"\d{4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月|年度|世纪|\d{4}")
_NUMBER_EVIDENCE = re.compile(r"\d|[一两二三四五六七八九十百千万亿]+(?:个|家|项|名|支|大|批|级|类|套|种|次|倍|余)|首[台次个]|第[一二三四五六七八九十\d]")
_LIST_EVIDENCE = re.compile(r"[、]|[^，,]+(?:和|与|及)[^，,]+")


def normalize(text: str) -> str:
    """NFKC, markdown emphasis and whitespace removed, case-folded (for matching)."""
    t = unicodedata.normalize("NFKC", text).replace("**", "").replace("__", "")
    return re.sub(r"\s+", "", t).casefold()


def language(text: str) -> str:
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "en" if latin > 2 * cjk else "zh"


def answer_kind(question: str) -> str:
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return "other"


def satisfies_kind(kind: str, text: str) -> bool:
    """Does ``text`` contain the sort of thing the question asks for?"""
    if kind == "time":
        return bool(_TIME_EVIDENCE.search(text))
    if kind == "number":
        return bool(_NUMBER_EVIDENCE.search(text))
    if kind == "list":
        return bool(_LIST_EVIDENCE.search(text))
    return True


@dataclass
class Term:
    text: str  # normalised
    weight: float
    parts: list[str] = field(default_factory=list)  # finer words, for partial credit


@dataclass
class Question:
    text: str
    lang: str
    kind: str
    terms: list[Term]
    numbers: list[str]

    @property
    def total_weight(self) -> float:
        return sum(t.weight for t in self.terms)


def analyse(question: str, segmenter: Segmenter, idf: Callable[[str], float], known: Callable[[str], bool]) -> Question:
    """``idf`` weighs a word; ``known`` says whether the corpus vocabulary has it
    (a compound the index only holds in parts is weighed by its parts)."""
    norm = normalize(question)
    seen: dict[str, Term] = {}
    coarse = segmenter.coarse_words(question)
    for w in coarse:
        w = normalize(w)
        if not w or w in STOPWORDS or w in seen or not (_CJK.search(w) or _LATIN.search(w) or w.isdigit()):
            continue
        if len(w) == 1 and _CJK.match(w):
            continue  # single characters carry little on their own
        parts = [p for p in segmenter.words(w) if p != w and len(p) >= 2 and p not in STOPWORDS]
        weight = idf(w) if known(w) or not parts else max(idf(p) for p in parts)
        seen[w] = Term(w, weight, parts)
    numbers = _NUMBER.findall(norm)
    return Question(question, language(question), answer_kind(question), list(seen.values()), numbers)
