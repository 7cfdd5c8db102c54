"""report.html: one self-contained page (inline CSS, charts as base64 PNG) a
person can read: the figures, per-type charts, latency, what changed since a
baseline, and every failure with its question, answer, expected facts and
cited quotes.  All document text, questions and answers are HTML-escaped."""

from __future__ import annotations

import base64
import io
import warnings
from html import escape

from docqa.eval.compare import Comparison
from docqa.eval.metrics import SUMMARY_METRICS, metric
from docqa.eval.table import TYPE_COLUMNS, fmt, fmt_delta

CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN", "SimHei",
    "Microsoft YaHei", "PingFang SC",
)  # fmt: skip
PASSAGE_PREVIEW = 240
ANSWER_PREVIEW = 160

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
 max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} th,td{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}
th{background:#f4f4f4;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta td:first-child{color:#555} .ok{color:#17702e} .bad{color:#b3261e;font-weight:600}
.better{color:#17702e} .worse{color:#b3261e}
.card{border:1px solid #ddd;border-left:4px solid #b3261e;padding:.6em 1em;margin:1em 0;border-radius:4px}
.card h3{margin:.1em 0 .4em;font-size:1em} .card .why{color:#b3261e}
.label{display:inline-block;min-width:8.5em;color:#555} .quote{background:#f7f7f2;padding:.1em .3em}
.passage{color:#444;font-size:.92em;background:#fafafa;padding:.3em .5em;white-space:pre-wrap}
img{max-width:100%} .small{color:#666;font-size:.9em}
"""


def _clip(text: str, n: int = ANSWER_PREVIEW) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f'<p><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></p>'


def charts(summary: dict, predictions: list[dict]) -> list[tuple[str, str]]:
    """(alt text, base64 PNG) for each chart.  Labels are English; a CJK font
    is used when one is installed so Chinese type names show too."""
    import matplotlib
    from matplotlib.figure import Figure

    font = _cjk_font()
    rc = {"font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    out: list[tuple[str, str]] = []
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing glyphs when no CJK font is installed
        by_type = summary.get("by_type", {})
        answerable = [t for t, s in by_type.items() if s["answerable"]]
        if answerable:
            series = [
                ("hit@5", "retrieval", "hit@5"),
                ("fact recall", "answer", "fact_recall"),
                ("exact", "answer", "exact"),
                ("citation recall", "citation", "recall"),
            ]
            fig = Figure(figsize=(max(6, 0.9 * len(answerable) + 2), 3.6))
            ax = fig.subplots()
            width = 0.8 / len(series)
            for i, (label, s, k) in enumerate(series):
                xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(answerable))]
                ax.bar(xs, [metric(by_type[t], s, k) or 0 for t in answerable], width, label=label)
            ax.set_xticks(range(len(answerable)), [f"{t}\n(n={by_type[t]['answerable']})" for t in answerable], fontsize=8)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("share of answerable questions")
            ax.set_title("Answerable questions by type")
            ax.legend(fontsize=8, ncols=len(series), loc="lower center", bbox_to_anchor=(0.5, -0.32))
            out.append(("Retrieval and answer figures by question type", _png(fig)))
        types = list(by_type)
        if types:
            fig = Figure(figsize=(max(6, 0.7 * len(types) + 2), 3.2))
            ax = fig.subplots()
            shares = [
                metric(by_type[t], "abstention", "recall")
                if not by_type[t]["answerable"]
                else metric(by_type[t], "abstention", "false_rate")
                for t in types
            ]
            colors = ["#4c72b0" if by_type[t]["answerable"] == 0 else "#dd8452" for t in types]
            ax.bar(range(len(types)), [s or 0 for s in shares], color=colors)
            ax.set_xticks(range(len(types)), types, rotation=30, ha="right", fontsize=8)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("share refused")
            ax.set_title("Refusals by type (blue: unanswerable, should be 1; orange: answerable, should be 0)", fontsize=9)
            out.append(("Share of questions refused, by type", _png(fig)))
        rc_curve = summary.get("risk_coverage")
        if rc_curve:
            fig = Figure(figsize=(6, 3.4))
            ax = fig.subplots()
            points = [c for c in rc_curve["curve"] if c["accuracy"] is not None]
            ax.plot([c["coverage"] for c in points], [c["accuracy"] for c in points], marker=".", color="#4c72b0")
            op = rc_curve["operating_point"]
            if op["accuracy"] is not None:
                ax.plot([op["coverage"]], [op["accuracy"]], "o", color="#c44e52", label="operating point (the threshold)")
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.05)
            ax.set_xlabel("coverage: share of questions answered")
            ax.set_ylabel("accuracy of the answers given")
            ax.set_title("Risk–coverage: moving the refusal threshold")
            ax.legend(fontsize=8, loc="lower left")
            out.append(("Risk–coverage curve with the operating point", _png(fig)))
        latency = [p["scores"]["latency_ms"] for p in predictions]
        if latency:
            fig = Figure(figsize=(6, 3))
            ax = fig.subplots()
            ax.hist(latency, bins=min(30, max(5, len(latency) // 3)), color="#4c72b0")
            for q, style in (("p50", "--"), ("p95", ":")):
                v = metric(summary, "latency_ms", q)
                if v is not None:
                    ax.axvline(v, color="k", linestyle=style, label=f"{q} {v:.0f} ms")
            ax.set_xlabel("latency per question (ms)")
            ax.set_ylabel("questions")
            ax.set_title("Latency")
            ax.legend(fontsize=8)
            out.append(("Latency histogram", _png(fig)))
        chars = [p["scores"]["chars"] for p in predictions if p["scores"].get("chars") is not None]
        if chars:
            fig = Figure(figsize=(6, 3))
            ax = fig.subplots()
            ax.hist(chars, bins=min(30, max(5, len(chars) // 3)), color="#55a868")
            ax.axvline(100, color="k", linestyle="--", label="100 characters")
            ax.set_xlabel("answer length without markers (characters)")
            ax.set_ylabel("answers")
            ax.set_title("Answer length (answerable questions, refusals excluded)")
            ax.legend(fontsize=8)
            out.append(("Answer length histogram", _png(fig)))
    return out


def _metric_table(summary: dict, gate: list | None, cmp: Comparison | None) -> str:
    gates = {g.name: g for g in gate or []}
    changes = {m.name: m for m in cmp.metrics} if cmp else {}
    head = "<tr><th>metric</th><th>value</th>"
    head += "<th>gate</th>" if gates else ""
    head += "<th>baseline</th><th>change</th>" if cmp else ""
    rows = [head + "</tr>"]
    for s, k, _ in SUMMARY_METRICS:
        name = f"{s}.{k}"
        row = f"<tr><td>{_e(name)}</td><td class=num>{_e(fmt(metric(summary, s, k), name))}</td>"
        if gates:
            g = gates.get(name)
            cell = f"{_e(g.op)} {_e(fmt(g.threshold, name))}" if g else ""
            row += f'<td class="num {("ok" if g.ok else "bad") if g else ""}">{cell}</td>'
        if cmp:
            m = changes[name]
            row += f'<td class=num>{_e(fmt(m.before, name))}</td><td class="num {m.verdict}">{_e(fmt_delta(m))}</td>'
        rows.append(row + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _type_table(summary: dict) -> str:
    head = "<tr><th>type</th>" + "".join(f"<th>{_e(c)}</th>" for c, _, _ in TYPE_COLUMNS) + "</tr>"
    rows = [head]
    for t, sub in summary.get("by_type", {}).items():
        cells = [str(sub["questions"]) if k is None else fmt(metric(sub, s, k), f"{s}.{k}") for _, s, k in TYPE_COLUMNS]
        rows.append(f"<tr><td>{_e(t)}</td>" + "".join(f"<td class=num>{_e(c)}</td>" for c in cells) + "</tr>")
    legend = (
        "<p class=small>n: questions; facts: fact recall; chars: median answer length; cit.P / cit.R: citation "
        "precision / recall; abst.R: unanswerable questions refused; false: answerable questions refused.</p>"
    )
    return "<table>" + "".join(rows) + "</table>" + legend


def _changes(cmp: Comparison) -> str:
    parts = [f"<p>Baseline: <code>{_e(cmp.baseline)}</code>.</p>"]
    titles = {
        "fixed": "Fixed (failed before, pass now)",
        "regressed": "Regressed (passed before, fail now)",
        "better": "Better",
        "worse": "Worse",
        "changed": "Changed",
    }
    for kind, title in titles.items():
        qs = cmp.of_kind(kind)
        parts.append(f"<h3>{_e(title)}: {len(qs)}</h3>")
        if qs:
            rows = "".join(
                f"<tr><td>{_e(q.id)}</td><td>{_e(q.type)}</td><td>{_e(q.question)}</td><td class={kind}>{_e(q.note)}</td>"
                f"<td class=small>{_e(_clip(q.answer_before))}</td><td class=small>{_e(_clip(q.answer_after))}</td></tr>"
                for q in qs
            )
            parts.append(
                "<table><tr><th>id</th><th>type</th><th>question</th><th>what changed</th>"
                f"<th>answer before</th><th>answer now</th></tr>{rows}</table>"
            )
    if cmp.only_before or cmp.only_after:
        parts.append(
            f"<p class=small>Only in the baseline: {len(cmp.only_before)} questions; only in this run: "
            f"{len(cmp.only_after)} questions.</p>"
        )
    return "".join(parts)


def _failure(p: dict) -> str:
    s, gold = p["scores"], p.get("gold", {})
    lines = [f'<div class=card id="q-{_e(p["id"])}"><h3>{_e(p["id"])} · {_e(gold.get("type"))}</h3>']
    lines.append("<div class=why>" + "<br>".join(_e(f) for f in s.get("failures", [])) + "</div>")
    lines.append(f"<div><span class=label>question</span>{_e(p['question'])}</div>")
    refused = " <em>(refused)</em>" if p.get("refused") else ""
    lines.append(f"<div><span class=label>answer</span>{_e(p.get('answer'))}{refused}</div>")
    if gold.get("answerable"):
        facts = []
        for fact, found in zip(gold.get("answers", []), s.get("facts_found", [])):
            alts = fact if isinstance(fact, list) else [fact]
            mark = "<span class=ok>✓</span>" if found else "<span class=bad>✗</span>"
            facts.append(f"{mark} {_e(' / '.join(alts))}")
        lines.append(f"<div><span class=label>expected</span>{' · '.join(facts)}</div>")
        if gold.get("evidence"):
            ev = " · ".join(f"<span class=quote>{_e(e)}</span>" for e in gold["evidence"])
            lines.append(f"<div><span class=label>evidence</span>{ev}</div>")
        rank = s.get("rank")
        lines.append(f"<div><span class=label>evidence rank</span>{_e(rank) if rank else 'not retrieved'}</div>")
    else:
        lines.append("<div><span class=label>expected</span>a refusal (the documents do not answer this)</div>")
    supported = s.get("citations_supported", [])
    for i, c in enumerate(p.get("citations", [])):
        where = " › ".join(x for x in (c.get("title"), c.get("section")) if x)
        mark = ""
        if gold.get("answerable") and i < len(supported):
            mark = "<span class=ok>✓</span> " if supported[i] else "<span class=bad>✗</span> "
        lines.append(
            f"<div><span class=label>[{_e(c.get('n'))}]</span>{mark}<span class=quote>{_e(c.get('quote'))}</span> "
            f"<span class=small>{_e(where)}, chars {_e(c.get('start'))}–{_e(c.get('end'))}</span></div>"
        )
    if gold.get("answerable") and (s.get("rank") is None or s.get("rank") > 1) and p.get("passages"):
        top = p["passages"][0]
        text = top.get("text", "")
        text = text if len(text) <= PASSAGE_PREVIEW else text[:PASSAGE_PREVIEW] + "…"
        lines.append(
            f"<div><span class=label>top passage</span><span class=small>{_e(top.get('title'))} "
            f"{_e(top.get('section'))}</span><div class=passage>{_e(text)}</div></div>"
        )
    return "\n".join(lines) + "</div>"


def render(summary: dict, predictions: list[dict], gate: list | None = None, cmp: Comparison | None = None) -> str:
    cfg, run = summary.get("config", {}), summary.get("run", {})
    qinfo, cinfo = cfg.get("questions", {}), cfg.get("corpus", {})
    meta = [
        (
            "question set",
            f"{qinfo.get('name')} ({summary['questions']} questions: {summary.get('answerable')} answerable, "
            f"{summary.get('unanswerable')} unanswerable)",
        ),
        ("corpus", f"{cinfo.get('name')} ({cinfo.get('documents')} documents, {cinfo.get('chunks')} chunks)"),
        ("model", cfg.get("model")),
        ("mode / top_k", f"{cfg.get('mode')} / {cfg.get('top_k')}"),
        ("chunker", ", ".join(f"{k} {v}" for k, v in (cfg.get("chunker") or {}).items())),
        ("commit", cfg.get("git_commit")),
        (
            "run",
            f"{run.get('started_at')}, {run.get('wall_s')} s wall ({run.get('index_s')} s index, "
            f"{run.get('ask_s')} s answering)",
        ),
    ]
    failures = [p for p in predictions if not p["scores"]["ok"]]
    body = [
        "<h1>DocQA evaluation</h1>",
        "<table class=meta>" + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in meta) + "</table>",
        f"<p><a href='#failures'>{len(failures)} of {len(predictions)} questions failed</a> (answerable: refused, a fact "
        "missing, or no citation holding the evidence; unanswerable: not refused).</p>",
        "<h2>Figures</h2>",
        _metric_table(summary, gate, cmp),
    ]
    if gate:
        passed = all(g.ok for g in gate)
        body.append(f"<p class={'ok' if passed else 'bad'}>CI gate: {'passed' if passed else 'FAILED'}</p>")
    if cmp:
        body += ["<h2>Changes since the baseline</h2>", _changes(cmp)]
    body += ["<h2>By question type</h2>", _type_table(summary)]
    body += [_img(data, alt) for alt, data in charts(summary, predictions)]
    body.append(f"<h2 id=failures>Failures ({len(failures)})</h2>")
    body += [_failure(p) for p in sorted(failures, key=lambda p: (p.get("gold", {}).get("type", ""), p["id"]))]
    title = f"DocQA eval: {qinfo.get('name')}"
    return (
        "<!doctype html>\n<html lang=zh><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
