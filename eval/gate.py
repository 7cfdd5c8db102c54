"""The CI gate: summary figures against ``eval/thresholds.toml``.

The file has a ``[min]`` table (the figure must be at least this) and a
``[max]`` table (at most this), keyed by ``"section.key"`` as in summary.json.
``[pdf.min]`` / ``[pdf.max]`` and ``[scan.min]`` / ``[scan.max]`` hold the same
for the bundled report typeset as a PDF and as a scan of it (``typeset.py``);
the gate skips a rendering whose tables are absent.  ``[dialogues]`` holds
the bundled dialogue set's figures (``dialogues.py``), each with its own
direction (``DIALOGUE_GATED``); the gate skips the set when the table is
absent.  ``docqa eval --write-thresholds`` rewrites the file from a run of the
bundled sets, minus a margin, with a comment saying when and how.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from docqa.errors import DocQAError, DocumentError
from docqa.eval.metrics import metric

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"
# Figures the gate checks (latency depends on the machine and is left out).
GATED = {
    "min": [
        "retrieval.hit@1",
        "retrieval.hit@5",
        "retrieval.mrr",
        "answer.fact_recall",
        "answer.exact",
        "citation.precision",
        "citation.recall",
        "abstention.recall",
    ],
    "max": ["abstention.false_rate", "answer.median_chars"],
}
RATE_MARGIN = 0.02
CHARS_MARGIN = 10
# The bundled report as the gate also reads it: thresholds table -> what it is.
RENDERINGS = {"pdf": "typeset as a 2-column PDF", "scan": "typeset and scanned (page images, no text layer)"}
# The dialogue set's figures (summary["figures"] of dialogues.py) the gate checks, and how.
DIALOGUE_GATED = {"turn_accuracy": ">=", "follow_up_accuracy": ">=", "traps_answered": "<="}


class GateFailed(DocQAError):
    """A gated figure is below its threshold (exit code 1)."""

    exit_code = 1


@dataclass
class GateLine:
    name: str
    value: float | None
    op: str  # ">=" or "<="
    threshold: float

    @property
    def ok(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.threshold - 1e-9 if self.op == ">=" else self.value <= self.threshold + 1e-9


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DocumentError(f"{path}: no thresholds file; create it with `docqa eval --write-thresholds`") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(f"{path}: invalid TOML ({exc}); fix it or rewrite it with `docqa eval --write-thresholds`") from exc


def _tables(data: dict, path: Path, prefix: str = "") -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {"min": {}, "max": {}}
    for table in out:
        for name, value in (data.get(table) or {}).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise DocumentError(f"{path}: [{prefix}{table}] {name} must be a number")
            if "." not in name:
                raise DocumentError(f'{path}: [{prefix}{table}] {name!r} must be a summary figure like "answer.fact_recall"')
            out[table][name] = float(value)
    return out


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, dict[str, float]]:
    """The plain-text report's thresholds: ``[min]`` and ``[max]``."""
    return _tables(_read(path), path)


def load_rendering_thresholds(path: Path = THRESHOLDS) -> dict[str, dict[str, dict[str, float]]]:
    """The renderings that have thresholds (``[pdf.min]``, ``[pdf.max]``, …), by name."""
    data = _read(path)
    out = {}
    for name in RENDERINGS:
        section = data.get(name)
        if section is None:
            continue
        if not isinstance(section, dict) or set(section) - {"min", "max"}:
            raise DocumentError(f"{path}: [{name}] may hold only [{name}.min] and [{name}.max] tables")
        out[name] = _tables(section, path, f"{name}.")
    return out


def load_dialogue_thresholds(path: Path = THRESHOLDS) -> dict[str, float] | None:
    """The ``[dialogues]`` table (None when there is none: the gate skips the dialogue set)."""
    section = _read(path).get("dialogues")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise DocumentError(f"{path}: [dialogues] must be a table")
    out: dict[str, float] = {}
    for name, value in section.items():
        if name not in DIALOGUE_GATED:
            raise DocumentError(f"{path}: [dialogues] {name!r} is not a dialogue figure; use {', '.join(DIALOGUE_GATED)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DocumentError(f"{path}: [dialogues] {name} must be a number")
        out[name] = value
    return out


def check_dialogues(summary: dict, thresholds: dict[str, float]) -> list[GateLine]:
    """A dialogue run's figures against the ``[dialogues]`` table."""
    figures = summary.get("figures") or {}
    return [GateLine(f"dialogues.{name}", figures.get(name), DIALOGUE_GATED[name], t) for name, t in thresholds.items()]


def dialogue_thresholds_from(summary: dict, rate_margin: float = RATE_MARGIN) -> dict[str, float]:
    """Measured dialogue figures, the rates loosened by the margin; the count of
    traps answered as measured (the target is 0)."""
    out: dict[str, float] = {}
    for name, op in DIALOGUE_GATED.items():
        v = (summary.get("figures") or {}).get(name)
        if v is None:
            continue
        out[name] = max(0.0, math.floor((v - rate_margin) * 100 + 1e-9) / 100) if op == ">=" else v
    return out


def check(summary: dict, thresholds: dict[str, dict[str, float]]) -> list[GateLine]:
    lines = []
    for table, op in (("min", ">="), ("max", "<=")):
        for name, threshold in thresholds.get(table, {}).items():
            section, key = name.split(".", 1)
            lines.append(GateLine(name, metric(summary, section, key), op, threshold))
    return lines


def thresholds_from(
    summary: dict, rate_margin: float = RATE_MARGIN, chars_margin: int = CHARS_MARGIN
) -> dict[str, dict[str, float]]:
    """Measured figures loosened by the margins (floored / ceiled to 2 decimals)."""
    out: dict[str, dict[str, float]] = {"min": {}, "max": {}}
    for name in GATED["min"]:
        v = metric(summary, *name.split(".", 1))
        if v is not None:
            out["min"][name] = max(0.0, math.floor((v - rate_margin) * 100 + 1e-9) / 100)
    for name in GATED["max"]:
        v = metric(summary, *name.split(".", 1))
        if v is None:
            continue
        if name == "answer.median_chars":
            out["max"][name] = float(math.ceil(v + chars_margin))
        else:
            out["max"][name] = min(1.0, math.ceil((v + rate_margin) * 100 - 1e-9) / 100)
    return out


def _measured(summary: dict) -> list[str]:
    return [f"#   {name} = {metric(summary, *name.split('.', 1))}" for table in ("min", "max") for name in GATED[table]]


def _toml_tables(thresholds: dict[str, dict[str, float]], prefix: str = "") -> list[str]:
    lines = []
    for table in ("min", "max"):
        lines += ["", f"[{prefix}{table}]"]
        lines += [f'"{name}" = {value:g}' for name, value in thresholds[table].items()]
    return lines


def render_thresholds(
    summary: dict,
    thresholds: dict[str, dict[str, float]],
    rate_margin: float,
    chars_margin: int,
    renderings: dict[str, tuple[dict, dict[str, dict[str, float]]]] | None = None,
    dialogues: tuple[dict, dict[str, float]] | None = None,
) -> str:
    """The thresholds file: how it was measured, the figures, the tables; ``renderings``
    maps a rendering's name to its (summary, thresholds), ``dialogues`` is the dialogue
    set's (summary, thresholds)."""
    renderings = renderings or {}
    cfg = summary.get("config", {})
    chunker = ", ".join(f"{k} {v}" for k, v in (cfg.get("chunker") or {}).items())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# CI gate for the bundled question set (`docqa eval --gate`, run by .ci/run).",
        f"# Measured {when} with `docqa eval --write-thresholds`:",
        f"#   {summary.get('questions')} questions from {Path(cfg.get('questions', {}).get('path', '?')).name}, "
        f"model {cfg.get('model')}, mode {cfg.get('mode')}, top_k {cfg.get('top_k')},",
        f"#   chunker {chunker}, commit {cfg.get('git_commit') or 'unknown'}.",
        f"# Thresholds = measured figure minus {rate_margin} (rates; plus for false_rate) "
        f"or plus {chars_margin} characters (median_chars).",
        "# Measured figures:",
        *_measured(summary),
    ]
    for name, what in RENDERINGS.items():
        if name in renderings:
            lines += [f"# [{name}.min] / [{name}.max]: the bundled report {what} (docqa.eval.typeset); measured figures:"]
            lines += _measured(renderings[name][0])
        else:
            lines += [f"# [{name}.min] / [{name}.max]: the bundled report {what}: not measured; the gate skips it."]
    if dialogues is not None:
        d = dialogues[0]
        name = Path(d.get("config", {}).get("dialogues", {}).get("path", "?")).name
        lines += [
            f"# [dialogues]: {d.get('dialogues')} dialogues ({d.get('turns')} turns) from {name} over the plain text; "
            "turn_accuracy and follow_up_accuracy at least, traps_answered at most (the target is 0); measured figures:",
            *[f"#   {k} = {(d.get('figures') or {}).get(k)}" for k in DIALOGUE_GATED],
        ]
    else:
        lines += ["# [dialogues]: the dialogue set: not measured (no dialogue file); the gate skips it."]
    lines.append("# Re-measure after engine changes with `docqa eval --write-thresholds` and commit this file.")
    lines += _toml_tables(thresholds)
    for name in RENDERINGS:
        if name in renderings:
            lines += _toml_tables(renderings[name][1], f"{name}.")
    if dialogues is not None:
        lines += ["", "[dialogues]", *[f"{k} = {v:g}" for k, v in dialogues[1].items()]]
    return "\n".join(lines) + "\n"
