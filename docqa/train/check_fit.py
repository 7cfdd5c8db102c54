"""Calibrating the LLM's second opinion (``docqa calibrate-check``).

``DOCQA_CHECK=llm`` answers when ``confidence_weight·logit(confidence) +
opinion_weight·logit(opinion) ≥ cut`` (``docqa/answer/second_opinion.py``).
The weights and the cut hold for one selector and one LLM: another LLM's
opinions are on another scale.  This module measures them on training sets
only — CMRC 2018 trial and DocQA's development documents of the kinds users
load, each answerable question asked as it is and without its evidence:

1. every asking is answered by the engine with an opinion that is always
   asked and never refuses, so each gives the selector's confidence, the
   LLM's opinion and whether the answer holds the gold facts (``Reading``);
2. a logistic regression of "holds the facts" on the two log-odds gives the
   weights;
3. the cut is the lowest that answers no more wrong or unanswerable askings
   than the selector's own threshold does: the check may only trade its
   refusals for right answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from docqa.answer.extractive import ExtractiveAnswerer
from docqa.answer.second_opinion import SecondOpinion, logit
from docqa.api import Settings, make_engine
from docqa.errors import BadRequest
from docqa.eval.corpus import ensure_index
from docqa.eval.negatives import Exclusions
from docqa.eval.questions import DATA_DIR, load_questions
from docqa.eval.runner import ask_scored
from docqa.train.sets import DEFAULT_SQUAD, TrainSet, squad_set

DEV_DOCS = DATA_DIR / "dev_docs"
MIN_READINGS = 50
RIDGE = 1e-3  # keeps the fit finite when the two classes separate


@dataclass(frozen=True)
class Reading:
    """One asking: the selector's confidence in its best candidate, the LLM's
    opinion of it, and whether answering it would have been right."""

    set: str
    confidence: float
    opinion: float
    good: bool


@dataclass(frozen=True)
class Calibration:
    confidence_weight: float
    opinion_weight: float
    cut: float
    floor: float
    llm: str
    readings: int
    # on the calibration askings: answered right / answered wrong or unanswerable
    selector: tuple[int, int]
    check: tuple[int, int]

    def table(self, note: str) -> str:
        """The ``[check]`` table of a model profile, with ``note`` as its comment."""
        lines = [f"# {line}" if line else "#" for line in note.splitlines()]
        return "\n".join(
            [
                *lines,
                "[check]",
                f'llm = "{self.llm}"',
                f"confidence_weight = {self.confidence_weight:.3f}",
                f"opinion_weight = {self.opinion_weight:.3f}",
                f"cut = {self.cut:.3f}",
                f"floor = {self.floor:g}            # below this confidence the LLM is not asked",
                "",
            ]
        )


def calibration_sets(settings: Settings, cmrc2018: Path | None = None, limit: int = 150) -> list[TrainSet]:
    """The first ``limit`` questions of CMRC 2018 trial and DocQA's development
    documents (eval/data/other_docs, eval/data/dev_docs/*), each answerable one
    also asked without its evidence."""
    trial = squad_set(settings, "cmrc2018-trial", cmrc2018 or DEFAULT_SQUAD["cmrc2018-trial"])
    found = [replace(trial, questions=trial.questions[:limit])]
    found.append(
        TrainSet(
            "other-docs", [DATA_DIR / "other_docs"], load_questions(DATA_DIR / "other_docs_questions.jsonl"), "DocQA's own"
        )
    )
    for d in sorted(p for p in DEV_DOCS.iterdir() if (p / "questions.jsonl").is_file()):
        found.append(TrainSet(f"dev-docs-{d.name}", [d / "docs"], load_questions(d / "questions.jsonl"), "DocQA's own"))
    for t in found:
        t.questions = t.questions + [q.as_negative() for q in t.questions if q.answerable]
    return found


class _Recorder:
    """The opinion of the last asking (None: the LLM was not asked or gave none)."""

    def __init__(self, check: Callable[[str, str], float | None]):
        self.check = check
        self.last: float | None = None

    def __call__(self, question: str, passage: str) -> float | None:
        self.last = self.check(question, passage)
        return self.last


def read_set(
    settings: Settings, tset: TrainSet, embedder, check: Callable[[str, str], float | None], progress=None
) -> tuple[list[Reading], float]:
    """Ask every question of ``tset`` with an opinion that is always asked and
    never refuses; the readings and the selector's threshold."""
    recorder = _Recorder(check)
    always = SecondOpinion(recorder, confidence_weight=0.0, opinion_weight=1.0, cut=-math.inf, floor=0.0)
    built = ensure_index(settings, tset.corpus, embedder)
    engine = make_engine(settings, embedder, index_dir=built.path, second_opinion=always)
    exclusions = Exclusions.of(engine)
    out: list[Reading] = []
    for q in tset.questions:
        recorder.last = None
        answer, scores = ask_scored(engine, q, settings.top_k, "extractive", exclude=exclusions.for_question(q))
        if recorder.last is not None and scores.confidence is not None and not answer["refused"]:
            out.append(Reading(tset.name, scores.confidence, recorder.last, bool(scores.right_if_answered)))
        if progress:
            progress(1)
    extractive = engine.answerers["extractive"]
    assert isinstance(extractive, ExtractiveAnswerer)
    return out, extractive.selector.threshold


def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights (then intercept) of a logistic regression with a small ridge."""
    from scipy.optimize import minimize

    xb = np.hstack([x, np.ones((len(x), 1))])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xb @ w
        p = 1.0 / (1.0 + np.exp(-z))
        value = np.mean(np.logaddexp(0.0, z) - y * z) + RIDGE * float(w[:-1] @ w[:-1])
        grad = xb.T @ (p - y) / len(y)
        grad[:-1] += 2 * RIDGE * w[:-1]
        return value, grad

    return minimize(loss, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B").x


def fit(readings: list[Reading], threshold: float, floor: float, llm: str) -> Calibration:
    """Weights by logistic regression; the lowest cut (to 0.001) that answers no
    more bad askings than the selector's ``threshold``."""
    if len(readings) < MIN_READINGS:
        raise BadRequest(f"only {len(readings)} askings got an opinion; calibrating needs {MIN_READINGS} or more")
    conf = np.array([r.confidence for r in readings])
    good = np.array([r.good for r in readings])
    if good.all() or not good.any():
        raise BadRequest("the calibration askings are all right or all wrong; nothing to calibrate on")
    x = np.array([[logit(r.confidence), logit(r.opinion)] for r in readings])
    w = _logistic(x, good.astype(float))
    cw, ow = round(float(w[0]), 3), round(float(w[1]), 3)
    if ow <= 0:
        raise BadRequest(f"the LLM's opinion does not predict right answers here (weight {ow}); keep DOCQA_CHECK=off")
    score = x @ np.array([cw, ow])
    eligible = conf >= floor
    by_selector = conf >= threshold
    allowed = int((by_selector & ~good).sum())
    cut = math.inf
    for s in sorted(set(np.round(score[eligible], 3)), reverse=True):
        if int(((score >= s) & eligible & ~good).sum()) > allowed:
            break
        cut = s
    if math.isinf(cut):
        cut = round(float(score.max()) + 0.001, 3)
    answered = (score >= cut) & eligible
    return Calibration(
        cw, ow, float(cut), floor, llm, len(readings),
        (int((by_selector & good).sum()), allowed), (int((answered & good).sum()), int((answered & ~good).sum())),
    )  # fmt: skip


CHECK_TABLE = re.compile(r"(?:^#[^\n]*\n)*^\[check\][^\[]*", re.MULTILINE)


def with_table(profile_text: str, table: str) -> str:
    """A profile's text with its ``[check]`` table (and the comment above it) replaced by ``table``."""
    kept = CHECK_TABLE.sub("", profile_text).rstrip()
    return f"{kept}\n\n{table}" if kept else table


def write_table(target: Path, base: Path, table: str) -> None:
    """Write ``table`` into the profile ``target`` (made from ``base`` when it
    does not exist yet), whole or not at all."""
    text = (target if target.is_file() else base).read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(with_table(text, table), encoding="utf-8")
    partial.replace(target)
