"""Chinese questions in users' words for training: some of the training sets'
questions, reworded by hand as people type them into a chat window.

The training sets' questions were written by people looking at a Wikipedia
passage, mostly in its words (「短叶水蜈蚣的别名是什么？」); users ask in theirs
(「短叶水蜈蚣还有啥别的叫法？」), and the answer reader learned to trust a
sentence that repeats the question.  A fixed sample of each set's answerable
questions (``SHARE``) was reworded once by DocQA's developers, each keeping
exactly what was asked and its answer, in everyday words; the rewordings live
in ``colloquial_questions.jsonl`` beside this file (derived from the sets,
under their licences) and form extra training sets, ``<set>-said``, over the
same corpora with the same answers (``docqa train-selector``; left out with
``--no-colloquial``).  Trained alone they taught the reader to trust near
misses too; the shipped selector learns them beside the hand-written near
misses (``near_misses``; docs/selector.md).
"""

from __future__ import annotations

from pathlib import Path

from docqa.train.sets import TrainSet, read_rows, reworded_sets, sample

REWORDINGS = Path(__file__).with_name("colloquial_questions.jsonl")
SHARE = {"cmrc2018-trial": 0.36, "drcd-dev": 0.13}  # of each set's answerable questions
SUFFIX = "-said"


def sampled(tset: TrainSet) -> list:
    """The questions of a set that were given to be reworded."""
    return sample(tset, SHARE.get(tset.name, 0.0), "colloquial")


def load(path: Path = REWORDINGS) -> dict[tuple[str, str], str]:
    """(set, id) -> the question in users' words."""
    return {(r["set"], r["id"]): r["question"] for r in read_rows(path)}


def colloquial_sets(sets: list[TrainSet], path: Path = REWORDINGS) -> list[TrainSet]:
    """For each set with rewordings, the same questions asked in users' words."""
    return reworded_sets(sets, load(path), SUFFIX)
