"""Fit the answer selector: a LambdaRank ranker over each question's
candidates and an answerability classifier over the best one, with the
refusal threshold chosen for a target false-answer rate.

Figures are cross-validated: every question (with its negative) is scored
by models that never saw it.  The answerability model learns from the
ranker's out-of-fold scores, as it will meet unseen questions' scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from docqa.answer.features import CATEGORICAL, FEATURES
from docqa.answer.selector import ANSWER_EXTRA, READER, Selector, answerability_row, english
from docqa.train.documents import PREFIX
from docqa.train.examples import Examples

FOLDS = 5
SEED = 7
RANKER = {
    "objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 50,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambdarank_truncation_level": 10,
}  # fmt: skip
RANKER_ROUNDS = 400
ANSWERABLE = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 30}
ANSWERABLE_ROUNDS = 300
# How much an asking of each set counts in the answerability model: DocQA's own
# sets are few, but the only ones with report-style near misses and English questions,
# and (docs-*) the only documents of the kinds users load.
SET_WEIGHTS = {"report-dev": 5.0}
DOCUMENT_WEIGHT = 2.0  # an asking of a docs-* set (docqa/train/documents.py, --documents; 5 was tried too)
COMMON = {"verbose": -1, "num_threads": 2, "seed": SEED, "deterministic": True, "force_row_wise": True}
LEN = FEATURES.index("len")
# When answering, the reader picks among the ranker's RERANK best candidates (selector.py):
# ranking score plus this many times its log-odds.  Chosen on the training sets' unseen
# half (docs/selector.md: 1 to 4 pick alike); the models are trained on the ranker's best.
READER_WEIGHT = 2.0


@dataclass
class ReaderTraining:
    """How to train the answer reader: the embedding model's transformer and
    tokenizer (a function), whether to train in bfloat16, and the file to write
    (or, ``keep``, to score with: a reader trained on the same half of the
    questions, which the folds' fixed seed makes the same half every run)."""

    transformer: Callable
    bfloat16: bool
    out: Path
    answers: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)  # (set, id) -> answers
    keep: bool = False
    english: bool = False  # the reader also reads (and is trained on) the English questions
    weight: float = READER_WEIGHT  # how much it counts when it picks among the ranker's best


@dataclass
class Fitted:
    selector: Selector
    table: list[dict]  # per asking: set, side, lang, confidence (out of fold), correct, length


ASKED_AGAIN = ("-neg", "-near", "-swap", "-miss")  # id suffixes of a question asked another way


def _base(asking_id: str) -> str:
    """The id of the question an asking comes from."""
    for suffix in ASKED_AGAIN:
        asking_id = asking_id.removesuffix(suffix)
    return asking_id


def _folds(ex: Examples) -> np.ndarray:
    """A fold per asking; a question and its negative share one (and a
    passage's hand-written near miss, its first question's)."""
    bases = [_base(a["id"]) for a in ex.askings]
    ids = {b: i for i, b in enumerate(dict.fromkeys(bases))}
    order = np.random.default_rng(SEED).permutation(len(ids))
    return np.array([order[ids[b]] % FOLDS for b in bases])


def _ranker(ex: Examples, rows: np.ndarray):
    import lightgbm

    # Only questions with something to find teach the ranker; rows are grouped by asking, in order.
    keep = rows & np.isin(ex.group, np.unique(ex.group[rows & (ex.rel > 0)]))
    _, sizes = np.unique(ex.group[keep], return_counts=True)
    data = lightgbm.Dataset(
        ex.x[keep],
        (ex.rel[keep] > 0).astype(np.int32),
        group=sizes,
        feature_name=list(FEATURES),
        categorical_feature=list(CATEGORICAL),
    )
    return lightgbm.train({**RANKER, **COMMON}, data, RANKER_ROUNDS)


def _answerable(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray):
    import lightgbm

    names = list(FEATURES) + list(ANSWER_EXTRA) + [READER] * (rows.shape[1] - len(FEATURES) - len(ANSWER_EXTRA))
    data = lightgbm.Dataset(rows, labels, weight=weights, feature_name=names, categorical_feature=list(CATEGORICAL))
    return lightgbm.train({**ANSWERABLE, **COMMON}, data, ANSWERABLE_ROUNDS)


def _threshold(negatives: np.ndarray, rate: float) -> float:
    """The lowest confidence that lets at most ``rate`` of the negatives through."""
    ranked = np.sort(negatives)[::-1]
    allowed = int(np.floor(rate * len(ranked)))
    return float(ranked[allowed]) + 1e-6 if allowed < len(ranked) else 0.0


def _reader_scores(
    ex: Examples, best_rows: list[int], labels: np.ndarray, scores: np.ndarray, fold: np.ndarray, how: ReaderTraining, log
) -> np.ndarray:
    """The reader's score of each asking's best sentence, for the askings it
    never saw: the reader is trained on half of the questions and scores the
    other half (English questions it neither reads nor scores: selector.py);
    the first half's scores are missing (NaN), so the
    answerability model learns to decide with and without a reader."""
    from docqa.answer.reader import AnswerReader, save
    from docqa.train import reader_fit

    answers = [how.answers.get((a["set"], a["id"])) for a in ex.askings]
    every = reader_fit.pairs(ex, best_rows, labels, scores, answers)
    seen = fold % 2 == 0  # per asking
    reads = np.ones(len(ex.askings), bool) if how.english else ~english(ex.x[best_rows])  # per asking
    out = np.full(len(ex.askings), np.nan)
    train = (seen & reads)[every.asking]
    if how.keep:
        log(f"answer reader: kept {how.out.name}, trained on the same half of the questions")
    else:
        log(f"answer reader, trained on {train.sum()} pairs of half of the questions")
        save(how.out, reader_fit.train(how.transformer, every.subset(train), how.bfloat16, log), reader_fit.scale())
    best = np.ones(len(every.labels), bool)
    best[1:] = every.asking[1:] != every.asking[:-1]  # the first pair of each asking is its best sentence
    scored = np.flatnonzero(best & ~train & reads[every.asking])
    log(f"answer reader, scoring the other half's {len(scored)} askings")
    reader = AnswerReader(how.out, how.transformer, how.bfloat16)
    out[every.asking[scored]] = reader.score_pairs([every.questions[i] for i in scored], [every.texts[i] for i in scored])
    return out


def ranked(ex: Examples, fold_of_asking: np.ndarray, log=print) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray]:
    """Out-of-fold ranking scores of every candidate; per asking, its best
    candidate's row, the answerability model's input and its label."""
    fold = fold_of_asking[ex.group]
    scores = np.zeros(len(ex.rel))
    for k in range(FOLDS):
        log(f"ranker, fold {k + 1} of {FOLDS}")
        scores[fold == k] = _ranker(ex, fold != k).predict(ex.x[fold == k])
    starts = np.flatnonzero(np.r_[True, np.diff(ex.group) != 0])
    ends = np.r_[starts[1:], len(ex.group)]
    rows, labels, best_rows = [], [], []
    for s, e, a in zip(starts, ends, ex.askings):
        best, row = answerability_row(ex.x[s:e], scores[s:e])
        rows.append(row)
        labels.append(int(a["side"] == "answerable" and ex.rel[s + best] > 0))
        best_rows.append(int(s + best))
    return scores, best_rows, np.stack(rows), np.array(labels)


def fit(ex: Examples, target_false_answer: float, log=print, reader: ReaderTraining | None = None) -> Fitted:
    fold_of_asking = _folds(ex)
    scores, best_rows, X, y = ranked(ex, fold_of_asking, log)
    measured = np.ones(len(y), bool)
    if reader is not None:
        read = _reader_scores(ex, best_rows, y, scores, fold_of_asking, reader, log)
        X = np.hstack([X, read[:, None]])
        # a selector with a reader is measured where the reader's score is out of sample (or, English, never asked)
        measured = ~np.isnan(read) | (english(X) & (not reader.english))
    w = np.array([SET_WEIGHTS.get(a["set"], DOCUMENT_WEIGHT if a["set"].startswith(PREFIX) else 1.0) for a in ex.askings])
    p = np.zeros(len(y))
    for k in range(FOLDS):
        train = fold_of_asking != k
        p[~train] = _answerable(X[train], y[train], w[train]).predict(X[~train])
    negative = np.array([a["side"] != "answerable" for a in ex.askings])
    threshold = _threshold(p[negative & measured], target_false_answer)
    log("final ranker and answerability model, on everything")
    selector = Selector(_ranker(ex, np.ones(len(ex.rel), bool)), _answerable(X, y, w), threshold)
    if reader is not None:
        selector.reader_file, selector.reader_english = reader.out.name, reader.english
        selector.reader_weight = reader.weight
    table = [
        {**a, "confidence": float(c), "correct": bool(yy), "length": int(ex.x[r, LEN])}
        for a, c, yy, r, m in zip(ex.askings, p, y, best_rows, measured)
        if m
    ]
    return Fitted(selector, table)


def figures(table: list[dict], threshold: float) -> dict:
    """Cross-validated figures at ``threshold``, per set and over all."""
    out = {}
    for name in ["all"] + sorted({t["set"] for t in table}):
        rows = [t for t in table if name == "all" or t["set"] == name]
        pos = [t for t in rows if t["side"] == "answerable"]
        neg = [t for t in rows if t["side"] != "answerable"]
        answered = [t for t in pos if t["confidence"] >= threshold]
        out[name] = {
            "answerable": len(pos),
            "negatives": len(neg),
            "best_span_correct": round(np.mean([t["correct"] for t in pos]), 3) if pos else None,
            "answered_correctly": round(sum(t["correct"] for t in answered) / len(pos), 3) if pos else None,
            "false_refusals": round(1 - len(answered) / len(pos), 3) if pos else None,
            "abstention_recall": round(np.mean([t["confidence"] < threshold for t in neg]), 3) if neg else None,
            "median_chars": float(np.median([t["length"] for t in answered])) if answered else None,
        }
    return out
