"""A second opinion on the answer selector's near misses, from the LLM.

On documents unlike its training data (a product manual's ``标签：值`` lines,
a notice's articles, questions in everyday words) the selector often puts the
right sentence first and refuses it: its confidence rests on how much of the
question the sentence repeats (docs/selector.md).  The checker shows the LLM
the question and that sentence (the prompt files ``prompts/check_*``) and
reads the probability it gives to 「是」 ("yes") against 「否」 ("no") as its
first token; ``docqa/answer/second_opinion.py`` weighs it with the
confidence.  The LLM never writes the answer here: the quote is the
document's sentence either way.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from docqa.errors import LLMError
from docqa.llm.client import ChatClient
from docqa.llm.prompts import load_prompt

log = logging.getLogger(__name__)
YES, NO = "是", "否"


def yes_share(text: str, weighed: dict[str, float]) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first token's log-probabilities; from
    the token itself when the server sends none; None when it said neither."""
    yes = [lp for token, lp in weighed.items() if token.strip() == YES]
    no = [lp for token, lp in weighed.items() if token.strip() == NO]
    if yes or no:
        y = max(yes, default=-math.inf)
        n = max(no, default=-math.inf)
        top = max(y, n)
        return math.exp(y - top) / (math.exp(y - top) + math.exp(n - top))
    said = text.strip()
    return 1.0 if said.startswith(YES) else 0.0 if said.startswith(NO) else None


class LLMChecker:
    """``check(question, passage)``: the probability that ``passage`` (the
    best candidate's headings and sentence) answers ``question``, or None
    when the LLM cannot say (unreachable, or no yes/no)."""

    def __init__(self, client: ChatClient, prompts_dir: Path | None = None):
        self.client = client
        self.system = load_prompt("check_system", None, prompts_dir)
        self.user = load_prompt("check_user", None, prompts_dir)
        self.system.render(), self.user.render(passage="", question="")  # a broken prompt fails at start

    def check(self, question: str, passage: str) -> float | None:
        messages = [
            {"role": "system", "content": self.system.render()},
            {"role": "user", "content": self.user.render(passage=passage, question=question)},
        ]
        try:
            text, weighed = self.client.first_token(messages)
        except LLMError as exc:
            log.warning("the LLM gave no second opinion (%s); the selector's threshold decides", exc)
            return None
        share = yes_share(text, weighed)
        if share is None:
            log.warning("the LLM's second opinion %r is neither yes nor no; the selector's threshold decides", text[:50])
        return share
