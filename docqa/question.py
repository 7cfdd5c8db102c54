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
    ("org", re.compile(r"哪家|哪[个所](?:公司|企业|机构|单位|研究院|研究所|大学|高校|集团)|什么(?:公司|企业|机构|单位)|\b(?:which|what) (?:company|companies|firm|enterprise|institution|organi[sz]ation|institute|university|agency)", re.I)),
    ("person", re.compile(r"谁|\bwho\b|\bwhom\b", re.I)),
    ("place", re.compile(r"哪里|在哪|何地|\bwhere\b", re.I)),
]
_TIME_EVIDENCE = re.compile(r"\d{4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月|年度|世纪|\d{4}")
_NUMBER_EVIDENCE = re.compile(r"\d|[一两二三四五六七八九十百千万亿]+(?:个|家|项|名|支|大|批|级|类|套|种|次|倍|余)|首[台次个]|第[一二三四五六七八九十\d]")
_LIST_EVIDENCE = re.compile(r"[、]|[^，,]+(?:和|与|及)[^，,]+")
_ORG_EVIDENCE = re.compile(r"公司|集团|企业|研究院|研究所|中心|大学|学院|机构|实验室|银行|医院|协会|学会|委员会|[局部厅署]")


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
    if kind == "org":
        return bool(_ORG_EVIDENCE.search(text))
    return True


@dataclass
class Term:
    text: str  # normalised
    weight: float
    parts: list[str] = field(default_factory=list)  # finer words, for partial credit
    seen: bool = True  # does the corpus vocabulary have it (or its parts)?
    forms: list[str] = field(default_factory=list)  # strings that count as the term (translations)

    def __post_init__(self) -> None:
        if not self.forms:
            self.forms = [self.text]


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


_WHICH_COUNT = re.compile(r"哪[一两二三四五六七八九十几]*[个项家名支条种类点大位些样]?(?:方面)?")
_COUNT_WORD = re.compile(r"^[一两二三四五六七八九十几]+[个项家名支条种类点位]?$")


def _merge_singles(words: list[str], contexts: list[str]) -> list[str]:
    """jieba splits words its dictionary lacks (区块链 -> 区块 + 链, 上链 -> 上 + 链).
    Join a single character with its neighbour when the joined string occurs
    in the retrieved passages."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if nxt and (len(w) == 1 or len(nxt) == 1) and _CJK.match(w[-1:]) and _CJK.match(nxt[:1]):
            joined = w + nxt
            if any(joined in c for c in contexts):
                words = words[:i] + [joined] + words[i + 2 :]
                continue
        out.append(w)
        i += 1
    return out


def _english_terms(question: str, glossary, idf, known, contexts) -> list[Term]:
    """English words and phrases, each standing for its Chinese translations."""
    terms = []
    for phrase, candidates in glossary.terms(question):
        forms = [normalize(c) for c in candidates]
        found = [f for f in forms if known(f) or any(f in c for c in contexts)]
        if found:
            weight, seen = max(idf(f) if known(f) else idf("") for f in found), True
        elif forms:
            weight, seen = idf(""), False  # translatable, but not in the documents
        else:
            weight, seen = 0.5 * idf(""), False  # the dictionary does not know it
        terms.append(Term(phrase, weight, [], seen, forms + [normalize(phrase)]))
    return terms


def analyse(
    question: str,
    segmenter: Segmenter,
    idf: Callable[[str], float],
    known: Callable[[str], bool],
    contexts: list[str] = (),
    glossary=None,
) -> Question:
    """``idf`` weighs a word; ``known`` says whether the corpus vocabulary has
    it (a compound the index only holds in parts is weighed by its parts);
    ``contexts`` are the normalised retrieved passages, used to repair
    segmentation."""
    norm = normalize(question)
    stripped = _WHICH_COUNT.sub(" ", unicodedata.normalize("NFKC", question))
    words = _merge_singles([normalize(w) for w in segmenter.coarse_words(stripped)], list(contexts))
    seen: dict[str, Term] = {}
    for w in words:
        if not w or w in STOPWORDS or w in seen or not (_CJK.search(w) or _LATIN.search(w) or w.isdigit()):
            continue
        if (len(w) == 1 and _CJK.match(w)) or _COUNT_WORD.match(w):
            continue  # single characters and bare counts carry little on their own
        parts = [p for p in segmenter.words(w) if p != w and len(p) >= 2 and p not in STOPWORDS]
        known_parts = [p for p in parts if known(p)]
        weight = idf(w) if known(w) or not known_parts else max(idf(p) for p in known_parts)
        seen[w] = Term(w, weight, parts, known(w) or bool(known_parts) or any(w in c for c in contexts))
    terms = list(seen.values())
    lang = language(question)
    if lang == "en" and glossary is not None:
        terms = [t for t in terms if not t.text.isascii()] + _english_terms(question, glossary, idf, known, contexts)
    numbers = _NUMBER.findall(norm)
    return Question(question, lang, answer_kind(question), terms, numbers)
