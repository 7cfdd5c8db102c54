"""The default answerer: no LLM.  It answers with the sentence or clauses of
the retrieved passages that answer the question, each cited, or refuses.

Every sentence of the retrieved passages and every run of up to three of its
clauses is a candidate (``candidates.py``).  A learned selector
(``selector.py``, trained by ``docqa train-selector``) ranks them from their
features (``features.py``) and says how likely the best one is to answer the
question; below its threshold the answer is a refusal.  A question asking for
several things (a list, two parts) may take more spans, from other sentences,
for what the best one leaves out; a list's lead answers with its items
(``lists.py``); a consequence answering a why-question runs back over its
reason, and a span opening with a pronoun over what it stands for
(``antecedents.py``).  A refused question that asks for an address, a
number to call, opening hours, a price or a product's specification is
answered by the one labelled line or table cell that gives it (``fields.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from docqa.answer.antecedents import with_antecedent, with_reason
from docqa.answer.base import Delta, Event, Final
from docqa.answer.candidates import Span, candidates, doc_slice, leaf, reading
from docqa.answer.features import feature_matrix
from docqa.answer.fields import field_answer
from docqa.answer.lists import with_items
from docqa.answer.second_opinion import SecondOpinion
from docqa.answer.selector import Selector
from docqa.index.tokenize import Segmenter
from docqa.question import Question, normalize
from docqa.records import Citation, Hit

MAX_ANSWER_UNITS = 3
COMPLEMENT_KINDS = ("multi", "list")  # questions whose answer may span sentences
COMPLEMENT_SHARE = 0.2  # … when the best span leaves this share of the question's weight uncovered


@dataclass
class Extract:
    """What the extractive answerer decided, before formatting."""

    spans: list[Span]
    refused: bool
    reason: str = ""
    best: Span | None = None
    confidence: float | None = None  # the selector's probability that the best span answers
    opinion: float | None = None  # the second opinion's, when one was asked


class ExtractiveAnswerer:
    """``selector`` is the learned selector, or a function that loads it
    (when the first question needs it); ``second_opinion`` (``DOCQA_CHECK``)
    joins the refusal decision for Chinese questions."""

    def __init__(
        self,
        selector: Selector | Callable[[], Selector],
        segmenter: Segmenter | None = None,
        second_opinion: SecondOpinion | None = None,
    ):
        self._selector = selector
        self.segmenter = segmenter or Segmenter()
        self.second_opinion = second_opinion

    def warmup(self) -> None:
        if self.selector.reader is not None:
            self.selector.reader.warmup()

    @property
    def selector(self) -> Selector:
        if not isinstance(self._selector, Selector):
            self._selector = self._selector()
        return self._selector

    def extract(self, q: Question, hits: list[Hit], min_confidence: float | None = None) -> Extract:
        if not hits:
            return Extract([], True, "nothing retrieved")
        spans, allowed = candidates(q, hits, self.segmenter)
        if not any(allowed):
            about = [f[0] for f in q.organisations] + q.carried
            return Extract([], True, f"no passage about {' / '.join(about)}" if about else "no sentence about the asked value")

        def pair(best: int) -> tuple[str, str]:
            return q.text, reading(spans[best].hit.chunk.heading, spans[best].sentence_text)

        scores, best_at, confidence = self.selector.choose(feature_matrix(q, spans), np.array(allowed), pair)
        for span, score in zip(spans, scores):
            span.score = float(score)
        best = spans[best_at]
        threshold = self.selector.threshold if min_confidence is None else min_confidence
        opinion = None
        if self.second_opinion is not None and min_confidence is None and q.lang == "zh":
            refused, opinion, reason = self._decide(self.second_opinion, confidence, threshold, pair(best_at))
        else:
            refused, reason = confidence < threshold, f"confidence {confidence:.2f} < {threshold:.2f}"
        if refused:
            # 「地址：…」 for 「…在哪儿？」, under the trained threshold (one set by a deployment or a call holds)
            field = field_answer(q, spans, allowed) if min_confidence is None else None
            if field is None:
                return Extract([], True, reason, best, confidence, opinion)
            return Extract([field], False, "", field, confidence, opinion)
        pool = [s for s, ok in zip(spans, allowed) if ok]
        shown = with_items(best)  # a list's lead answers with its items
        shown = with_reason(q, shown, spans)  # a consequence answers a why-question with its reason
        shown = with_antecedent(q, shown, spans)  # a pronoun with what it stands for
        more = self._complements(q, best, pool) if q.kind in COMPLEMENT_KINDS else []
        chosen = [shown] + [s for s in more if s.hit is not shown.hit or not shown.start <= s.start < shown.end]
        chosen.sort(key=lambda s: (s.hit.rank, s.start))
        return Extract(chosen, False, "", best, confidence, opinion)

    @staticmethod
    def _decide(second: SecondOpinion, confidence: float, threshold: float, pair: tuple[str, str]):
        """Refuse or not, with the second opinion (None when not asked or not
        given: then the threshold decides) and the reason for a refusal."""
        below = f"confidence {confidence:.2f} < {threshold:.2f}"
        if confidence < second.floor:
            return True, None, below
        opinion = second.ask(*pair)
        if opinion is None:
            return confidence < threshold, None, below
        refused = not second.answers(confidence, opinion)
        return refused, opinion, f"confidence {confidence:.2f}, second opinion {opinion:.2f}: below the cut"

    def _complements(self, q: Question, best: Span, spans: list[Span]) -> list[Span]:
        """More spans, from other sentences, for what the best one leaves out
        (the second part of a two-part question)."""
        forms = {t.text: t.forms for t in q.terms}
        missing = {t.text: t.weight for t in q.terms if best.covered.get(t.text, 0) < 0.5}
        chosen: list[Span] = []
        used = {(best.hit.chunk.doc, best.sentence)}
        while missing and len(chosen) < MAX_ANSWER_UNITS - 1:
            if sum(missing.values()) / (q.total_weight or 1.0) < COMPLEMENT_SHARE:
                break

            def gain(s: Span, missing: dict[str, float] = missing) -> float:
                own = normalize(s.text)
                return sum(w for t, w in missing.items() if any(f in own for f in forms[t]))

            pool = [s for s in spans if (s.hit.chunk.doc, s.sentence) not in used and s.kind_ok]
            if not pool:
                break
            nxt = max(pool, key=lambda s: (gain(s), s.score))
            if gain(nxt) < 0.5 * sum(missing.values()):
                break
            chosen.append(nxt)
            used.add((nxt.hit.chunk.doc, nxt.sentence))
            own = normalize(nxt.text)
            missing = {t: w for t, w in missing.items() if not any(f in own for f in forms[t])}
        return chosen

    # -- formatting ------------------------------------------------------
    def answer(self, q: Question, hits: list[Hit], refusal: str, min_confidence: float | None = None) -> Iterator[Event]:
        """The answer in one piece (one delta, then the final answer)."""
        final = self.format(self.extract(q, hits, min_confidence), refusal)
        if final.text:
            yield Delta(final.text)
        yield final

    @staticmethod
    def format(ex: Extract, refusal: str) -> Final:
        """The chosen spans as answer text with ``[n]`` markers and their citations."""
        if ex.refused:
            return Final(refusal, True, [], reason=ex.reason, confidence=ex.confidence, second_opinion=ex.opinion)
        citations: list[Citation] = []
        parts = []

        def cite(c, start: int, end: int, quote: str) -> int:
            citations.append(Citation(len(citations) + 1, c.doc, c.title, c.section_path, start, end, c.page, quote))
            return len(citations)

        for s in ex.spans:
            c = s.hit.chunk
            prefix = ""
            if s.lead:
                assert c.heading_span is not None  # a lead is set only under a heading line (see candidates.leaf)
                heading = leaf(s.hit)
                prefix = f"{heading}[{cite(c, c.heading_span[0], c.heading_span[1], heading)}]："
            n = cite(c, s.start, s.end, doc_slice(s.hit, s.start, s.end))
            parts.append(f"{prefix}{s.text}[{n}]")
        return Final(" ".join(parts), False, citations, confidence=ex.confidence, second_opinion=ex.opinion)
