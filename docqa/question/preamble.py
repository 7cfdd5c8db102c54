"""The question a user asked, without the courtesy, filler or correction it
starts with: 「请问，宝山区发布的是什么文件？」 asks 「宝山区发布的是什么文件？」, and
「不对，我是问普通客服热线几点到几点」 asks 「普通客服热线几点到几点」.  Left in, 请问's
characters count against every sentence the question is compared with, and
an answer found without them is refused with them.  The phrases are data
(docqa/lang/zh.toml: ``question_preamble``).  A leading 那 ("so") stays: on
the development dialogues, reading past it answered one question more and
two traps (another entity's fact) that it had kept refused."""

from __future__ import annotations

from docqa import lang

_PREAMBLE = lang.load("zh").pattern("question_preamble")
MIN_REST_CHARS = 4


def without_preamble(question: str) -> str:
    """``question`` from where it starts asking (unchanged when nothing
    precedes that, or when too little would be left)."""
    preamble = _PREAMBLE.match(question)
    rest = question[preamble.end() :] if preamble else question
    return rest if len(rest.strip(" ？?。.！!")) >= MIN_REST_CHARS else question
