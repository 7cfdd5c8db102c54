"""Line classification and layout repair for text extracted from laid-out reports.

Infographic statistics come out of a layout as separate short lines: a
lead-in (``在所有686家完成单位中``), a figure line (``134个，占所有获奖项目70%``)
and its label (``多单位合作项目``).  ``find_stat_groups`` finds such runs —
figure lines next to short unpunctuated label lines — and joins each figure
with its label (and the group's lead-in) into one readable unit whose span
still covers exactly the source lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docqa import lang
from docqa.ingest.markdown import is_row_line
from docqa.records import Unit

_NUM = r"[约近超逾共计累达]?\d[\d,，.]*"
_UNIT = r"(?:%|％|[个家项名支亿万千百元件篇人所座台套次倍余多])"
_FIGURE = re.compile(rf"^{_NUM}\s*{_UNIT}")
_YEAR = re.compile(r"^\d{4}\s*年")
_PUNCT = set("。！？!?；;，,：:、")
_END_PUNCT = set("。！？!?；;")
# a value under a short label (产品型号：CJ-T8P): a fact, never a heading (docqa/lang/zh.toml)
_FIELD = lang.load("zh").pattern("field_line")
_BULLET = re.compile(r"^(?:[-*•·▪◆●■]\s*|\(?\d{1,2}[)）]\s*|[①-⑳])")
# A line that starts a list item: a bullet, ``1.``, ``1、``, ``(1)``, ``（一）``, ``一、``, ``①``, ``a)``.
LIST_ITEM = re.compile(
    r"^(?:[•·▪◦●○■□◆◇►▶➢✓\-–*](?:\s|(?=\S))|\d{1,2}(?:\.\d{1,2})*[.、．)）](?!\d)|[(（](?:\d{1,2}|[一二三四五六七八九十]{1,3})[)）]"
    r"|[一二三四五六七八九十]{1,3}、|[①-⑳]|[a-zA-Z][.)]\s)"
)
MAX_LABEL = 20
MAX_FIGURE = 40
MAX_LEAD_IN = 30


@dataclass
class Line:
    start: int
    end: int
    text: str
    blank_before: bool = True


@dataclass
class StatGroup:
    lines: list[Line]
    units: list[Unit] = field(default_factory=list)


def lines_of(doc: str) -> list[Line]:
    out, pos, blank = [], 0, True
    for raw in doc.split("\n"):
        if raw.strip():
            out.append(Line(pos, pos + len(raw), raw, blank))
            blank = False
        else:
            blank = True
        pos += len(raw) + 1
    return out


def is_figure(line: Line) -> bool:
    t = line.text
    if len(t) > MAX_FIGURE or t[-1] in _END_PUNCT or _YEAR.match(t):
        return False
    return bool(_FIGURE.match(t)) and ("%" in t or "％" in t or "，" in t or len(t) <= 15)


def is_label(line: Line) -> bool:
    t = line.text
    return len(t) <= MAX_LABEL and not any(c in _PUNCT for c in t) and not any(c.isdigit() for c in t) and not _BULLET.match(t)


def is_short_unpunctuated(line: Line, limit: int) -> bool:
    t = line.text
    return (
        len(t) <= limit
        and t[-1] not in _PUNCT
        and not _BULLET.match(t)
        and not any(c in _END_PUNCT for c in t)
        and not is_row_line(t)
    )


def reads_as_heading(line: Line, limit: int) -> bool:
    """A line that may be a heading nobody marked as one: short, unpunctuated,
    neither a statistic (「8个」) nor a value under a short label (「服务热线：400-860-2715」)."""
    return is_short_unpunctuated(line, limit) and not is_figure(line) and not _FIELD.match(line.text)


def find_stat_groups(lines: list[Line]) -> dict[int, StatGroup]:
    """Map the index of each group's first line to the group; grouped lines are consumed."""
    groups: dict[int, StatGroup] = {}
    i, n, free_from = 0, len(lines), 0
    while i < n:
        pairs: list[tuple[Line, Line]] = []  # (label, figure)
        j = i
        while j + 1 < n and is_figure(lines[j]) and is_label(lines[j + 1]) and not is_figure(lines[j + 1]):
            pairs.append((lines[j + 1], lines[j]))
            j += 2
        if not pairs:
            i += 1
            continue
        first = i
        lead: Line | None = None
        if i > 0 and is_short_unpunctuated(lines[i - 1], MAX_LEAD_IN) and i - 1 >= free_from:
            lead = lines[i - 1]
            first = i - 1
        group = StatGroup(lines=lines[first:j])
        for k, (label, figure) in enumerate(pairs):
            text = f"{label.text}{figure.text}"
            start = figure.start
            if k == 0 and lead is not None:
                text = f"{lead.text}，{text}"
                start = lead.start
            group.units.append(Unit(start, label.end, text))
        groups[first] = group
        i = free_from = j
    return groups
