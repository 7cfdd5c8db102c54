"""The default answerer: no LLM.  It answers with the sentence(s) or clause(s)
of the retrieved passages that best cover the question, each cited, or
abstains when the evidence is not there.

Candidates are the sentences of the retrieved passages and runs of their
clauses.  Each is scored from the question's key terms found in it (full
credit), in the rest of its sentence, its section headings, the sentence
before or its passage (partial credit); whether it holds the kind of thing
asked for (a number, a date, a list); its similarity to the question
(late-chunked clause vectors); and its passage's similarity and rank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from docqa.answer.abstain import Thresholds, should_abstain
from docqa.answer.base import Delta, Event, Final
from docqa.index.tokenize import Segmenter
from docqa.ingest.sentences import display
from docqa.question import Question, names_organisation, normalize, satisfies_kind
from docqa.records import Citation, Hit

HEADING_CREDIT = 0.7
PREVIOUS_CREDIT = 0.5  # the sentence before (its subject often carries over)
PASSAGE_CREDIT = 0.25
SENTENCE_CREDIT = 0.5  # the rest of the sentence a clause was cut from
MAX_SPAN_CHARS = 90
LENGTH_PENALTY = 0.0  # per character (measured: any penalty cuts answers short of the fact)
MAX_ANSWER_UNITS = 3
WHOLE_SENTENCE_KINDS = ("how", "why", "multi")
COMPLEMENT_KINDS = ("multi", "list", "other")  # questions whose answer may span sentences
HEADING_KINDS = ("org",)  # "which institute did X": the answer may be the heading over X


@dataclass
class Span:
    """A candidate answer: one or more consecutive clauses of a sentence."""

    hit: Hit
    sentence: int  # the sentence's id (its start offset in the document)
    start: int
    end: int
    text: str
    udense: float = 0.0  # cosine of the question with these clauses (late-chunked vectors)
    covered: dict[str, float] = field(default_factory=dict)  # term -> credit
    coverage: float = 0.0
    kind_ok: bool = True
    lead: bool = False  # the answer names its section heading (who did it), cited on its own
    whole: bool = False  # the span is its whole sentence
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


def _novelty(span: str, question: str) -> float:
    """Share of a span's letters and digits that the question does not contain:
    a span that only restates the question answers nothing."""
    asked = set(normalize(question))
    chars = [c for c in span if c.isalnum()]
    return sum(c not in asked for c in chars) / len(chars) if chars else 0.0


def _same_paragraph(hit: Hit, before: list, after: list) -> bool:
    """No line break between two sentences of a passage."""
    return "\n" not in _doc_slice(hit, before[-1].end, after[0].start)


def _leaf(hit: Hit) -> str:
    """The innermost heading of a passage, when it is a line of the document."""
    c = hit.chunk
    return c.section_path[-1] if c.heading_span and c.section_path else ""


def _doc_slice(hit: Hit, start: int, end: int) -> str:
    c = hit.chunk
    return c.text[start - c.start : end - c.start]


@dataclass(frozen=True)
class Weights:
    """How evidence adds up to a span's score (calibrated with the dev question
    sets; see docqa/answer/abstain.py).  Similarities enter relative to the
    best one among the candidates."""

    coverage: float = 1.0  # share of the question's key terms the span covers
    passage: float = 0.6  # cosine of the question with the span's passage
    sentence_zh: float = 1.5  # cosine of the question with the span's clauses, Chinese questions
    sentence_en: float = 4.0  # … English questions (few shared words: similarity matters more)
    rank: float = 0.2  # 1 / retrieval rank
    kind: float = 0.25  # the span holds the kind of thing asked (a number, a date, …)
    novelty: float = 0.15  # share of the span the question does not already say (an answer adds something)
    length: float = LENGTH_PENALTY  # per character: prefer the shortest span that answers


class ExtractiveAnswerer:
    def __init__(
        self, thresholds: Thresholds | None = None, segmenter: Segmenter | None = None, weights: Weights | None = None
    ):
        self.thresholds = thresholds or Thresholds()
        self.segmenter = segmenter or Segmenter()
        self.weights = weights or Weights()

    # -- candidates ------------------------------------------------------
    def _windows(self, q: Question, hit: Hit) -> list[tuple[Span, list[tuple[str, float]]]]:
        """Every sentence of a passage, and (unless the question wants whole
        sentences) every run of up to three of its clauses, with the text
        around each run as context."""
        sentences = hit.chunk.sentences()
        dense = hit.unit_dense or [hit.dense] * len(hit.chunk.units)
        index = {id(u): i for i, u in enumerate(hit.chunk.units)}
        heading = (normalize(hit.chunk.heading + hit.chunk.section), HEADING_CREDIT)
        out = []
        for k, sent in enumerate(sentences):
            # The sentence before lends its subject when it is in the same
            # paragraph, or opens the passage (a lead-in such as "2024年度…显示").
            near = [j for j in (0, k - 1) if 0 <= j < k and (j == 0 or _same_paragraph(hit, sentences[j], sent))]
            previous = (normalize("".join(u.text for j in near for u in sentences[j])), PREVIOUS_CREDIT)
            others = normalize("".join(u.text for j, ss in enumerate(sentences) if j != k and j not in near for u in ss))
            context = [heading, previous, (others, PASSAGE_CREDIT)]
            runs = [(0, len(sent))]
            if q.kind not in WHOLE_SENTENCE_KINDS and len(sent) > 1:
                runs += [
                    (i, j)
                    for i in range(len(sent))
                    for j in range(i + 1, min(len(sent), i + 3) + 1)
                    if (i, j) != (0, len(sent))
                ]
            for i, j in runs:
                units = sent[i:j]
                raw = _doc_slice(hit, units[0].start, units[-1].end)
                whole = (i, j) == (0, len(sent))
                if len(units) == 1 and display(raw) != units[0].text:
                    text = units[0].text  # a repaired statistic reads in its own order
                else:
                    raw = raw if whole else raw.rstrip("，,：:；; \n")
                    text = display(raw)
                if not whole and len(text) > MAX_SPAN_CHARS:
                    continue
                sizes = [max(1, len(u.text)) for u in units]
                udense = sum(dense[index[id(u)]] * n for u, n in zip(units, sizes)) / sum(sizes)
                span = Span(hit, sent[0].sentence_id, units[0].start, units[0].start + len(raw), text, udense, whole=whole)
                rest = "" if whole else normalize("".join(u.text for u in sent[:i] + sent[j:]))
                out.append((span, [(rest, SENTENCE_CREDIT)] + context if rest else context))
        return out

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
        if q.kind in HEADING_KINDS and _leaf(span.hit) and not names_organisation(span.text, q.text):
            # The span says what was done but not by whom: the heading over it may name the doer.
            span.lead = names_organisation(_leaf(span.hit), q.text)
            span.kind_ok = span.kind_ok or span.lead
        w = self.weights
        span.score = (
            w.coverage * span.coverage
            + w.passage * (span.hit.dense - top_dense)
            + (w.sentence_en if q.lang == "en" else w.sentence_zh) * (span.udense - top_udense)
            + w.rank / span.hit.rank
            + (w.kind if span.kind_ok else 0.0)
            + w.novelty * _novelty(own, q.text)
            - w.length * len(span.text)
        )

    # -- selection -------------------------------------------------------
    def extract(self, q: Question, hits: list[Hit]) -> Extract:
        if not hits:
            return Extract([], True, "nothing retrieved")
        top_dense = max(h.dense for h in hits)
        top_udense = max((d for h in hits for d in h.unit_dense), default=0.0)
        spans: list[Span] = []
        for hit in hits:
            if not q.about_named(hit.chunk.section, hit.chunk.text):
                continue  # about another organisation than the one asked about: its figures are not the answer
            for span, context in self._windows(q, hit):
                self._score(q, span, context, top_dense, top_udense)
                spans.append(span)
        if not spans:
            return Extract([], True, f"no passage about {' / '.join(f[0] for f in q.organisations)}")
        spans.sort(key=lambda s: -s.score)
        # A span without the kind of thing asked (no number for "how many") cannot answer.
        best = next((s for s in spans if s.kind_ok), spans[0])
        refuse, reason = should_abstain(q, best, hits, self.thresholds)
        if refuse:
            return Extract([], True, reason, best)
        chosen = [best] + (self._complements(q, best, spans) if q.kind in COMPLEMENT_KINDS else [])
        following = self._following(q, best, spans)
        if following is not None and all(c.sentence != following.sentence for c in chosen):
            chosen.append(following)
        chosen.sort(key=lambda s: (s.hit.rank, s.start))
        return Extract(chosen, False, "", best)

    def _following(self, q: Question, best: Span, spans: list[Span]) -> Span | None:
        """When the best span does not itself name what was asked about (it
        names the subject; the asked detail follows), the next sentence of
        its passage, whole."""
        focus = [t for t in q.terms if t.focus]
        own = normalize(best.text)
        if not focus or any(f in own for t in focus for f in t.forms):
            return None
        ids = [sent[0].sentence_id for sent in best.hit.chunk.sentences()]
        k = ids.index(best.sentence)
        if k + 1 >= len(ids):
            return None
        return next((s for s in spans if s.hit is best.hit and s.sentence == ids[k + 1] and s.whole), None)

    def _complements(self, q: Question, best: Span, spans: list[Span]) -> list[Span]:
        """More spans, from other sentences, for what the best one leaves out
        (the second part of a two-part question)."""
        forms = {t.text: t.forms for t in q.terms}
        missing = {t.text: t.weight for t in q.terms if best.covered.get(t.text, 0) < 0.5}
        chosen: list[Span] = []
        used = {(best.hit.chunk.doc, best.sentence)}
        while missing and len(chosen) < MAX_ANSWER_UNITS - 1:
            if sum(missing.values()) / (q.total_weight or 1.0) < 0.2:
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
    def answer(self, q: Question, hits: list[Hit], refusal: str) -> Iterator[Event]:
        """The answer in one piece (one delta, then the final answer)."""
        final = self.final(q, hits, refusal)
        if final.text:
            yield Delta(final.text)
        yield final

    def final(self, q: Question, hits: list[Hit], refusal: str) -> Final:
        return self.format(self.extract(q, hits), refusal)

    @staticmethod
    def format(ex: Extract, refusal: str) -> Final:
        """The chosen spans as answer text with ``[n]`` markers and their citations."""
        if ex.refused:
            return Final(refusal, True, [], reason=ex.reason)
        citations: list[Citation] = []
        parts = []

        def cite(c, start: int, end: int, quote: str) -> int:
            citations.append(Citation(len(citations) + 1, c.doc, c.title, c.section_path, start, end, c.page, quote))
            return len(citations)

        for s in ex.spans:
            c = s.hit.chunk
            prefix = ""
            if s.lead:
                assert c.heading_span is not None  # a lead is set only under a heading line (see _leaf)
                leaf = _leaf(s.hit)
                prefix = f"{leaf}[{cite(c, c.heading_span[0], c.heading_span[1], leaf)}]："
            n = cite(c, s.start, s.end, _doc_slice(s.hit, s.start, s.end))
            parts.append(f"{prefix}{s.text}[{n}]")
        return Final(" ".join(parts), False, citations)
