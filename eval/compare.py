"""Compare a run with an earlier one (``--baseline DIR``): each summary figure,
and question by question what got fixed, what regressed and what moved."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from docqa.errors import DocumentError
from docqa.eval.metrics import SUMMARY_METRICS, metric


@dataclass
class MetricChange:
    name: str  # "section.key"
    before: float | None
    after: float | None
    direction: int  # +1 higher is better

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def verdict(self) -> str:
        """ "better", "worse" or "same" (latency is reported, never judged)."""
        d = self.delta
        if d is None or abs(d) < 1e-9 or self.name.startswith("latency_ms."):
            return "same"
        return "better" if d * self.direction > 0 else "worse"


@dataclass
class QuestionChange:
    id: str
    question: str
    type: str
    before: dict  # the baseline's scores
    after: dict
    kind: str  # "fixed", "regressed", "better", "worse", "changed"
    note: str = ""
    answer_before: str = ""
    answer_after: str = ""


@dataclass
class Comparison:
    baseline: Path
    metrics: list[MetricChange]
    questions: list[QuestionChange] = field(default_factory=list)
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[QuestionChange]:
        return [q for q in self.questions if q.kind == kind]


def load_run(directory: Path) -> tuple[dict, dict[str, dict]]:
    """summary.json and predictions.jsonl (by question id) of an earlier run."""
    directory = Path(directory)
    summary_path, preds_path = directory / "summary.json", directory / "predictions.jsonl"
    if not summary_path.is_file() or not preds_path.is_file():
        raise DocumentError(
            f"{directory}: no summary.json and predictions.jsonl here; point --baseline at the output "
            f"directory of an earlier `docqa eval` run"
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        preds = {}
        for line in preds_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                p = json.loads(line)
                preds[p["id"]] = p
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DocumentError(f"{directory}: damaged eval output ({exc!r}); run the baseline eval again") from exc
    return summary, preds


def _rank(scores: dict) -> int:
    r = scores.get("rank")
    return r if isinstance(r, int) else 10**6


def _question_change(before: dict, after: dict) -> tuple[str, str] | None:
    b, a = before.get("scores", {}), after.get("scores", {})
    if b.get("ok") != a.get("ok"):
        return ("fixed" if a.get("ok") else "regressed"), "; ".join(a.get("failures") or b.get("failures") or [])
    notes = []
    better = worse = 0
    fb, fa = b.get("fact_recall"), a.get("fact_recall")
    if fb is not None and fa is not None and abs(fa - fb) > 1e-9:
        notes.append(f"fact recall {fb:.2f} → {fa:.2f}")
        better, worse = better + (fa > fb), worse + (fa < fb)
    if b.get("answerable") and _rank(b) != _rank(a):
        notes.append(f"evidence rank {b.get('rank') or '–'} → {a.get('rank') or '–'}")
        better, worse = better + (_rank(a) < _rank(b)), worse + (_rank(a) > _rank(b))
    if b.get("refused") != a.get("refused"):
        notes.append("now refused" if a.get("refused") else "no longer refused")
    if not notes:
        return None
    return ("better" if better > worse else "worse" if worse > better else "changed"), "; ".join(notes)


def compare(baseline: Path, before_summary: dict, before: dict[str, dict], summary: dict, after: dict[str, dict]) -> Comparison:
    metrics = [MetricChange(f"{s}.{k}", metric(before_summary, s, k), metric(summary, s, k), d) for s, k, d in SUMMARY_METRICS]
    cmp = Comparison(Path(baseline), metrics)
    cmp.only_before = [i for i in before if i not in after]
    cmp.only_after = [i for i in after if i not in before]
    for qid, a in after.items():
        b = before.get(qid)
        if b is None:
            continue
        change = _question_change(b, a)
        if change:
            kind, note = change
            gold = a.get("gold", {})
            cmp.questions.append(
                QuestionChange(qid, a.get("question", ""), gold.get("type", ""), b["scores"], a["scores"], kind, note,
                               b.get("answer", ""), a.get("answer", ""))
            )  # fmt: skip
    return cmp
