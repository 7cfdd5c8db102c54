"""Quantities a question states (累计工作了12年, 公司出资4万元, 排第30名) and the
ranges a sentence's conditions give the same quantity (已满10年不满20年的,
费用在3万元及以上的, 前5名的新生): a condition that leaves the stated quantity out
does not answer the question, however well it matches it.  「员工累计工作已满1年
不满10年的，年休假5天」 is not the answer for someone who has worked 12 years.

A range counts only as a condition: the clause it is in goes on to a 的 (「…不满
10年的，」, 「前5名的新生」) or it ends in a colon.  A cap on what is given (「最高
不超过2万元」) is no condition.  The words are data (docqa/lang/zh.toml,
``stated_quantity``, ``quantity_range``, ``range_*``)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from docqa import lang
from docqa.question.values import number
from docqa.text import normalize

_ZH = lang.load("zh")
_STATED = _ZH.pattern("stated_quantity")
_RANGE = _ZH.pattern("quantity_range")
_UPPER_BEFORE = _ZH.wordset("range_upper_before")
_LOWER_AFTER = _ZH.wordset("range_lower_after")
_STRICT = _ZH.wordset("range_strict")
_SAME = dict(pair.split("=") for pair in _ZH.wordset("range_unit_same"))  # 周岁 is 岁
_MULTIPLIERS = {"": 1, "千": 1_000, "万": 10_000, "亿": 100_000_000}
_CLAUSE_END = re.compile(r"[，,；;。：:！!？?]")
_RATE = "每"  # a quantity after it in its clause is a rate (每带动1家奖励3万元)
_YEAR_FROM = 1000  # 2024年 is a date, not a number of years


@dataclass(frozen=True)
class Range:
    """A quantity's range in one unit (元, 年, 名); a stated value is a range from it to itself."""

    unit: str
    low: float = -math.inf
    high: float = math.inf
    low_strict: bool = False
    high_strict: bool = False

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_strict else value >= self.low
        below = value < self.high if self.high_strict else value <= self.high
        return above and below

    def overlaps(self, other: Range) -> bool:
        """Do the two ranges share a value (a stated quantity is a range from it to itself)?"""
        low, high = max(self.low, other.low), min(self.high, other.high)
        return low < high or (low == high and self.holds(low) and other.holds(low))


def _value(said: str, multiplier: str) -> float | None:
    n = float(said) if said[0].isdigit() else number(said)
    return None if n is None else n * _MULTIPLIERS[multiplier]


def _is_date(unit: str, value: float) -> bool:
    return unit == "年" and value >= _YEAR_FROM


def stated(question: str) -> list[Range]:
    """The quantities ``question`` states, each as a range in its unit: a
    value (4万元 -> 40000 to 40000 元), or the range a condition of the question
    gives (「上云费用超过50万元的企业」 -> over 500000 元); years of the calendar
    (2024年) and rates (每带动1家) are none."""
    norm = normalize(question)
    bounded = list(_ranges(norm))
    found = [r for r, _ in bounded]
    for m in _STATED.finditer(norm):
        value = _value(m.group(1), m.group(2))
        inside = any(a <= m.start() and m.end() <= b for _, (a, b) in bounded)
        rate = _RATE in _CLAUSE_END.split(norm[: m.start()])[-1]  # 每带动1家: per one, not how many
        if value is not None and not _is_date(m.group(3), value) and not inside and not rate:
            found.append(Range(_SAME.get(m.group(3), m.group(3)), value, value))
    return found


def _conditional(text: str, end: int) -> bool:
    """Is the range ending at ``end`` a condition: its clause goes on to a 的, or a colon follows it?"""
    rest = text[end:]
    stop = _CLAUSE_END.search(rest)
    clause = rest[: stop.start()] if stop else rest
    return "的" in clause or (stop is not None and stop.start() == 0 and stop.group() in "：:")


def _ranges(t: str) -> Iterator[tuple[Range, tuple[int, int]]]:
    """Each range the normalised text ``t`` gives a quantity, with where it is said."""
    for m in _RANGE.finditer(t):
        g = m.groupdict()
        if g["n2"] is not None:
            unit = g["u2"] if g["u1"] in (None, g["u2"]) else None
            mult = g["m1"] or ("" if g["u1"] else g["m2"])
            low, high = _value(g["n1"], mult), _value(g["n2"], g["m2"])
            if unit is None or low is None or high is None:
                continue
            r = Range(unit, low, high, g["lo_w"] in _STRICT, g["hi_w"] in _STRICT)
        else:
            value = _value(g["n1"], g["m1"])
            bound = g["lo_w"] or g["lo_a"] or g["top"]
            if not g["u1"] or value is None or not bound:
                continue
            strict = bound in _STRICT
            if g["top"]:
                r = Range(g["u1"], 1, value)
            elif bound in _UPPER_BEFORE or (g["lo_a"] and g["lo_a"] not in _LOWER_AFTER and not g["lo_w"]):
                r = Range(g["u1"], high=value, high_strict=strict)
            else:
                r = Range(g["u1"], low=value, low_strict=strict)
        if not _is_date(r.unit, r.low):
            yield replace(r, unit=_SAME.get(r.unit, r.unit)), m.span()


def given(text: str) -> list[Range]:
    """Every range ``text`` gives a quantity, a condition or not (a table's cell 「满10年不满20年」)."""
    return [r for r, _ in _ranges(normalize(text))]


def fits(value: str, asked: list[Range], text: str) -> bool:
    """Does ``text`` give a range that holds a quantity the question states as ``value`` (12 of
    「工作快12年了」 and 「累计工作年限：满10年不满20年」)?"""
    try:
        n = float(value)
    except ValueError:
        return False
    units = {a.unit for a in asked if a.low == a.high == n}
    return bool(units) and any(g.unit in units and g.holds(n) for g in given(text))


def conditions(text: str) -> list[Range]:
    """The ranges the conditions of ``text`` give a quantity."""
    t = normalize(text)
    return [r for r, (_, end) in _ranges(t) if _conditional(t, end)]


def leaves_out(asked: list[Range], text: str) -> bool:
    """Do the conditions of ``text`` bound a quantity the question states, and
    leave it out (all of them, for each unit they bound)?"""
    if not asked:
        return False
    ranges = conditions(text)
    for unit in {r.unit for r in asked}:
        bounding = [r for r in ranges if r.unit == unit]
        if bounding and not any(r.overlaps(q) for r in bounding for q in asked if q.unit == unit):
            return True
    return False


def two_ended(text: str) -> list[tuple[int, int]]:
    """Where ``text`` (as written) gives a range by both its ends (满10年不满20年, 1至3万元)."""
    return [m.span() for m in _RANGE.finditer(text) if m.group("n2") is not None]
