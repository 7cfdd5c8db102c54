"""Values a question pins down — a year, a level, a level of government, a batch, a
session, a phase, a class, a lettered option or a membership tier (2023年, 二级, 省级 or
provincial-level, 第二批 or 首批, 第三届, 一期, 二类区域, 计划C, 银卡), a product's model
(QH-R800) — and whether a sentence
is about another value of the same kind: 「DCMM四级及以上」 does not answer a question about
二级, nor 「QH-R500的…纯废水比为2:1」 one about QH-R800, nor 「首次获评省级数字化车间的…」 one
about 国家级, nor the 三类区域 row of a fee table one about 四类区域.
The patterns are data (docqa/lang/zh.toml, ``asked_value``, ``product_code``)."""

from __future__ import annotations

import re
from functools import lru_cache

from docqa import lang
from docqa.text import normalize

_ZH = lang.load("zh")
_VALUE = _ZH.pattern("asked_value")
_FIRST = _ZH.wordset("first_prefixes")  # 首批 = 第一批
_ADMIN = {"admin": _ZH.words["admin_levels"], "admin_en": _ZH.words["admin_levels_en"]}  # 省级 = provincial-level = 2
_TIERS = _ZH.words["membership_tiers"]  # 金卡, 金卡会员: the tier 金
_LEVELS = _ZH.pattern("level_range")  # P6—P7级, 四级及以上: each level in it is said
_MODEL = _ZH.pattern("product_code")  # QH-R500: the model QH-R, number 500 (as written: "In 2023" is none)
_MODEL_PARTS = re.compile(r"(.*?)(\d+)([A-Za-z]?)")
MODEL = "model"  # the kind of a model code's value is MODEL and its letters: ("model QH-R", 500)
TIER = "tier"  # 银卡, 白金会员: a membership tier, named by its item alone when the item names one
OPTION = "option"  # B类, 计划C, A档: lettered options are one kind, numbered classes (二类) another
_OPTIONS = {"option", "option_after"}
LEVEL = "level"  # … and a level's, LEVEL and the letters of its series, if any: ("level p", 6) for P6级
_LETTERS = re.compile(r"[a-z]+$")  # a level's series (normalised text is case-folded)

Value = tuple[str, int]  # (kind, number)


def number(text: str) -> int | None:
    """12, 二, 十二, 二十三 as numbers (None for anything else)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        t = _ZH.numerals.get(tens, 0) if tens else 1
        u = _ZH.numerals.get(units, 0) if units else 0
        return t * 10 + u if (not tens or tens in _ZH.numerals) and (not units or units in _ZH.numerals) else None
    return _ZH.numerals.get(text) if len(text) == 1 else None


def values(text: str) -> set[Value]:
    """The values ``text`` names, each as its kind and number."""
    found = set()
    norm = normalize(text)
    for m in _VALUE.finditer(norm):
        said = m.group(m.lastgroup or 0)
        if m.lastgroup in _ADMIN:
            found.add(("admin", _ADMIN[m.lastgroup].index(said) + 1))
            continue
        if m.lastgroup == "tier":  # 银卡 and 金卡 are two tiers of one kind
            found.add((TIER, _TIERS.index(said) + 1))
            continue
        if m.lastgroup in _OPTIONS:  # a lettered option: 计划C is C, the third
            found.add((OPTION, ord(said) - ord("a") + 1))
            continue
        n = 1 if said in _FIRST else number(said)
        if m.lastgroup == LEVEL and n is not None:
            found.add((_series(norm, m.start(LEVEL)), n))
        elif m.lastgroup and n is not None:
            found.add((m.lastgroup, n))
    for m in _MODEL.finditer(text):
        letters, digits, suffix = _MODEL_PARTS.fullmatch(m.group()).groups()  # type: ignore[union-attr]
        found.add((f"{MODEL} {letters}{suffix}", int(digits)))
    return found


@lru_cache(maxsize=4096)
def heading_values(headings: tuple[str, ...]) -> frozenset[Value]:
    """The values ``headings`` (outermost first) name, each kind from the
    innermost heading that names one: 「2023年度报告 > 十三、2024年工作展望」 is
    about 2024.  Cached: every candidate of a passage asks for its section path."""
    found: set[Value] = set()
    kinds: set[str] = set()
    for heading in reversed(headings):
        named = values(heading)
        found |= {v for v in named if v[0] not in kinds}
        kinds |= {k for k, _ in named}
    return frozenset(found)


def about_other_value(asked: set[Value], text: str, headings: tuple[str, ...] = (), same_letters: bool = False) -> bool:
    """Is ``text`` (a sentence with what qualifies it, under ``headings``) about
    another value of a kind the question pins down, and not about the asked one?
    Every model code is one kind (WD-10 is another model than HD-9), unless
    ``same_letters``: then only a model of the same letters is another model —
    for a question asking for a code (「SR-9用的是什么型号的电池？」 is answered
    by 「电池型号：BT-5200」) and for a code carried from an earlier sentence."""
    if not asked:
        return False
    family = _series_family if same_letters else _family
    said = values(text) | heading_values(headings) | _in_ranges(asked, text)
    asked_kinds = {family(k) for k, _ in asked}
    other_kinds = {family(w[0]) for w in said if family(w[0]) in asked_kinds and not any(_same(v, w) for v in asked)}
    return any(not any(_same(v, w) for v in asked if family(v[0]) == kind for w in said) for kind in other_kinds)


def _same(a: Value, b: Value) -> bool:
    """The same value: the same kind and number, where a level of no series
    (二级) is the same as one of any series (DCMM二级), and P5 is not M5; a
    model's number whatever its letters."""
    return a[1] == b[1] and (a[0] == b[0] or _compatible(a[0], b[0]))


def _compatible(a: str, b: str) -> bool:
    """A level of no series and one of any; and two models of one number: E23P is a
    variant of route E23, not another model (WD-10 and HD-9 are two)."""
    return _family(a) == _family(b) == LEVEL and LEVEL in (a, b) or _family(a) == _family(b) == MODEL


def _series(text: str, at: int) -> str:
    """The kind of a level said at ``at``: ``level``, and the letters of its series
    when it has them (P6级 -> "level p", 6: P6 is not M6; DCMM二级 -> "level dcmm")."""
    letters = _LETTERS.search(text[:at])
    return f"{LEVEL} {letters.group()}" if letters else LEVEL


def _family(kind: str) -> str:
    """Levels of every series are one kind of value: a sentence about P1—P5 is
    about another level than M2; so are the models of every letters."""
    return MODEL if kind.startswith(MODEL) else _series_family(kind)


def _series_family(kind: str) -> str:
    """Levels of every series are one kind; a model's letters make a kind of their own."""
    return LEVEL if kind.startswith(LEVEL) else kind


def _in_ranges(asked: set[Value], text: str) -> set[Value]:
    """The asked levels a range of levels of their series in ``text`` holds (P6
    in 「P6—P7级」, 五级 in 「四级及以上」; not M2 in 「P1—P5级」)."""
    if not any(_family(kind) == LEVEL for kind, _ in asked):
        return set()
    norm = normalize(text)
    held = set()
    for m in _LEVELS.finditer(norm):
        least = m.group("least")
        low = number(m.group("low") or least)
        high = number(m.group("high")) if m.group("high") else None
        kind = _series(norm, m.start("low") if least is None else m.start("least"))
        if low is not None:
            held |= {
                (k, n)
                for k, n in asked
                if (k == kind or _compatible(k, kind)) and low <= n and (least is not None or (high is not None and n <= high))
            }
    return held
