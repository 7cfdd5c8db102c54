"""Eval metrics: pure functions over one question's gold data and the engine's
answer contract, and over many questions' scores.

Matching is on normalised text (``normalize``): NFKC, markdown emphasis and all
whitespace removed, case-folded; ``[n]`` citation markers are stripped from
answers first.  The eval keeps its own normalisation so that changes to the
engine never change the instrument.

Definitions (answerable questions only, unless said otherwise):

- a retrieved passage is *relevant* when it contains an evidence string (when a
  question has no evidence: when it contains every fact);
- ``hit@k``: a relevant passage among the first k; ``mrr``: mean of 1/rank of
  the first relevant passage (0 when none);
- ``fact_recall``: share of the question's facts found in the answer (a fact is
  a list of alternative strings; one is enough); ``exact``: all facts found;
- ``median_chars``: median length of the answers given (refusals excluded),
  without markers;
- citation ``precision``: share of all citations whose quote or passage
  contains an evidence string or a fact; ``recall``: share of questions with
  at least one such citation;
- abstention ``recall``: share of *unanswerable* questions refused;
  ``false_rate``: share of answerable questions refused;
- ``false_answer_rate``: share of the answers given that are wrong (an
  unanswerable question answered, or an answer missing a fact);
- risk–coverage: every question's confidence (the answer selector's
  probability) and whether its answer — the one it would get if the threshold
  let it through — is right; moving the threshold trades the share of
  questions answered (coverage) against the share of those answered right;
- latency: p50/p95 of the wall time of ``Engine.ask`` over all questions.

Undefined figures (no answerable questions, no citations, …) are ``None``.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

_MARKER = re.compile(r"\s*\[\d+\]")
_SPACE = re.compile(r"\s+")

# (section, key, direction): +1 higher is better, -1 lower is better.
SUMMARY_METRICS: list[tuple[str, str, int]] = [
    ("retrieval", "hit@1", +1),
    ("retrieval", "hit@5", +1),
    ("retrieval", "mrr", +1),
    ("answer", "fact_recall", +1),
    ("answer", "exact", +1),
    ("answer", "median_chars", -1),
    ("citation", "precision", +1),
    ("citation", "recall", +1),
    ("abstention", "recall", +1),
    ("abstention", "false_rate", -1),
    ("abstention", "false_answer_rate", -1),
    ("latency_ms", "p50", -1),
    ("latency_ms", "p95", -1),
]


def normalize(text: str) -> str:
    """NFKC, markdown emphasis (``**``, ``__``) and all whitespace removed, case-folded."""
    t = unicodedata.normalize("NFKC", text).replace("**", "").replace("__", "")
    return _SPACE.sub("", t).casefold()


def strip_markers(answer: str) -> str:
    """The answer without its ``[n]`` citation markers."""
    return _MARKER.sub("", answer).strip()


def fact_found(fact: Sequence[str], text: str) -> bool:
    """Is one of the fact's alternatives in ``text``?  (``text`` already normalised.)"""
    return any(alt and normalize(alt) in text for alt in map(str, fact))


def facts_found(facts: Sequence[Sequence[str]], answer: str) -> list[bool]:
    text = normalize(strip_markers(answer))
    return [fact_found(f, text) for f in facts]


def passage_relevant(passage: str, evidence: Sequence[str], facts: Sequence[Sequence[str]]) -> bool:
    text = normalize(passage)
    if evidence:
        return any(normalize(e) in text for e in evidence if normalize(e))
    return bool(facts) and all(fact_found(f, text) for f in facts)


def first_relevant_rank(passages: Sequence[str], evidence: Sequence[str], facts: Sequence[Sequence[str]]) -> int | None:
    """1-based rank of the first relevant passage, None when there is none."""
    for i, p in enumerate(passages, 1):
        if passage_relevant(p, evidence, facts):
            return i
    return None


def citation_supported(quote: str, passage: str, evidence: Sequence[str], facts: Sequence[Sequence[str]]) -> bool:
    """Does the cited quote, or the passage it was taken from, hold an evidence
    string or (any alternative of) a fact?"""
    targets = [normalize(t) for t in [*evidence, *(alt for f in facts for alt in f)]]
    texts = [normalize(quote), normalize(passage)]
    return any(t and t in x for t in targets for x in texts)


def citation_passage(citation: dict, passages: Sequence[dict]) -> str:
    """Text of the retrieved passage a citation points into (same document,
    span inside the passage); "" when none does."""
    for p in passages:
        if p.get("doc") == citation.get("doc") and p["start"] <= citation["start"] and citation["end"] <= p["end"]:
            return p.get("text", "")
    return ""


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100, numpy's default); None for no values."""
    if not len(values):
        return None
    return float(np.percentile(values, q))


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Scores:
    """One question's scores (``None`` where a figure does not apply)."""

    type: str
    answerable: bool
    refused: bool
    latency_ms: float
    rank: int | None = None  # of the first relevant passage
    facts_found: list[bool] = field(default_factory=list)
    fact_recall: float | None = None
    exact: bool | None = None
    chars: int | None = None  # answer length without markers (None when refused)
    citations_supported: list[bool] = field(default_factory=list)
    citation_ok: bool | None = None  # at least one supported citation
    ok: bool = False
    failures: list[str] = field(default_factory=list)
    confidence: float | None = None  # the answer selector's probability (answers and refusals)
    right_if_answered: bool | None = None  # the answer it gives or would give holds every fact

    def hit(self, k: int) -> float:
        return 1.0 if self.rank is not None and self.rank <= k else 0.0

    @property
    def rr(self) -> float:
        return 1.0 / self.rank if self.rank else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.answerable:
            d.update({"hit@1": self.hit(1), "hit@5": self.hit(5), "rr": round(self.rr, 4)})
        d["latency_ms"] = round(self.latency_ms, 1)
        if d["fact_recall"] is not None:
            d["fact_recall"] = round(d["fact_recall"], 4)
        return d


def score_question(
    facts: Sequence[Sequence[str]],
    evidence: Sequence[str],
    answerable: bool,
    qtype: str,
    answer: dict,
    latency_ms: float,
    would_be: str | None = None,
) -> Scores:
    """Score one answer contract (``Answer.to_dict()``) against gold data.
    ``would_be`` is the answer a refused question would get with no threshold."""
    refused = bool(answer.get("refused"))
    s = Scores(type=qtype, answerable=answerable, refused=refused, latency_ms=latency_ms)
    s.confidence = answer.get("confidence")
    shown = would_be if refused and would_be is not None else answer.get("answer", "")
    s.right_if_answered = answerable and bool(facts) and all(facts_found(facts, shown))
    if not answerable:
        s.ok = refused
        if not refused:
            s.failures.append("answered a question the documents do not answer")
        return s
    passages = answer.get("passages") or []
    s.rank = first_relevant_rank([p.get("text", "") for p in passages], evidence, facts)
    s.facts_found = facts_found(facts, answer.get("answer", ""))
    s.fact_recall = mean([1.0 if f else 0.0 for f in s.facts_found]) if facts else 0.0
    s.exact = bool(facts) and all(s.facts_found)
    s.chars = None if refused else len(strip_markers(answer.get("answer", "")))
    s.citations_supported = [
        citation_supported(c.get("quote", ""), citation_passage(c, passages), evidence, facts)
        for c in answer.get("citations") or []
    ]
    s.citation_ok = any(s.citations_supported)
    if refused:
        s.failures.append("refused an answerable question")
    elif not s.exact:
        missing = [" / ".join(f) for f, ok in zip(facts, s.facts_found) if not ok]
        s.failures.append("missing facts: " + "; ".join(missing))
    if not refused and not s.citation_ok:
        s.failures.append("no citation holds the evidence")
    if s.rank is None or s.rank > 5:
        s.failures.append("evidence not in the top 5 passages")
    s.ok = not refused and s.exact and s.citation_ok
    return s


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def summarise(scores: Sequence[Scores], by_type: bool = True) -> dict:
    """Aggregate figures over questions; ``by_type`` adds the same per type."""
    ans = [s for s in scores if s.answerable]
    una = [s for s in scores if not s.answerable]
    cited = [ok for s in ans for ok in s.citations_supported]
    given = [s.chars for s in ans if s.chars is not None]
    latency = [s.latency_ms for s in scores]
    out = {
        "questions": len(scores),
        "answerable": len(ans),
        "unanswerable": len(una),
        "retrieval": {
            "hit@1": _r(mean([s.hit(1) for s in ans])),
            "hit@5": _r(mean([s.hit(5) for s in ans])),
            "mrr": _r(mean([s.rr for s in ans])),
        },
        "answer": {
            "fact_recall": _r(mean([s.fact_recall for s in ans if s.fact_recall is not None])),
            "exact": _r(mean([1.0 if s.exact else 0.0 for s in ans])),
            "median_chars": statistics.median(given) if given else None,
        },
        "citation": {
            "precision": _r(mean([1.0 if ok else 0.0 for ok in cited])),
            "recall": _r(mean([1.0 if s.citation_ok else 0.0 for s in ans])),
        },
        "abstention": {
            "recall": _r(mean([1.0 if s.refused else 0.0 for s in una])),
            "false_rate": _r(mean([1.0 if s.refused else 0.0 for s in ans])),
            "false_answer_rate": _r(mean([0.0 if s.answerable and s.exact else 1.0 for s in scores if not s.refused])),
        },
        "latency_ms": {"p50": _r(percentile(latency, 50), 1), "p95": _r(percentile(latency, 95), 1)},
    }
    if by_type:
        types = sorted({s.type for s in scores})
        out["by_type"] = {t: summarise([s for s in scores if s.type == t], by_type=False) for t in types}
    return out


def risk_coverage(scores: Sequence[Scores], points: int = 21) -> dict | None:
    """Coverage (share answered) and accuracy (share of those answered right)
    as the confidence threshold moves, and the run's own operating point.
    None when the answers carry no confidence (no selector, LLM-only runs)."""
    rated = [s for s in scores if s.confidence is not None]
    if not rated:
        return None
    conf = np.array([s.confidence for s in rated], dtype=float)
    right = np.array([bool(s.right_if_answered) for s in rated])
    curve = []
    for t in np.unique(np.quantile(conf, np.linspace(0, 1, points))):
        answered = conf >= t
        curve.append({"threshold": _r(float(t)), "coverage": _r(float(answered.mean())),
                      "accuracy": _r(float(right[answered].mean())) if answered.any() else None})  # fmt: skip
    answered = np.array([not s.refused for s in rated])
    operating = {"coverage": _r(float(answered.mean())),
                 "accuracy": _r(float(right[answered].mean())) if answered.any() else None}  # fmt: skip
    return {"curve": curve, "operating_point": operating}


def metric(summary: dict, section: str, key: str) -> float | None:
    return (summary.get(section) or {}).get(key)


def llm_summary(answers: Sequence[dict]) -> dict | None:
    """LLM mode: how often the model was asked, what the grounding guard
    changed and how fast the model generated, from the answers' ``llm`` field
    (None when no answer has one, i.e. extractive mode)."""
    infos = [a["llm"] for a in answers if isinstance(a.get("llm"), dict)]
    if not infos:
        return None
    asked = [i for i in infos if i.get("asked")]
    guards = [i["guard"] for i in asked if isinstance(i.get("guard"), dict)]
    tps = [i["tokens_per_s"] for i in asked if isinstance(i.get("tokens_per_s"), (int, float))]
    first = [i["first_token_ms"] for i in asked if isinstance(i.get("first_token_ms"), (int, float))]
    return {
        "asked": len(asked),  # answers for which the model was asked (not refused from retrieval)
        "guard_changed": sum(1 for g in guards if g.get("changed")),  # removed or corrected something
        "guard_removed": sum(1 for g in guards if g.get("removed")),  # removed at least one sentence
        "sentences_removed": sum(len(g.get("removed") or []) for g in guards),
        "markers_dropped": sum(len(g.get("dropped_markers") or []) for g in guards),
        "recited": sum(g.get("recited") or 0 for g in guards),
        "repeated": sum(g.get("repeated") or 0 for g in guards),  # sentences written twice, left out
        "fallbacks": sum(1 for g in guards if g.get("fallback")),  # nothing supported: extractive answer shown
        "unavailable": sum(1 for i in asked if i.get("error")),  # the LLM failed: extractive answer shown
        "tokens_per_s": _r(statistics.median(tps), 2) if tps else None,
        "first_token_ms": _r(statistics.median(first), 1) if first else None,
        "completion_tokens": sum(i.get("completion_tokens") or 0 for i in asked),
    }
