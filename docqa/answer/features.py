"""What the learned selector reads about each candidate answer.

Every feature is a number computed from the question's analysis, the
retrieved passages and the candidate, with no reference to any corpus or
question set: how much of the question the candidate, its sentence and its
passage repeat (key terms, characters, character pairs), where the question's
wording says the answer sits (between the words around its interrogative),
whether it holds the kind of thing asked (a number with the unit asked for, a
date, a name), how similar the question is to it (late-chunked clause
vectors) and to its passage, and how retrieval ranked the passage.  Gaps to
the best candidate of the same question make features comparable across
questions.  The names and their order are part of a trained selector file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from docqa import lang
from docqa.answer.candidates import Span, doc_slice
from docqa.question import Question, normalize
from docqa.question.kinds import answer_kind_names

_ZH = lang.load("zh")
_FUNCTION_CHARS = _ZH.wordset("function_chars")
_INTERROGATIVE = _ZH.pattern("interrogative")
_UNIT_ASKED = _ZH.pattern("asked_unit")
_PRONOUN_START = _ZH.pattern("pronoun_start")
_NUMBER = r"(?:\d+(?:[.,]\d+)*|[零一二两三四五六七八九十百千万亿]+)"
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\d{3,4}年")
WINDOW = 20  # characters either side of a candidate read as its surroundings
KINDS = answer_kind_names()

SPAN_FEATURES = (
    "cov", "own_cov", "sent_cov",
    "char_own", "char_sent", "char_pass", "bi_own", "bi_sent", "bi_pass", "bi_before", "bi_after", "bi_density",
    "slot_in", "slot_found", "novelty",
    "kind_ok", "lead", "unit_ok", "numbers_ok", "required_ok", "focus_cov", "entity_cov",
    "digits", "year", "book", "pronoun",
    "udense", "dense", "rank", "fused", "lex_rel", "dense_rel",
    "len", "whole", "first", "clauses", "sent_len", "sent_index",
)  # fmt: skip
GAP_FEATURES = ("own_cov", "char_own", "bi_own", "bi_sent", "udense")
QUESTION_FEATURES = ("q_en", "kind", "n_terms", "q_len", "n_qc", "miss_ent", "miss_focus", "top_dense", "top_udense")
FEATURES: tuple[str, ...] = SPAN_FEATURES + tuple(f"{g}_gap" for g in GAP_FEATURES) + QUESTION_FEATURES
CATEGORICAL = ("kind",)
HEADING_CREDIT, BEFORE_CREDIT, PASSAGE_CREDIT, REST_CREDIT = 0.7, 0.5, 0.25, 0.5


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _share(asked: set[str], found: set[str]) -> float:
    return len(asked & found) / len(asked) if asked else 0.0


def credit(term, texts: Sequence[tuple[str, float]]) -> float:
    """How much of a question term a candidate carries: full credit in its own
    text, partial credit (the given weight) in the text around it; a term's
    finer words give part credit."""
    best = 0.0
    for text, weight in texts:
        if any(f in text for f in term.forms):
            return weight if weight > best else best
        if term.parts:
            share = sum(1 for p in term.parts if p in text) / len(term.parts)
            best = max(best, 0.8 * weight * share)
    return best


def _slot(asked: str, sentence: str, own: str) -> tuple[float, int]:
    """Where the question's wording puts the answer: between the words just
    before its interrogative and those just after it, found in the sentence.
    Returns the share of that gap the candidate covers, and how many of the
    two anchors were found."""
    m = _INTERROGATIVE.search(asked)
    if not m:
        return 0.0, 0
    left, right = asked[: m.start()], asked[m.end() :].lstrip("个些种位家年的是")
    lo, hi, found = 0, len(sentence), 0
    for k in (4, 3, 2):
        if len(left) >= k and left[-k:] in sentence:
            lo, found = sentence.index(left[-k:]) + k, found + 1
            break
    for k in (4, 3, 2):
        if len(right) >= k and right[:k] in sentence[lo:]:
            hi, found = sentence.index(right[:k], lo), found + 1
            break
    i = sentence.find(own)
    if not found or hi <= lo or i < 0:
        return 0.0, found
    return max(0, min(hi, i + len(own)) - max(lo, i)) / (hi - lo), found


class _Asked:
    """The question's text as the features compare it: its content characters
    and character pairs (for an English question, those of the Chinese
    translations of its terms)."""

    def __init__(self, q: Question):
        self.q = q
        self.text = normalize(q.text)
        basis = "".join(f for t in q.terms for f in t.forms) if q.lang == "en" else self.text
        self.chars = {c for c in basis if c.isalnum() and c not in _FUNCTION_CHARS}
        self.pairs = {b for b in _bigrams(basis) if not set(b) & _FUNCTION_CHARS}
        unit = _UNIT_ASKED.search(self.text)
        self.unit = re.compile(_NUMBER + r"\s*" + re.escape(unit.group(1))) if unit else None
        self.total = q.total_weight or 1.0


def _share_of(terms: list, covered: dict[str, float]) -> float:
    """Weighted credit of some of the question's terms (1 when there are none)."""
    total = sum(t.weight for t in terms)
    return sum(t.weight * covered[t.text] for t in terms) / total if total else 1.0


def _coverage(asked: _Asked, texts: Sequence[tuple[str, float]]) -> tuple[float, dict[str, float]]:
    covered = {t.text: credit(t, texts) for t in asked.q.terms}
    return sum(t.weight * covered[t.text] for t in asked.q.terms) / asked.total, covered


def feature_matrix(q: Question, spans: Sequence[Span]) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (and ``Span.covered`` filled in)."""
    if not spans:
        return np.zeros((0, len(FEATURES)), np.float32)
    asked = _Asked(q)
    hits = {id(s.hit): s.hit for s in spans}.values()
    top_dense = max(h.dense for h in hits)
    top_udense = max((d for h in hits for d in h.unit_dense), default=0.0)
    top_lex = max(h.lexical for h in hits) or 1.0
    passages = {id(h): normalize(h.chunk.text) for h in hits}
    passage_pairs = {k: _share(asked.pairs, _bigrams(v)) for k, v in passages.items()}
    passage_chars = {k: _share(asked.chars, set(v)) for k, v in passages.items()}
    headings = {id(h): normalize(h.chunk.heading + h.chunk.section) for h in hits}
    sentence_pairs: dict[tuple[int, int], set[str]] = {}
    rows = []
    for s in spans:
        own = normalize(s.text)
        passage = passages[id(s.hit)]
        context = [(s.rest, REST_CREDIT)] if s.rest else []
        context += [(headings[id(s.hit)], HEADING_CREDIT), (s.before, BEFORE_CREDIT), (passage, PASSAGE_CREDIT)]
        cov, s.covered = _coverage(asked, [(own, 1.0), *context])
        numbers_ok = all(n in own or any(n in t for t, _ in context) for n in q.numbers)
        key = (id(s.hit), s.index)
        if key not in sentence_pairs:
            sentence_pairs[key] = _bigrams(s.sentence_text)
        own_pairs = _bigrams(own)
        around = s.hit.chunk.start
        before = normalize(doc_slice(s.hit, max(around, s.start - WINDOW), s.start))
        after = normalize(doc_slice(s.hit, s.end, s.end + WINDOW))
        slot_in, slot_found = _slot(asked.text, s.sentence_text, own)
        letters = [c for c in own if c.isalnum()]
        rows.append([
            cov if numbers_ok else cov * 0.5,
            _coverage(asked, [(own, 1.0)])[0],
            _coverage(asked, [(s.sentence_text, 1.0)])[0],
            _share(asked.chars, set(own)), _share(asked.chars, set(s.sentence_text)), passage_chars[id(s.hit)],
            _share(asked.pairs, own_pairs), _share(asked.pairs, sentence_pairs[key]), passage_pairs[id(s.hit)],
            _share(asked.pairs, _bigrams(before)), _share(asked.pairs, _bigrams(after)),
            len(asked.pairs & own_pairs) / max(1, len(own_pairs)),
            slot_in, slot_found,
            sum(c not in asked.text for c in letters) / len(letters) if letters else 0.0,
            s.kind_ok, s.lead, bool(asked.unit and asked.unit.search(own)), numbers_ok,
            all(s.covered[t.text] >= 0.5 for t in q.terms if t.required),
            _share_of([t for t in q.terms if t.focus], s.covered), _share_of([t for t in q.terms if t.entity], s.covered),
            len(_DIGIT.findall(own)), bool(_YEAR.search(own)), "《" in own, bool(_PRONOUN_START.match(own)),
            s.udense, s.hit.dense, s.hit.rank, s.hit.score, s.hit.lexical / top_lex, s.hit.dense - top_dense,
            len(s.text), s.whole, s.first, s.clauses, len(s.sentence_text), s.index,
        ])  # fmt: skip
    x = np.asarray(rows, dtype=np.float32)
    gaps = [x[:, SPAN_FEATURES.index(g)].max() - x[:, SPAN_FEATURES.index(g)] for g in GAP_FEATURES]
    question = [
        q.lang == "en", KINDS.index(q.kind) if q.kind in KINDS else len(KINDS), len(q.terms), len(q.text),
        len(asked.chars), bool(q.missing_entities), bool(q.missing_focus), top_dense, top_udense,
    ]  # fmt: skip
    return np.hstack([x, np.stack(gaps, 1), np.tile(np.asarray(question, np.float32), (len(x), 1))]).astype(np.float32)
