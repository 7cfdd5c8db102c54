"""The default answerer: no LLM.  It answers with the sentence(s) or clause(s)
of the retrieved passages that best cover the question, each cited, or
abstains when the evidence is not there.

Evidence is scored per unit (sentence) from the question's key terms found in
the unit (full credit), in its section headings or its passage (partial
credit), weighted by IDF; whether the unit holds the kind of thing asked for
(a number, a date, a list); and the passage's dense similarity and rank.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from docqa.answer.abstain import Thresholds, should_abstain
from docqa.question import Question, normalize, satisfies_kind
from docqa.records import Citation, Hit, Unit
from ingest.sentences import display, split_clauses

HEADING_CREDIT = 0.7
PASSAGE_CREDIT = 0.4
MAX_SPAN_CHARS = 90
MAX_ANSWER_UNITS = 3
REFUSAL = {"zh": "报告中没有找到相关信息。", "en": "The report does not contain this information."}


@dataclass
class Span:
    hit: Hit
    unit: Unit
    start: int
    end: int
    text: str
    udense: float = 0.0  # cosine of the question with the unit (late-chunked sentence vector)
    covered: dict[str, float] = field(default_factory=dict)  # term -> credit
    coverage: float = 0.0
    kind_ok: bool = True
    score: float = 0.0


@dataclass
class Extract:
    """What the extractive answerer decided, before formatting."""

    spans: list[Span]
    refused: bool
    reason: str = ""
    best: Span | None = None


def _credit(term, texts: list[tuple[str, float]]) -> float:
    best = 0.0
    for text, weight in texts:
        if any(f in text for f in term.forms):
            return weight if weight > best else best
        if term.parts:
            share = sum(1 for p in term.parts if p in text) / len(term.parts)
            best = max(best, 0.8 * weight * share)
    return best


def _doc_slice(hit: Hit, start: int, end: int) -> str:
    c = hit.chunk
    return c.text[start - c.start : end - c.start]


class ExtractiveAnswerer:
    def __init__(self, thresholds: Thresholds | None = None):
        self.thresholds = thresholds or Thresholds()

    # -- scoring ---------------------------------------------------------
    def _score(self, q: Question, span: Span, context: list[tuple[str, float]], top_dense: float, top_udense: float) -> None:
        own = normalize(span.text)
        texts = [(own, 1.0)] + context
        total = q.total_weight or 1.0
        span.covered = {t.text: _credit(t, texts) for t in q.terms}
        span.coverage = sum(t.weight * span.covered[t.text] for t in q.terms) / total if q.terms else 0.0
        for number in q.numbers:  # numbers the question names must be there
            if number not in own and not any(number in t for t, _ in context):
                span.coverage *= 0.5
        span.kind_ok = satisfies_kind(q.kind, span.text)
        rank_prior = 1.0 / span.hit.rank
        unit_weight = 1.5 if q.lang == "en" else 0.5
        span.score = (
            span.coverage
            + 0.6 * (span.hit.dense - top_dense)
            + unit_weight * (span.udense - top_udense)
            + 0.08 * rank_prior
            + (0.25 if span.kind_ok else 0.0)
            - 0.0005 * len(span.text)
        )

    def _context(self, hit: Hit, unit: Unit) -> list[tuple[str, float]]:
        others = normalize("".join(u.text for u in hit.chunk.units if u is not unit))
        return [(normalize(hit.chunk.heading + hit.chunk.section), HEADING_CREDIT), (others, PASSAGE_CREDIT)]

    def _trim(self, q: Question, span: Span, context, top_dense: float, top_udense: float) -> Span:
        """The best window of consecutive clauses of a long sentence."""
        u = span.unit
        if len(span.text) <= MAX_SPAN_CHARS or display(_doc_slice(span.hit, u.start, u.end)) != u.text:
            return span
        clauses = split_clauses(span.hit.chunk.text, u.start - span.hit.chunk.start, u.end - span.hit.chunk.start)
        best = span
        for i in range(len(clauses)):
            for j in range(i, min(len(clauses), i + 4)):
                s, e = clauses[i][0] + span.hit.chunk.start, clauses[j][1] + span.hit.chunk.start
                text = display(_doc_slice(span.hit, s, e)).rstrip("，,、：:")
                if len(text) > MAX_SPAN_CHARS and j > i:
                    break
                cand = Span(span.hit, u, s, s + len(_doc_slice(span.hit, s, e).rstrip("，,、：:")), text, span.udense)
                self._score(q, cand, context, top_dense, top_udense)
                if best is span or cand.score > best.score + 1e-9:
                    best = cand
        return best

    # -- selection -------------------------------------------------------
    def extract(self, q: Question, hits: list[Hit]) -> Extract:
        if not hits:
            return Extract([], True, "nothing retrieved")
        top_dense = max(h.dense for h in hits)
        top_udense = max((d for h in hits for d in h.unit_dense), default=0.0)
        spans: list[Span] = []
        for hit in hits:
            for i, unit in enumerate(hit.chunk.units):
                context = self._context(hit, unit)
                udense = hit.unit_dense[i] if i < len(hit.unit_dense) else hit.dense
                span = Span(hit, unit, unit.start, unit.end, unit.text, udense)
                self._score(q, span, context, top_dense, top_udense)
                spans.append(self._trim(q, span, context, top_dense, top_udense))
        spans.sort(key=lambda s: -s.score)
        best = spans[0]
        refuse, reason = should_abstain(q, best, hits, self.thresholds)
        if refuse:
            return Extract([], True, reason, best)
        chosen = [best]
        missing = {t.text: t.weight for t in q.terms if best.covered.get(t.text, 0) < 0.99}
        while missing and len(chosen) < MAX_ANSWER_UNITS:
            share = sum(missing.values()) / (q.total_weight or 1.0)
            if share < 0.2:
                break
            forms = {t.text: t.forms for t in q.terms}

            def gain(s: Span) -> float:
                own = normalize(s.text)
                return sum(w for t, w in missing.items() if any(f in own for f in forms[t]))
            used = {(c.hit.chunk.doc, c.unit.start) for c in chosen}
            pool = [s for s in spans if (s.hit.chunk.doc, s.unit.start) not in used and s.kind_ok]
            if not pool:
                break
            nxt = max(pool, key=lambda s: (gain(s), s.score))
            if gain(nxt) < 0.5 * sum(missing.values()):
                break
            chosen.append(nxt)
            own = normalize(nxt.text)
            missing = {t: w for t, w in missing.items() if not any(f in own for f in forms[t])}
        chosen.sort(key=lambda s: (s.hit.rank, s.start))
        return Extract(chosen, False, "", best)

    # -- formatting ------------------------------------------------------
    def answer(self, q: Question, hits: list[Hit]) -> tuple[str, bool, list[Citation], Extract]:
        ex = self.extract(q, hits)
        if ex.refused:
            return REFUSAL[q.lang], True, [], ex
        citations, parts = [], []
        for n, s in enumerate(ex.spans, start=1):
            c = s.hit.chunk
            citations.append(
                Citation(
                    n=n,
                    doc=c.doc,
                    title=c.title,
                    section=c.section,
                    start=s.start,
                    end=s.end,
                    page=c.page,
                    quote=_doc_slice(s.hit, s.start, s.end),
                )
            )
            parts.append(f"{s.text}[{n}]")
        return " ".join(parts), False, citations, ex
