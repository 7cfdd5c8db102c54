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

A second, larger round (``MORE_SHARE``; the rows marked ``"round": 2``,
1,888 more) was reworded the same way on 2026-12-06, evening, and trained
with ``--more-colloquial``; measured, not shipped (docs/selector.md,
"Documents of the kinds users load").
"""

from __future__ import annotations

from pathlib import Path

from docqa.train.sets import TrainSet, read_rows, reworded_sets, sample

REWORDINGS = Path(__file__).with_name("colloquial_questions.jsonl")
SHARE = {"cmrc2018-trial": 0.36, "drcd-dev": 0.13}  # of each set's answerable questions
MORE_SHARE = {"cmrc2018-trial": 0.9, "drcd-dev": 0.5}  # … with the second round (a larger sample by the same draw)
SUFFIX = "-said"


def sampled(tset: TrainSet, more: bool = False) -> list:
    """The questions of a set that were given to be reworded (``more``: in either round)."""
    return sample(tset, (MORE_SHARE if more else SHARE).get(tset.name, 0.0), "colloquial")


def load(path: Path = REWORDINGS, more: bool = False) -> dict[tuple[str, str], str]:
    """(set, id) -> the question in users' words (``more``: the second round's too)."""
    return {(r["set"], r["id"]): r["question"] for r in read_rows(path) if more or r.get("round", 1) == 1}


def colloquial_sets(sets: list[TrainSet], path: Path = REWORDINGS, more: bool = False) -> list[TrainSet]:
    """For each set with rewordings, the same questions asked in users' words."""
    return reworded_sets(sets, load(path, more), SUFFIX)
