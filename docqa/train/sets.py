"""The question sets a selector is trained and calibrated on — never the
evaluation sets (the bundled report questions, CMRC 2018 dev), which measure.

- CMRC 2018 trial (``cmrc2018_trial.json``, 1,002 questions) and DRCD dev
  (``DRCD_dev.json``, 3,524 questions, Traditional Chinese, converted to
  Simplified with OpenCC): SQuAD-format reading comprehension over Wikipedia
  passages; all passages of a set form one corpus.
- DocQA's own development and calibration sets over the bundled report
  (``docqa/eval/data/dev_questions.jsonl``, ``calibration_questions.jsonl``),
  English questions and questions the report does not answer among them.

Every answerable question also gives a negative: asked without its evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from docqa.api import BUNDLED_CORPUS, Settings
from docqa.errors import DocumentError
from docqa.eval import cmrc
from docqa.eval.metrics import normalize
from docqa.eval.questions import BUNDLED_QUESTIONS, CALIBRATION_QUESTIONS, DATA_DIR, EvalQuestion, load_questions

SHARED = cmrc.REPO_ROOT.parent / "shared" / "benchmarks"
DEFAULT_SQUAD = {"cmrc2018-trial": SHARED / "cmrc2018" / "cmrc2018_trial.json", "drcd-dev": SHARED / "drcd" / "DRCD_dev.json"}
TRADITIONAL = {"drcd-dev"}
DEV_SETS = (DATA_DIR / "dev_questions.jsonl", CALIBRATION_QUESTIONS)


@dataclass
class TrainSet:
    name: str
    corpus: list[Path]
    questions: list[EvalQuestion]
    licence: str


def _to_simplified() -> Callable[[str], str]:
    try:
        import opencc
    except ImportError as exc:
        raise DocumentError("OpenCC converts DRCD to Simplified Chinese: pip install -e '.[train]'") from exc
    converter = opencc.OpenCC("t2s.json")

    def convert(text: str) -> str:
        return converter.convert(text)

    convert.tag = "opencc-t2s"  # type: ignore[attr-defined]
    return convert


def squad_set(settings: Settings, name: str, path: Path) -> TrainSet:
    if not Path(path).is_file():
        raise DocumentError(f"{path}: training set {name} not found; pass its location with --{name.split('-')[0]}")
    bench = cmrc.load(settings, path, name=name, convert=_to_simplified() if name in TRADITIONAL else None)
    return TrainSet(name, [bench.corpus_dir], bench.questions, "CC BY-SA 4.0" if "cmrc" in name else "CC BY-SA 3.0")


def measured_questions() -> set[str]:
    """The questions of the evaluation sets, normalised: never training data."""
    return {normalize(q.question) for q in load_questions(BUNDLED_QUESTIONS)}


def dev_set() -> TrainSet:
    """DocQA's own sets over the bundled report, without any question that
    the bundled evaluation set also asks."""
    measured = measured_questions()
    questions = [q for f in DEV_SETS for q in load_questions(f) if normalize(q.question) not in measured]
    return TrainSet("report-dev", [BUNDLED_CORPUS], questions, "DocQA's own")


def default_sets(settings: Settings, paths: dict[str, Path] | None = None) -> list[TrainSet]:
    paths = {**DEFAULT_SQUAD, **(paths or {})}
    return [squad_set(settings, name, path) for name, path in paths.items()] + [dev_set()]


def reworded_sets(sets: list[TrainSet], found: dict[tuple[str, str], str], suffix: str) -> list[TrainSet]:
    """For each set with rewordings (``found``: (set, id) -> question), the
    same questions asked in those words, as ``<set><suffix>``: over the same
    documents, with the same answers and ids (so a question and its
    rewording fall in one cross-validation fold)."""
    out = []
    for t in sets:
        questions = [replace(q, question=found[(t.name, q.id)]) for q in t.questions if (t.name, q.id) in found]
        if questions:
            out.append(TrainSet(f"{t.name}{suffix}", t.corpus, questions, t.licence))
    return out


def draw(*keys: str) -> float:
    """A number in [0, 1] fixed by ``keys`` (a hash): a sample that stays the same run after run."""
    return int(hashlib.sha256("\t".join(keys).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def sample(tset: TrainSet, share: float, *salt: str) -> list[EvalQuestion]:
    """A fixed share of a set's answerable questions, drawn by a hash of the set, ``salt`` and the id."""
    return [q for q in tset.questions if q.answerable and draw(tset.name, *salt, q.id) < share]


def read_rows(path: Path) -> list[dict]:
    """The JSON lines of a file of questions derived from the sets (none when it is missing)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
