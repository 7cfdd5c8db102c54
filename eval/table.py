"""Plain-text tables for the terminal: the summary, per type, the gate, the
comparison with a baseline."""

from __future__ import annotations

from docqa.eval.metrics import SUMMARY_METRICS, metric

TYPE_COLUMNS = [
    ("n", "questions", None),
    ("hit@5", "retrieval", "hit@5"),
    ("mrr", "retrieval", "mrr"),
    ("facts", "answer", "fact_recall"),
    ("exact", "answer", "exact"),
    ("chars", "answer", "median_chars"),
    ("cit.P", "citation", "precision"),
    ("cit.R", "citation", "recall"),
    ("abst.R", "abstention", "recall"),
    ("false", "abstention", "false_rate"),
]


AMOUNTS = ("answer.median_chars", "latency_ms.p50", "latency_ms.p95")  # not rates


def fmt(value: float | None, name: str = "") -> str:
    """Rates with three decimals; amounts (characters, ms) with at most one."""
    if value is None:
        return "–"
    if name in AMOUNTS or isinstance(value, int):
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.3f}"


def fmt_delta(change) -> str:
    d = change.delta
    if d is None:
        return "–"
    return f"{d:+.1f}" if change.name in AMOUNTS else f"{d:+.3f}"


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def summary_table(summary: dict) -> str:
    rows = [
        ["questions", str(summary["questions"])],
        ["answerable / unanswerable", f"{summary.get('answerable')} / {summary.get('unanswerable')}"],
    ]
    rows += [[f"{s}.{k}", fmt(metric(summary, s, k), f"{s}.{k}")] for s, k, _ in SUMMARY_METRICS]
    return _grid(["metric", "value"], rows)


def type_table(summary: dict) -> str:
    rows = []
    for t, sub in summary.get("by_type", {}).items():
        rows.append(
            [t] + [str(sub["questions"]) if k is None else fmt(metric(sub, s, k), f"{s}.{k}") for _, s, k in TYPE_COLUMNS]
        )
    return _grid(["type"] + [c for c, _, _ in TYPE_COLUMNS], rows)


def gate_table(lines) -> str:
    rows = [[g.name, fmt(g.value, g.name), f"{g.op} {fmt(g.threshold, g.name)}", "ok" if g.ok else "FAIL"] for g in lines]
    return _grid(["gate", "value", "threshold", ""], rows)


def comparison_table(cmp) -> str:
    rows = []
    for m in cmp.metrics:
        rows.append([m.name, fmt(m.before, m.name), fmt(m.after, m.name), fmt_delta(m), m.verdict])
    text = _grid(["metric", "baseline", "now", "delta", ""], rows)
    counts = ", ".join(f"{len(cmp.of_kind(k))} {k}" for k in ("fixed", "regressed", "better", "worse", "changed"))
    return f"{text}\nquestions: {counts}"
