"""A second opinion on the answer selector's decision (``DOCQA_CHECK=llm``).

The selector's confidence rests on how much of the question a sentence
repeats; on documents unlike its training data it puts the right sentence
first and then refuses it (docs/selector.md).  A second opinion — an LLM
asked whether the best candidate answers the question (``docqa/llm/check.py``)
— is combined with the confidence in log-odds:

    answer  ⇔  confidence_weight · logit(confidence) + opinion_weight · logit(opinion) ≥ cut

The weights and the cut are calibrated for one embedding model's selector and
one LLM, in the ``[check]`` table of the model's profile.  Below ``floor`` the
opinion is not asked (only a near-certain opinion could lift the answer over
the cut there, and the call is saved); without
an opinion (the LLM unreachable, or no yes/no) the selector's threshold
decides, as without a checker.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from docqa.errors import DocumentError

FIELDS = ("confidence_weight", "opinion_weight", "cut", "floor", "llm")
CLIP = 1e-4


def logit(p: float) -> float:
    p = min(max(p, CLIP), 1 - CLIP)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class SecondOpinion:
    """``ask(question, passage)``: the probability that the passage (the best
    candidate's headings and sentence) answers the question, or None."""

    ask: Callable[[str, str], float | None]
    confidence_weight: float
    opinion_weight: float
    cut: float
    floor: float
    llm: str = ""  # the LLM it was calibrated with (shown in docs and logs)

    @classmethod
    def from_table(cls, ask: Callable[[str, str], float | None], table: dict, where: str) -> SecondOpinion:
        unknown = sorted(set(table) - set(FIELDS))
        if unknown:
            raise DocumentError(f"{where}: unknown [check] setting(s) {', '.join(unknown)}; it takes {', '.join(FIELDS)}")
        try:
            values = {k: float(table[k]) for k in FIELDS[:4]}
        except KeyError as exc:
            raise DocumentError(f"{where}: [check] needs {exc.args[0]} (see docs/llm.md, 'A second opinion')") from exc
        except (TypeError, ValueError) as exc:
            raise DocumentError(f"{where}: [check] settings must be numbers ({exc})") from exc
        if values["opinion_weight"] <= 0 or not 0.0 <= values["floor"] < 1.0:
            raise DocumentError(f"{where}: [check] needs opinion_weight > 0 and 0 <= floor < 1")
        return cls(ask, **values, llm=str(table.get("llm", "")))

    def answers(self, confidence: float, opinion: float) -> bool:
        return self.confidence_weight * logit(confidence) + self.opinion_weight * logit(opinion) >= self.cut
