"""Near misses written by hand for training: questions about what a training
passage names, asking for a detail that its article does not give.

The bundled report's hardest unanswerable questions ask about an object the
report mentions for a detail it does not hold (「颠覆性技术专项基金的规模有多少亿元？」);
the sentence that mentions the object looks like an answer.  The training sets
hold no such question — their near misses are made by blanking the answer
sentence out (``examples.without_answer``), and the unanswerable ones by taking
the passage away.  For a fixed sample of each set's passages (``SHARE``, drawn
by a hash of the passage's first question id), DocQA's developers wrote one
question each, in the passage's names, for a detail beside the ones it gives
(the tree's lifespan where it gives its height) and that no passage of the
article gives.  They live in ``near_miss_questions.jsonl`` beside this file
(derived from the sets, under their licences) and form unanswerable training
sets, ``<set>-miss``, over the same corpora (``docqa train-selector``; left out
with ``--no-near-misses``); each shares a cross-validation fold with its
passage's first question.  Each has an English version (``english``, put
into English by hand as ``english_written.jsonl`` was), asked in
``<set>-miss-en`` with ``docqa train-selector --english-written``.
"""

from __future__ import annotations

from pathlib import Path

from docqa.eval.questions import EvalQuestion
from docqa.train.sets import TrainSet, draw, read_rows

QUESTIONS = Path(__file__).with_name("near_miss_questions.jsonl")
SHARE = {"cmrc2018-trial": 0.8, "drcd-dev": 0.3}  # of each set's passages
SUFFIX = "-miss"
TYPE = "unanswerable_near_miss"


def chosen(name: str, first_id: str) -> bool:
    """Whether the passage whose first question is ``first_id`` was given a near miss."""
    return draw(name, "near-miss", first_id) < SHARE.get(name, 0.0)


def near_miss_sets(sets: list[TrainSet], path: Path = QUESTIONS, english: bool = False) -> list[TrainSet]:
    """For each set with near misses, those questions, unanswerable, over its
    corpus (and, ``english``, their English versions in ``<set>-miss-en``)."""
    rows = read_rows(path)
    out = []
    for field, suffix in [("question", SUFFIX)] + ([("english", f"{SUFFIX}-en")] if english else []):
        for t in sets:
            mine = [r for r in rows if r["set"] == t.name and r.get(field)]
            questions = [EvalQuestion(f"{r['id']}{SUFFIX}", r[field], [], [], False, TYPE) for r in mine]
            if questions:
                out.append(TrainSet(f"{t.name}{suffix}", t.corpus, questions, t.licence))
    return out
