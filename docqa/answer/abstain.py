"""When to say "the report does not say": decided from evidence, in code.

A question is answered only when the best evidence span
- covers enough of the question's key terms (IDF-weighted; headings and the
  surrounding passage give partial credit),
- holds the kind of thing asked for (a date for "when", a number for "how
  many", an enumeration for "which ones"), and
- comes from a passage similar enough to the question.
English questions against Chinese passages share few words, so for them the
dense similarity carries the decision.

The thresholds belong to the embedding model (its profile, docqa/answer/profile.py);
they were calibrated on ``eval/data/calibration_questions.jsonl`` (not on the
evaluation set) with ``python -m docqa.eval.calibrate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from docqa.question import Question


@dataclass(frozen=True)
class Thresholds:
    """The defaults are conservative; the calibrated values for a model live in
    its profile (docqa/answer/profiles/).  ``None`` switches a check off."""

    min_coverage: float = 0.4  # share of key-term weight the best span must cover
    min_dense: float | None = 0.75  # cosine of the best passage (Chinese questions): a guard against gibberish
    min_dense_en: float | None = 0.68  # cosine of the best passage (English questions)
    min_coverage_en: float = 0.4  # key-term coverage through dictionary translations


def should_abstain(q: Question, best, hits, t: Thresholds) -> tuple[bool, str]:
    top_dense = max(h.dense for h in hits)
    if q.missing_entities:
        return True, f"the documents never mention {', '.join(q.missing_entities)}"
    if q.missing_focus:
        return True, f"the documents never mention {', '.join(q.missing_focus)}"
    # numbers and ordinals must be in the evidence, its heading or the sentence before, not elsewhere
    unmatched = [t.text for t in q.terms if t.required and best.covered.get(t.text, 0) < 0.5]
    if unmatched:
        return True, f"{', '.join(unmatched)} not in the best evidence"
    if not best.kind_ok:
        return True, "not a question about the documents" if q.kind == "task" else f"no {q.kind} in the best evidence"
    if q.lang == "en":
        if t.min_dense_en is not None and top_dense < t.min_dense_en:
            return True, f"dense {top_dense:.3f} < {t.min_dense_en}"
        if q.terms and best.coverage < t.min_coverage_en:
            return True, f"coverage {best.coverage:.2f} < {t.min_coverage_en}"
        return False, ""
    if not q.terms:
        return True, "no key terms in the question"
    if best.coverage < t.min_coverage:
        return True, f"coverage {best.coverage:.2f} < {t.min_coverage}"
    if t.min_dense is not None and top_dense < t.min_dense:
        return True, f"dense {top_dense:.3f} < {t.min_dense}"
    return False, ""
