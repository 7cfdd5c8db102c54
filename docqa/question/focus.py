"""What a question asks about: the words next to its interrogative."""

from __future__ import annotations

from docqa import lang
from docqa.text import normalize

_ZH, _EN = lang.load("zh"), lang.load("en")
_FOCUS_AFTER = _ZH.pattern("focus_after")
_FOCUS_BEFORE = _ZH.pattern("focus_before")
_MODIFIER = _ZH.pattern("modifier")
_EN_FOCUS = _EN.pattern("focus")
FOCUS_BOOST = 2.0  # the thing asked about counts double


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
