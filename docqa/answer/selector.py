"""The learned answer selector: which candidate answers the question, and how
sure it is that it does.

Two gradient-boosted models (LightGBM) read the candidates' features
(``features.py``):

1. the **ranker** orders a question's candidates; the best one is the answer;
2. the **answerability** model reads the best candidate's features, its score
   and its margin over the runner-up, and gives the probability that it
   answers the question.  Below ``threshold`` — chosen when training for a
   target false-answer rate — the answer is a refusal.

The answerability model also reads the answer reader's score of the best
candidate (``reader.py``, a cross-encoder of question and sentence) when the
selector was trained with one; without the reader (a fake embedder in tests,
a model with no transformer to adapt) that input is missing, which the model
was trained to expect.  A selector trained with a ``reader_weight`` lets the
reader pick among the ranker's ``RERANK`` best candidates: the best is the one
whose ranking score plus ``reader_weight`` times the reader's log-odds is
highest (the cheap ranker reads every candidate, the reader only those few).

Both are trained by ``docqa train-selector`` (docqa/train/) and kept, with the
threshold and the feature names, in one JSON file named by the embedding
model's profile; the reader's adapters sit in a file beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docqa.answer.features import CATEGORICAL, FEATURES
from docqa.answer.reader import AnswerReader
from docqa.errors import DocumentError, ModelUnavailable

FORMAT = 1
ANSWER_EXTRA = ("score", "margin")  # what the answerability model reads besides the best candidate's features
READER = "reader"  # … and, when trained with one, the answer reader's score
_ENGLISH = FEATURES.index("q_en")  # 1 for an English question
RETRAIN = "retrain it with `docqa train-selector` (docs/selector.md)"
RERANK = 2  # the ranker's best candidates the answer reader picks among (with a reader_weight)


def answerability_row(
    x: np.ndarray, scores: np.ndarray, allowed: np.ndarray | None = None, best: int | None = None
) -> tuple[int, np.ndarray]:
    """The best candidate (among the ``allowed`` ones, unless ``best`` says
    which) and the answerability model's input for it: its features, its score
    and its margin over the best other candidate (allowed or not; negative when
    the reader picked one the ranker put lower)."""
    if best is None:
        best = top_candidates(scores, allowed, 1)[0]
    others = np.delete(scores, best)
    runner_up = others.max() if len(others) else scores[best] - 10.0
    return best, np.concatenate([x[best], [scores[best], scores[best] - runner_up]]).astype(np.float32)


def top_candidates(scores: np.ndarray, allowed: np.ndarray | None, n: int) -> list[int]:
    """The ``n`` best-scored candidates among the ``allowed`` ones, best first."""
    ranked = np.argsort(-(scores if allowed is None else np.where(allowed, scores, -np.inf)), kind="stable")
    ok = ranked if allowed is None else ranked[np.asarray(allowed, bool)[ranked]]
    return [int(i) for i in (ok[:n] if len(ok) else ranked[:1])]


def reader_pick(scores: np.ndarray, read: np.ndarray, weight: float) -> int:
    """Which of some candidates (their ranking scores, the reader's
    probabilities) is best: ranking score plus ``weight`` times the reader's
    log-odds; ties go to the first (the ranker's best)."""
    p = np.clip(np.asarray(read, np.float64), 1e-6, 1 - 1e-6)
    return int(np.argmax(np.asarray(scores, np.float64) + weight * np.log(p / (1 - p))))


def english(rows: np.ndarray) -> np.ndarray:
    """Which rows (candidates' features, or answerability rows, which start with
    them) are of English questions: the answer reader neither reads nor scores
    those, in training and when answering."""
    return rows[..., _ENGLISH] > 0.5


def _booster(model: str) -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelUnavailable("lightgbm is not installed; run `pip install -e .`") from exc
    return lightgbm.Booster(model_str=model)


@dataclass
class Selector:
    ranker: Any  # lightgbm.Booster
    answerable: Any  # lightgbm.Booster
    threshold: float
    source: str = ""
    card: dict | None = None  # what it was trained on and how it measured
    reader_file: str = ""  # the answer reader's file, beside the selector's ("": trained without one)
    reader: AnswerReader | None = None  # None: its score is missing
    reader_english: bool = False  # the reader was trained on English questions too, and reads them
    reader_weight: float = 0.0  # > 0: the reader picks among the ranker's RERANK best (``reader_pick``)

    def choose(
        self, x: np.ndarray, allowed: np.ndarray | None = None, pair: Callable[[int], tuple[str, str]] | None = None
    ) -> tuple[np.ndarray, int, float]:
        """Ranking scores for the candidates' features ``x``, the best one (of
        the ``allowed`` ones), and the probability that it answers the
        question; ``pair`` gives the question and a candidate's reading for
        the answer reader."""
        # One thread: a question has a few hundred candidates, and OpenMP threads
        # spinning against other requests (or other processes) cost far more.
        scores = np.asarray(self.ranker.predict(x, num_threads=1), dtype=np.float64)
        best, row = answerability_row(x, scores, allowed)
        if self.reader_file:
            read = float("nan")
            # A reader trained on Chinese questions only scores every English one
            # ~0.03 whatever it asks: then the score is missing, as when training.
            if self.reader is not None and pair is not None and (self.reader_english or not english(x[best])):
                top = top_candidates(scores, allowed, RERANK if self.reader_weight > 0 else 1)
                pairs = [pair(i) for i in top]
                texts = [text for _, text in pairs]
                distinct = list(dict.fromkeys(texts))  # spans of one sentence read alike: read it once
                read_once = dict(zip(distinct, self.reader.score(pairs[0][0], distinct)))
                reads = np.array([read_once[t] for t in texts])
                k = reader_pick(scores[top], reads, self.reader_weight)
                read = float(reads[k])
                if k:  # the reader moved the answer off the ranker's best
                    best, row = answerability_row(x, scores, allowed, top[k])
            row = np.append(row, np.float32(read))
        confidence = float(self.answerable.predict(row.reshape(1, -1), num_threads=1)[0])
        return scores, best, confidence

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "features": list(FEATURES),
                "categorical": list(CATEGORICAL),
                "threshold": self.threshold,
                "reader": self.reader_file,
                "reader_english": self.reader_english,
                "reader_weight": self.reader_weight,
                "card": self.card or {},
                "ranker": self.ranker.model_to_string(),
                "answerable": self.answerable.model_to_string(),
            },
            ensure_ascii=False,
        )

    @classmethod
    def load(cls, path: Path | str, transformer: Callable | None = None, bfloat16: bool = False) -> Selector:
        """Read a selector file; one that this DocQA cannot use is an error
        saying how to get one it can.  ``transformer`` gives the embedding
        model's transformer and tokenizer for the answer reader (None: the
        selector does without it), ``bfloat16`` its arithmetic."""
        if not Path(path).is_file():
            raise DocumentError(f"no answer selector at {path}; {RETRAIN}")
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DocumentError(f"{path}: cannot read the answer selector ({exc}); {RETRAIN}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT or tuple(data.get("features", ())) != FEATURES:
            raise DocumentError(f"{path}: the answer selector was trained for other features or another DocQA; {RETRAIN}")
        from lightgbm.basic import LightGBMError

        try:
            threshold = float(data["threshold"])
            selector = cls(_booster(data["ranker"]), _booster(data["answerable"]), threshold, str(path), data.get("card"))
            selector.reader_file = str(data.get("reader") or "")
            selector.reader_english = bool(data.get("reader_english", False))
            selector.reader_weight = float(data.get("reader_weight", 0.0))
        except (KeyError, TypeError, ValueError, LightGBMError) as exc:
            raise DocumentError(f"{path}: the answer selector is damaged ({exc}); {RETRAIN}") from exc
        if selector.reader_file and transformer is not None:
            selector.reader = AnswerReader(Path(path).parent / selector.reader_file, transformer, bfloat16)
        return selector
