"""Numbers in text, as values: so that "1.2万", "12,000" and "１２０００" are
one number, and "三家" is 3 — and a figure the passages never state can be
told from one they do.

``claims(text)`` are the numbers a sentence asserts; ``values(text)`` every
number a passage holds.  A claim is supported when its value is among the
passage's values.  A unit multiplier (万, 亿) is part of a number's value: an
answer saying "1.2亿" against a passage saying "1.2万" is not supported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_MULT = {"千": 1e3, "万": 1e4, "亿": 1e8, "万亿": 1e12}
_ARABIC = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(万亿|亿|万|千)?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
# A Chinese numeral counts as a number when it counts something (三家, 十二项,
# 两批), is an ordinal (第三) or a percentage (百分之三十); 长三角 or 十四五 do not.
_COUNTED = "个家项名批所座台次倍年月日位人户件条种类届期支篇份套元岁天周层级只款轮场辆架艘处"
_CN = re.compile(rf"(百分之|第)?([{_CN_NUM}]+)(?=[{_COUNTED}%])|(百分之|第)([{_CN_NUM}]+)")


@dataclass(frozen=True)
class Claim:
    surface: str  # as written
    value: float


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _round(x: float) -> float:
    return round(x, 6)


def cn_value(s: str) -> float | None:
    """Value of a Chinese numeral (三, 十二, 两百零五, 一万二千, 三千五百万); None if malformed."""
    if not s:
        return None
    if all(ch in _CN_DIGITS for ch in s) and len(s) > 1:  # digit by digit: 二〇二三
        return float(int("".join(str(_CN_DIGITS[ch]) for ch in s)))
    total, section, digit = 0.0, 0.0, None
    for ch in s:
        if ch in "零〇":
            continue  # a place holder: 两百零五
        if ch in _CN_DIGITS:
            if digit is not None:
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch in ("万", "亿"):
            section += digit or 0
            if section == 0 and total == 0:
                return None
            total = (total + section) * _MULT[ch] if ch == "亿" else total + section * _MULT[ch]
            section, digit = 0.0, None
        else:
            return None
    return total + section + (digit or 0)


def _arabic(m: re.Match) -> float:
    whole = m.group(1).replace(",", "")
    value = float(whole + (m.group(2) or ""))
    return value * _MULT.get(m.group(3) or "", 1.0)


def claims(text: str) -> list[Claim]:
    """The numbers ``text`` asserts, in order."""
    t = _norm(text)
    out = [Claim(m.group().strip(), _round(_arabic(m))) for m in _ARABIC.finditer(t)]
    for m in _CN.finditer(t):
        prefix = m.group(1) or m.group(3) or ""
        digits = m.group(2) or m.group(4)
        if not prefix and digits in ("一", "两"):
            continue  # 一个/一批/两者: the article, not a figure someone could invent
        v = cn_value(digits)
        if v is not None:
            out.append(Claim(prefix + digits, _round(v)))
    return out


def values(text: str) -> set[float]:
    """Every number ``text`` holds, as values (Arabic and Chinese forms)."""
    t = _norm(text)
    out = {_round(_arabic(m)) for m in _ARABIC.finditer(t)}
    for m in re.finditer(rf"[{_CN_NUM}]+", t):
        v = cn_value(m.group())
        if v is not None:
            out.add(_round(v))
    return out


def unsupported(text: str, sources: list[str]) -> list[Claim]:
    """The claims of ``text`` whose value none of ``sources`` holds."""
    have: set[float] = set()
    for s in sources:
        have |= values(s)
    return [c for c in claims(text) if c.value not in have]
