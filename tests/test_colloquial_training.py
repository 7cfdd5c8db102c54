"""Questions in users' words: the reworded questions form `<set>-said` sets over the same corpora."""

from __future__ import annotations

import json
from pathlib import Path

from docqa.eval.questions import EvalQuestion
from docqa.train import colloquial
from docqa.train.sets import TrainSet, draw


def _set(name: str, n: int) -> TrainSet:
    questions = [EvalQuestion(f"q{i}", f"问题{i}的别名是什么？", [[f"答{i}"]], [f"证据{i}"], True, "entity") for i in range(n)]
    return TrainSet(name, [Path("corpus")], questions, "CC BY-SA 3.0")


def test_rewordings_become_a_set_with_the_same_ids_and_answers(tmp_path):
    path = tmp_path / "said.jsonl"
    row = {"set": "drcd-dev", "id": "q1", "chinese": "问题1的别名是什么？", "question": "问题1还有啥别的叫法？"}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    original = _set("drcd-dev", 3)
    [said] = colloquial.colloquial_sets([_set("cmrc2018-trial", 2), original], path)
    assert said.name == "drcd-dev-said" and said.corpus == original.corpus and said.licence == original.licence
    [q] = said.questions
    assert (q.id, q.question, q.answers, q.evidence) == ("q1", "问题1还有啥别的叫法？", [["答1"]], ["证据1"])


def test_no_file_no_reworded_sets(tmp_path):
    assert colloquial.colloquial_sets([_set("cmrc2018-trial", 2)], tmp_path / "missing.jsonl") == []


def test_the_sample_is_deterministic_and_of_answerable_questions():
    big = _set("cmrc2018-trial", 400)
    first, second = colloquial.sampled(big), colloquial.sampled(big)
    assert first == second and 0.25 * 400 < len(first) < 0.5 * 400
    assert set(map(id, first)) < set(map(id, colloquial.sampled(big, more=True)))  # the second round's sample holds the first
    assert colloquial.sampled(_set("report-dev", 50)) == []


def test_the_bundled_rewordings_are_new_wordings_one_per_question():
    rows = [json.loads(line) for line in colloquial.REWORDINGS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 2600, "docqa/train/colloquial_questions.jsonl is missing"
    assert {r["set"] for r in rows} <= set(colloquial.SHARE)
    for r in rows:  # each round's rewordings are of its sample
        share = colloquial.MORE_SHARE if r.get("round", 1) == 2 else colloquial.SHARE
        assert draw(r["set"], "colloquial", r["id"]) < share[r["set"]], r["id"]
    assert 700 < len(colloquial.load()) < 850 < len(colloquial.load(more=True))
    assert all(r["question"] != r["chinese"] and 6 <= len(r["question"]) <= 80 for r in rows)
    assert len({(r["set"], r["id"]) for r in rows}) == len(rows)


def test_the_second_round_is_trained_only_when_asked(tmp_path):
    path = tmp_path / "said.jsonl"
    rows = [
        {"set": "drcd-dev", "id": "q0", "chinese": "问题0的别名是什么？", "question": "问题0还有啥叫法？"},
        {"set": "drcd-dev", "id": "q1", "chinese": "问题1的别名是什么？", "question": "问题1还有啥叫法？", "round": 2},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    [first] = colloquial.colloquial_sets([_set("drcd-dev", 3)], path)
    [both] = colloquial.colloquial_sets([_set("drcd-dev", 3)], path, more=True)
    assert [q.id for q in first.questions] == ["q0"] and [q.id for q in both.questions] == ["q0", "q1"]
