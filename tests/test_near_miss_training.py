"""Near misses written by hand: unanswerable `<set>-miss` sets over the same corpora."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from docqa.eval.questions import EvalQuestion
from docqa.train import english, near_misses
from docqa.train.examples import Examples
from docqa.train.fit import _folds
from docqa.train.sets import TrainSet


def _set(name: str) -> TrainSet:
    questions = [EvalQuestion(f"q{i}", f"问题{i}？", [[f"答{i}"]], [], True, "entity") for i in range(3)]
    return TrainSet(name, [Path(f"corpus-{name}")], questions, "CC BY-SA 3.0")


def test_near_misses_become_an_unanswerable_set_over_the_same_corpus(tmp_path):
    path = tmp_path / "miss.jsonl"
    rows = [{"set": "drcd-dev", "id": "q1", "question": "纽西兰鸡毛松一般能活多少年？", "asks": "lifespan",
             "english": "How long does a kahikatea usually live?"}]  # fmt: skip
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    drcd = _set("drcd-dev")
    [miss] = near_misses.near_miss_sets([_set("cmrc2018-trial"), drcd], path)
    assert miss.name == "drcd-dev-miss" and miss.corpus == drcd.corpus and miss.licence == drcd.licence
    [q] = miss.questions
    assert (q.id, q.question, q.answers, q.answerable) == ("q1-miss", "纽西兰鸡毛松一般能活多少年？", [], False)
    # with the English questions, in English too: the same id, so the same fold
    miss, en = near_misses.near_miss_sets([drcd], path, english=True)
    assert en.name == "drcd-dev-miss-en" and [(q.id, q.question) for q in en.questions] == [
        ("q1-miss", "How long does a kahikatea usually live?")
    ]


def test_no_file_no_near_miss_sets(tmp_path):
    assert near_misses.near_miss_sets([_set("drcd-dev")], tmp_path / "missing.jsonl") == []


def test_a_near_miss_shares_its_passage_questions_fold():
    ids = ["a", "a-neg", "a-miss", "b", "b-near", "b-miss"]
    ex = Examples(np.zeros((6, 1)), np.zeros(6), np.arange(6), [{"id": i} for i in ids], np.zeros(6, int), [])
    folds = _folds(ex)
    assert len(set(folds[:3])) == 1 and len(set(folds[3:])) == 1


def test_the_bundled_near_misses_are_one_question_per_drawn_passage():
    rows = [json.loads(line) for line in near_misses.QUESTIONS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 400, "docqa/train/near_miss_questions.jsonl is missing"
    assert all(near_misses.chosen(r["set"], r["id"]) for r in rows)
    assert len({(r["set"], r["id"]) for r in rows}) == len(rows)
    assert all(6 <= len(r["question"]) <= 60 and r["question"][-1] in "？?" for r in rows)
    assert all(english.usable(r["english"]) for r in rows)
