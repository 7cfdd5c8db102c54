"""Organisations: the section headings that name one or a branch of one (a
question naming it must be answered about it), and whether an answer names one."""

from __future__ import annotations

from collections.abc import Iterable

from docqa import lang
from docqa.index.tokenize import Segmenter
from docqa.text import normalize

_ZH = lang.load("zh")
_SECTION_NUMBER = _ZH.pattern("section_number")
_ORG_TITLE = _ZH.pattern("org_title")
_BRANCH_TITLE = _ZH.pattern("branch_title")  # 城北店: three characters name a branch
_ORG_NAME = _ZH.pattern("org_name")
_PLACE_TAGS = _ZH.wordset("place_tags")
MIN_ORG_CHARS = 4


def organisation_headings(titles: Iterable[str], segmenter: Segmenter) -> list[tuple[str, ...]]:
    """The section titles that name an organisation (上海期智研究院), each with
    the spellings a question may use: whole, or without its leading place
    name (期智研究院)."""
    out = []
    for title in dict.fromkeys(titles):
        t = normalize(_SECTION_NUMBER.sub("", title))
        if not (len(t) >= MIN_ORG_CHARS and _ORG_TITLE.search(t) or _BRANCH_TITLE.match(t)):
            continue
        forms = [t]
        words = segmenter.coarse_words(t)
        if len(words) > 1 and segmenter.tag(words[0]) in _PLACE_TAGS and len(t) - len(words[0]) >= MIN_ORG_CHARS:
            forms.append(t[len(words[0]) :])
        out.append(tuple(forms))
    return out


def names_organisation(text: str, question: str = "") -> bool:
    """Does ``text`` name an organisation (上海化工研究院有限公司) the question does
    not already name?  A generic mention (链主企业, 新型研发机构) is not a name."""
    asked = normalize(question)
    return any(normalize(m.group()) not in asked for m in _ORG_NAME.finditer(text))
