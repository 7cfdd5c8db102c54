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
from index.tokenize import Segmenter
from ingest.chunker import SECTION_SEP
from ingest.sentences import display, split_clauses

HEADING_CREDIT = 0.7
PASSAGE_CREDIT = 0.4
SENTENCE_CREDIT = 0.5  # the rest of the sentence a clause was cut from
MAX_SPAN_CHARS = 90
LENGTH_PENALTY = 0.002  # per character: prefer the shortest span that answers
MAX_ANSWER_UNITS = 3
HEADING_KINDS = ("org", "person")  # "which institute did X": the answer may be the heading over X
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
    lead: bool = False  # the answer names its section heading (who did it), cited on its own
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


def _leaf(hit: Hit) -> str:
    """The innermost heading of a passage, when it is a line of the document."""
    c = hit.chunk
    return c.section.rsplit(SECTION_SEP, 1)[-1] if c.heading_span and c.section else ""


def _doc_slice(hit: Hit, start: int, end: int) -> str:
    c = hit.chunk
    return c.text[start - c.start : end - c.start]


class ExtractiveAnswerer:
    def __init__(self, thresholds: Thresholds | None = None, segmenter: Segmenter | None = None):
        self.thresholds = thresholds or Thresholds()
        self.segmenter = segmenter or Segmenter()

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
        span.kind_ok = satisfies_kind(q.kind, span.text, q.text, self.segmenter)
        if not span.kind_ok and q.kind in HEADING_KINDS and _leaf(span.hit):
            span.kind_ok = span.lead = satisfies_kind(q.kind, _leaf(span.hit), q.text, self.segmenter)
        rank_prior = 1.0 / span.hit.rank
        unit_weight = 1.5 if q.lang == "en" else 0.5
        span.score = (
            span.coverage
            + 0.6 * (span.hit.dense - top_dense)
            + unit_weight * (span.udense - top_udense)
            + 0.08 * rank_prior
            + (0.25 if span.kind_ok else 0.0)
            - LENGTH_PENALTY * len(span.text)
        )

    def _context(self, hit: Hit, unit: Unit) -> list[tuple[str, float]]:
        others = normalize("".join(u.text for u in hit.chunk.units if u is not unit))
        return [(normalize(hit.chunk.heading + hit.chunk.section), HEADING_CREDIT), (others, PASSAGE_CREDIT)]

    def _trim(self, q: Question, span: Span, context, top_dense: float, top_udense: float) -> Span:
        """The best window of consecutive clauses of a sentence, or the whole
        sentence when no shorter window answers as well."""
        u, c = span.unit, span.hit.chunk
        if display(_doc_slice(span.hit, u.start, u.end)) != u.text:
            return span  # a repaired statistic reads in its own order: keep it whole
        if q.kind == "how":
            return span  # a "how" or "why" is answered by the whole sentence
        clauses = split_clauses(c.text, u.start - c.start, u.end - c.start)
        best = span
        for i in range(len(clauses)):
            for j in range(i, min(len(clauses), i + 3)):
                if i == 0 and j == len(clauses) - 1:
                    continue  # that is the whole sentence
                s = clauses[i][0] + c.start
                raw = _doc_slice(span.hit, s, clauses[j][1] + c.start).rstrip("，,：:")
                text = display(raw)
                if len(text) > MAX_SPAN_CHARS:
                    break
                rest = normalize(_doc_slice(span.hit, u.start, s) + _doc_slice(span.hit, s + len(raw), u.end))
                cand = Span(span.hit, u, s, s + len(raw), text, span.udense)
                self._score(q, cand, [(rest, SENTENCE_CREDIT)] + context, top_dense, top_udense)
                if cand.score > best.score + 1e-9:
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
        # A span without the kind of thing asked (no number for "how many") cannot answer.
        best = next((s for s in spans if s.kind_ok), spans[0])
        refuse, reason = should_abstain(q, best, hits, self.thresholds)
        if refuse:
            return Extract([], True, reason, best)
        chosen = [best]
        missing = {t.text: t.weight for t in q.terms if best.covered.get(t.text, 0) < 0.5}
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
        citations: list[Citation] = []
        parts = []

        def cite(c, start: int, end: int, quote: str) -> int:
            citations.append(Citation(len(citations) + 1, c.doc, c.title, c.section, start, end, c.page, quote))
            return len(citations)

        for s in ex.spans:
            c = s.hit.chunk
            prefix = ""
            if s.lead:
                leaf = _leaf(s.hit)
                prefix = f"{leaf}[{cite(c, c.heading_span[0], c.heading_span[1], leaf)}]："
            n = cite(c, s.start, s.end, _doc_slice(s.hit, s.start, s.end))
            parts.append(f"{prefix}{s.text}[{n}]")
        return " ".join(parts), False, citations, ex
