"""What a question asks: its language, its key terms (weighted by IDF), the
numbers it names, and the kind of answer it expects."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from docqa.index.tokenize import STOPWORDS, Segmenter

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Expected answer kinds, recognised from question wording (Chinese and English).
_KIND_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("task", re.compile(r"^(?:请|请你|麻烦)?(?:帮我|给我|替我|为我)?(?:写|编|讲|画|翻译|生成|创作|作)(?:一|个|首|篇|份|段|下)|^(?:please )?(?:write|compose|translate|draw|generate|tell me a joke)\b", re.I)),
    ("duration", re.compile(r"多久|多长时间|多少年|几年|多少个月|几个月|how long|how many (?:years|months|days)", re.I)),
    ("time", re.compile(r"何时|什么时候|啥时候?|哪一?年|几月|几号|哪一?天|日期|时间是|\bwhen\b|what (?:year|date|time)", re.I)),
    ("list", re.compile(r"哪些|分别是|(?:列出|给出|提供|完整的?)\S{0,6}名单|名单(?:是|有)|哪几|包括哪|列举|哪[两二三四五六七八九十]+[大个项种类方面点家所]|\bwhich\b.*\b(?:are|were)\b|what are the|\blist\b|\bname (?:the|all)\b", re.I)),
    ("number", re.compile(r"多少|几[个家项名支篇次倍亿万所座台套位]|几|多大|多高|多长|多重|多远|数量|how (?:large|big|high|far|old|much|many)|what is the (?:total |overall )?(?:population|investment|budget|cost|price|amount|value|size|scale|revenue|funding|number)|比例|占比|百分之|金额|how many|how much|what (?:percentage|share|proportion|number)|number of", re.I)),
    ("org", re.compile(r"哪家|哪[个所](?:公司|企业|机构|单位|研究院|研究所|大学|高校|集团)|什么(?:公司|企业|机构|单位)|\b(?:which|what) (?:company|companies|firm|enterprise|institution|organi[sz]ation|institute|university|agency)", re.I)),
    ("person", re.compile(r"谁|\bwho\b|\bwhom\b", re.I)),
    ("place", re.compile(r"哪里|哪儿|在哪(?![类些个种方一几])|何地|哪[个片座]?(?:城市|地方|区|省|国家|海域|地区)|\bwhere\b|which (?:city|country|province|district)", re.I)),
    ("why", re.compile(r"为什么|为何|什么原因|原因是|\bwhy\b", re.I)),
    ("how", re.compile(r"怎么|怎样|如何|咋|\bhow\b", re.I)),
]
_TIME_EVIDENCE = re.compile(r"\d{4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[一二三四五六七八九十]+月|年度|世纪|\d{4}")
_DURATION_EVIDENCE = re.compile(
    r"\d+\s*(?:[—\-~～至到]\s*\d+\s*)?(?:年|个月|周|天|小时|分钟)|[一两二三四五六七八九十]+(?:年|个月|周|天|小时|分钟)"
)
_NUMBER_EVIDENCE = re.compile(r"\d|[一两二三四五六七八九十百千万亿]+(?:个|家|项|名|支|大|批|级|类|套|种|次|倍|余)|首[台次个]|第[一二三四五六七八九十\d]")
# Numbers that are not quantities: years, dates and version numbers.
_NOT_QUANTITY = re.compile(r"\d{4}\s*年度?|\d{1,2}\s*月|\d+(?:\.\d+)+\s*版|[vV]\d+(?:\.\d+)*|[A-Za-z]+\d+(?:\.\d+)*")
# An enumeration: 、-separated items, or items joined by 和/与/及 that are not counted ("8家公司及企业").
_LIST_EVIDENCE = re.compile(r"、")
_JOINED = re.compile(r"[^，,]+(?:和|与|及)[^，,]+")
# Words that end an organisation's name; a mention of 企业, 机构 or a 局/部 also
# counts as naming an organisation in an answer, but they are too generic to end a heading's.
_ORG_SUFFIXES = "公司|集团|研究院|研究所|中心|大学|学院|实验室|银行|医院|协会|学会|委员会"
_ORG_EVIDENCE = re.compile(_ORG_SUFFIXES + "|企业|机构|[局部厅署]")
_ORG_NAME = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9]{2,24}?(?:有限责任公司|股份有限公司|有限公司|公司|集团|研究院|研究所|研究中心|大学|学院|实验室|银行|医院)"
)
_PLACE_SUFFIX = re.compile(r"[\u4e00-\u9fff]{1,6}(?:省|市|区|县|州|洋|海域|湖|江|岛|港|湾)")
_REASON_EVIDENCE = re.compile(r"因为|由于|得益于|原因|因此|所以|为了|通过|依托|凭借|基于|在于")
_PERSON_TAGS = {"nr", "nrfg", "nrt"}
_PLACE_TAGS = {"ns"}


def normalize(text: str) -> str:
    """NFKC, markdown emphasis and whitespace removed, case-folded (for matching)."""
    t = unicodedata.normalize("NFKC", text).replace("**", "").replace("__", "")
    return re.sub(r"\s+", "", t).casefold()


def language(text: str) -> str:
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "en" if latin > 2 * cjk else "zh"


_PARTS = re.compile(r"[？?；;]|，(?:还有|以及|另外|又|并且)")


def answer_kind(question: str) -> str:
    """What sort of answer the question expects; "multi" when it asks several
    things of different sorts (each part then only needs covering)."""
    parts = [p for p in _PARTS.split(question) if p.strip()]
    kinds = {_kind(p) for p in parts} if len(parts) > 1 else set()
    if len(kinds) > 1:
        return "multi"
    return _kind(question)


def _kind(question: str) -> str:
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return "other"


def names_organisation(text: str, question: str = "") -> bool:
    """Does ``text`` name an organisation (上海化工研究院有限公司) the question does
    not already name?  A generic mention (链主企业, 新型研发机构) is not a name."""
    asked = normalize(question)
    return any(normalize(m.group()) not in asked for m in _ORG_NAME.finditer(text))


def satisfies_kind(kind: str, text: str, question: str = "", segmenter: Segmenter | None = None) -> bool:
    """Does ``text`` contain the sort of thing the question asks for — and
    something the question did not already say (a number, place or name
    repeated from the question is not an answer)?"""
    if kind == "time":
        return bool(_TIME_EVIDENCE.search(_without(text, question, _NUMBER)))
    if kind == "duration":
        return bool(_DURATION_EVIDENCE.search(_without(text, question, _NUMBER)))
    if kind == "number":
        return bool(_NUMBER_EVIDENCE.search(_NOT_QUANTITY.sub("", _without(text, question, _NUMBER))))
    if kind == "list":
        if not (_LIST_EVIDENCE.search(text) or (_JOINED.search(text) and not re.search(r"\d", text))):
            return False
        asked = _asked_count(question)  # "36家…分别是哪些": an answer names at least three
        return asked is None or _items(text) >= min(asked, 3)
    if kind == "org":
        return bool(_ORG_EVIDENCE.search(text))
    if kind == "why":
        return bool(_REASON_EVIDENCE.search(text))
    if kind == "task":
        return False  # "write me a poem" is not a question about the documents
    if kind == "person" and _ORG_NAME.search(text):
        return True  # "who" may be an organisation (龙头企业是谁)
    if kind in ("person", "place") and segmenter is not None:
        tags = _PERSON_TAGS if kind == "person" else _PLACE_TAGS
        asked = normalize(question)
        if kind == "place":
            text = _ORG_NAME.sub("", text)  # 中国商用飞机有限责任公司 names a company, not a place
        words = [w for w in segmenter.coarse_words(text) if len(w) >= 2 and normalize(w) not in asked]
        if any((segmenter.tag(w) or "") in tags for w in words):
            return True
        return kind == "place" and any(m.group() not in asked for m in _PLACE_SUFFIX.finditer(text))
    return True


_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十")} | {"两": 2}
_COUNT = re.compile(r"(\d+|[一两二三四五六七八九十])\s*[个家项名支条种类大位所篇]")


def _asked_count(question: str) -> int | None:
    m = _COUNT.search(question)
    if not m:
        return None
    n = m.group(1)
    return int(n) if n.isdigit() else _CN_DIGITS[n]


def _items(text: str) -> int:
    """How many items an enumeration lists (A、B和C -> 3)."""
    return text.count("、") + 1 + (1 if re.search(r"[^，,、]+(?:和|与|及)[^，,、]+$", text.split("、")[-1]) else 0)


def _without(text: str, question: str, pattern: re.Pattern) -> str:
    """``text`` minus the matches of ``pattern`` that the question already contains."""
    asked = set(pattern.findall(normalize(question)))
    return pattern.sub(lambda m: "" if m.group() in asked else m.group(), text) if asked else text


@dataclass
class Term:
    text: str  # normalised
    weight: float
    parts: list[str] = field(default_factory=list)  # finer words, for partial credit
    seen: bool = True  # does the corpus have it (or its parts)?
    forms: list[str] = field(default_factory=list)  # strings that count as the term (translations)
    required: bool = False  # a number or ordinal: an answer about another one is wrong
    entity: bool = False  # a place or person name
    focus: bool = False  # what the question asks about
    noun: bool = False  # jieba's dictionary knows it as a noun

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
    # organisations the question names that head sections of the documents, each as the
    # spellings that count (上海期智研究院, 期智研究院): the answer must be about one of them
    organisations: list[tuple[str, ...]] = field(default_factory=list)

    def about_named(self, section: str, text: str) -> bool:
        """Is a passage (its section path and text) about an organisation the question names?"""
        if not self.organisations:
            return True
        where = normalize(section) + "\n" + normalize(text)
        return any(f in where for forms in self.organisations for f in forms)

    @property
    def total_weight(self) -> float:
        return sum(t.weight for t in self.terms)

    @property
    def missing_entities(self) -> list[str]:
        """Place or person names the documents never mention (another city, …)."""
        return [t.text for t in self.terms if t.entity and not t.seen]

    @property
    def missing_focus(self) -> list[str]:
        """What a Chinese question asks about, when the documents never use the
        word (准确率, 估值, 探测器): they mention the topic, not the thing asked."""
        if self.lang != "zh" or self.kind not in VALUE_KINDS:
            return []  # English words reach the documents only through a dictionary; "什么文件" names a category
        return [t.text for t in self.terms if t.focus and not t.seen and t.noun]


_WHICH_COUNT = re.compile(r"哪[一两二三四五六七八九十几]*[个项家名支条种类点大位些样]?(?:方面)?")
_COUNT_WORD = re.compile(r"^[一两二三四五六七八九十几]+[个项家名支条种类点位]?$")
_ORDINAL = re.compile(r"第[一二三四五六七八九十百\d]+|首[批次届期个台]|[一二三四五六七八九十\d]+期|\d")
# Agent suffixes make a noun even where jieba's dictionary tags the word a verb
# (得主 v, like 获得者 / 研究员): "how many winners" asks about the winners.
_AGENT_SUFFIX = set("者主员")
_ENTITY_TAGS = {"ns"}  # places: jieba's person tags fire on too many ordinary words (太贵)
# Words jieba tags as places that name no particular place.
_GENERIC_PLACES = frozenset("东西 国内 国外 海外 全国 各地 当地 本地 世界 全球 国际 地方 中外 东方 西方 南北".split())


def _is_noun(word: str, tag: str) -> bool:
    return tag[0] == "n" or tag == "vn" or (len(word) > 1 and _CJK.match(word) is not None and word[-1] in _AGENT_SUFFIX)


def _equivalents(word: str) -> list[str]:
    """Spellings that mean the same: 首批 = 第一批."""
    forms = [word]
    m = re.match(r"^(?:首|第一)(.+)$", word)
    if m:
        forms += [f"首{m.group(1)}", f"第一{m.group(1)}"]
    return list(dict.fromkeys(forms))
# Term weights come from how informative a word is in general Chinese
# (-log p from jieba's dictionary), not from this corpus: a word the documents
# lack is then weighed by what it says, so 那个 or 提供 count little and 准确率
# or 专利 a lot.  Nouns say more than verbs.
_INFO_BASE, _INFO_SCALE, _MAX_WEIGHT = 7.5, 2.0, 3.0
FOCUS_BOOST = 2.0  # the thing asked about counts double
VALUE_KINDS = ("number", "time", "duration", "person")  # questions asking for a value of the thing they name
MAX_PHRASE = 6
_PARTICLES = set("的了是在和与及或等里着过吗呢吧啊呀")
_OOV_SEEN, _OOV_UNSEEN, _LATIN_WEIGHT, _NUMBER_WEIGHT = 2.5, 1.0, 2.5, 3.0


def word_weight(word: str, seen: bool, segmenter: Segmenter) -> float:
    if word.isascii():
        return _NUMBER_WEIGHT if word[0].isdigit() else _LATIN_WEIGHT
    info = segmenter.informativeness(word)
    if info is None:  # jieba does not know it: a domain term if the corpus has it, else chatter
        return _OOV_SEEN if seen else _OOV_UNSEEN
    weight = min(_MAX_WEIGHT, max(0.2, (info - _INFO_BASE) / _INFO_SCALE))
    tag = segmenter.tag(word) or ""
    if tag.startswith("v"):
        weight *= 0.7
    return weight


_Q = r"(?:多少|几|什么|啥|哪些|哪个|哪家|哪种|哪类|何种|多大|多长|谁)"
_FOCUS_AFTER = re.compile(_Q + r"[个家项种类的位名支条些样是]*([\u4e00-\u9fffA-Za-z0-9]{2,6})")
_FOCUS_BEFORE = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{2,4})(?:是|有|为|叫)?" + _Q + r"[钱个家人年次项件篇]?[？?吗呢啊呀。]*$")
_MODIFIER = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{2,8})的$")
_EN_FOCUS = re.compile(
    r"\b(?:how (?:many|much)|(?:what|which)(?:'s| is| are| was| were)?(?: the| a| an)?)\s+([a-z][a-z-]+(?: [a-z][a-z-]+)?)",
    re.I,
)


def focus_spans(question: str) -> list[str]:
    """Stretches of the question naming what it asks about: what follows its
    interrogative (多少个**应用场景**, 什么**型号**) or, when the interrogative
    ends the question, what precedes it (**成交额**有多大)."""
    q = normalize(question)
    spans = [m.group(1) for m in _FOCUS_AFTER.finditer(q)]
    for m in _FOCUS_BEFORE.finditer(q):
        spans.append(m.group(1))
        # 企业牵头或参与的**获奖项目**有多少: the noun names a category; its
        # modifier says which members of it are asked about.
        modifier = _MODIFIER.search(q[: m.start(1)])
        if modifier:
            spans.append(modifier.group(1))
    spans += [m.group(1).lower() for m in _EN_FOCUS.finditer(question)]
    return spans


def _merge_singles(words: list[str], contexts: list[str]) -> list[str]:
    """jieba splits words its dictionary lacks (区块链 -> 区块 + 链, 上链 -> 上 + 链)
    and phrases the documents use as one term (完成 + 单位).  Join neighbours
    when the joined string occurs in the retrieved passages."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if (
            nxt
            and len(w) + len(nxt) <= MAX_PHRASE
            and w not in _PARTICLES
            and nxt not in _PARTICLES
            and (len(w) == 1 or len(nxt) == 1 or (w not in STOPWORDS and nxt not in STOPWORDS))
            and _CJK.match(w[-1:])
            and _CJK.match(nxt[:1])
        ):
            joined = w + nxt
            if any(joined in c for c in contexts):
                words = words[:i] + [joined] + words[i + 2 :]
                continue
        out.append(w)
        i += 1
    return out


def _english_terms(question: str, glossary, segmenter, known, contexts) -> list[Term]:
    """English words and phrases, each standing for its Chinese translations."""
    terms = []
    for phrase, candidates in glossary.terms(question):
        forms = [normalize(c) for c in candidates]
        found = [f for f in forms if known(f) or any(f in c for c in contexts)]
        if found:
            weight, seen = max(word_weight(f, True, segmenter) for f in found), True
        elif forms:
            weight, seen = word_weight(forms[0], False, segmenter), False  # translatable, not in the documents
        else:
            weight, seen = _OOV_UNSEEN, False  # the dictionary does not know it
        terms.append(Term(phrase, weight, [], seen, forms + [normalize(phrase)]))
    _add_pinyin_names(question, terms, contexts)
    return terms


def _add_pinyin_names(question: str, terms: list[Term], contexts) -> None:
    """Names written in pinyin (Qi Zhi, Wutong) match the Chinese they spell."""
    from docqa.crosslingual import PinyinFinder

    tokens = [t for t in re.findall(r"[A-Za-z]+", question) if t.lower() not in STOPWORDS]
    if not tokens or not contexts:
        return
    finder = PinyinFinder(list(contexts))
    for n in (3, 2, 1):
        for i in range(len(tokens) - n + 1):
            group = [t.lower() for t in tokens[i : i + n]]
            names = finder.find(group)
            if not names:
                continue
            for t in terms:
                if t.text in group or t.text == " ".join(group):
                    t.forms = list(dict.fromkeys(t.forms + names))
                    t.weight, t.seen = max(t.weight, _OOV_SEEN), True


_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*[.、．]?|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])\s*")
_ORG_TITLE = re.compile(f"(?:{_ORG_SUFFIXES})$")
MIN_ORG_CHARS = 4


def organisation_headings(titles: Iterable[str], segmenter: Segmenter) -> list[tuple[str, ...]]:
    """The section titles that name an organisation (上海期智研究院), each with
    the spellings a question may use: whole, or without its leading place
    name (期智研究院)."""
    out = []
    for title in dict.fromkeys(titles):
        t = normalize(_SECTION_NUMBER.sub("", title))
        if len(t) < MIN_ORG_CHARS or not _ORG_TITLE.search(t):
            continue
        forms = [t]
        words = segmenter.coarse_words(t)
        if len(words) > 1 and segmenter.tag(words[0]) == "ns" and len(t) - len(words[0]) >= MIN_ORG_CHARS:
            forms.append(t[len(words[0]) :])
        out.append(tuple(forms))
    return out


def analyse(
    question: str,
    segmenter: Segmenter,
    known: Callable[[str], bool],
    contexts: list[str] = (),
    glossary=None,
    organisations: Iterable[tuple[str, ...]] = (),
) -> Question:
    """The key terms of a question, weighted.  ``known`` says whether the
    corpus vocabulary has a word; ``contexts`` are the normalised retrieved
    passages (used to repair segmentation and to tell whether a word occurs);
    ``glossary`` translates English words; ``organisations`` are the
    documents' organisation headings (see ``organisation_headings``)."""
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
        in_corpus = known(w) or any(w in c for c in contexts)
        is_seen = in_corpus or any(known(p) for p in parts)
        seen[w] = Term(
            w,
            word_weight(w, in_corpus, segmenter),
            parts,
            is_seen,
            forms=_equivalents(w),
            required=bool(_ORDINAL.search(w)) and not w.isascii() or w.isdigit(),
            entity=(segmenter.tag(w) or "") in _ENTITY_TAGS and w not in _GENERIC_PLACES,
            noun=_is_noun(w, segmenter.tag(w) or "x"),
        )
    for m in re.finditer(r"(\d+)([个家项名支条种位所篇次年])", norm):
        if m.group(1) in seen:  # "8家": a count of the same kind, not any 8
            seen[m.group(1)].forms = [m.group(0)]
    terms = list(seen.values())
    lang = language(question)
    if lang == "en" and glossary is not None:
        terms = [t for t in terms if not t.text.isascii() or t.text[0].isdigit()]
        terms += _english_terms(question, glossary, segmenter, known, contexts)
    focus = focus_spans(question)
    for t in terms:
        if any(t.text in f or (f.isascii() and f in t.text) for f in focus):
            t.weight *= FOCUS_BOOST
            t.focus = True
    named = [forms for forms in organisations if any(f in norm for f in forms)]
    return Question(question, lang, answer_kind(question), terms, _NUMBER.findall(norm), named)
