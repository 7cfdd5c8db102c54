"""The days a question or a sentence is about, by class (``day_frame`` in
docqa/lang/zh.toml): every day, weekdays, the weekend, public holidays.
「营业时间：周一至周五 06:00—23:00」 does not answer 「周末几点到几点营业？」, and
「周一至周日 9:00—17:00」 answers it."""

from __future__ import annotations

from docqa import lang

_FRAME = lang.load("zh").pattern("day_frame")
EVERY = "every"


def day_frames(text: str) -> set[str]:
    """The classes of days ``text`` names (weekday, weekend, holiday, every)."""
    return {m.lastgroup for m in _FRAME.finditer(text) if m.lastgroup}


def about_other_days(asked: set[str], text: str) -> bool:
    """Does ``text`` name only days of classes other than the ``asked`` ones
    (and not every day)?"""
    said = day_frames(text)
    return bool(said) and EVERY not in said and not said & asked
