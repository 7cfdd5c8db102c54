"""English training questions: the translated questions form `<set>-en` sets over the same corpora."""

from __future__ import annotations

import json
from pathlib import Path

from docqa.eval.questions import EvalQuestion
from docqa.train import english
from docqa.train.sets import TrainSet


def _set(name: str, n: int) -> TrainSet:
    questions = [EvalQuestion(f"q{i}", f"问题{i}是什么？", [[f"答{i}"]], [f"证据{i}"], True, "entity") for i in range(n)]
    return TrainSet(name, [Path("corpus")], questions, "CC BY-SA 4.0")


def test_translations_become_an_english_set_with_the_same_answers(tmp_path):
    path = tmp_path / "en.jsonl"
    rows = [
        {"set": "cmrc2018-trial", "id": "q1", "question": "What is question 1?", "agreement": 0.9},
        {"set": "cmrc2018-trial", "id": "q2", "question": "Who is Liu San?", "agreement": 0.7},  # mangled: left out
        {"set": "drcd-dev", "id": "q0", "question": "What is question 0 about?", "agreement": 0.7, "by": "hand"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    original = _set("cmrc2018-trial", 3)
    en, hand = english.english_sets([original, _set("drcd-dev", 2)], path)
    assert [q.question for q in hand.questions] == ["What is question 0 about?"]  # written by hand: no agreement needed
    assert en.name == "cmrc2018-trial-en" and en.corpus == original.corpus and en.licence == original.licence
    [q] = en.questions
    assert (q.id, q.question, q.answers) == ("q1", "What is question 1?", [["答1"]])


def test_no_file_no_english_sets(tmp_path):
    assert english.english_sets([_set("cmrc2018-trial", 2)], tmp_path / "missing.jsonl") == []


def test_the_sample_is_deterministic_and_of_answerable_questions():
    big = _set("cmrc2018-trial", 400)
    first, second = english.sampled(big), english.sampled(big)
    assert first == second and 0.25 * 400 < len(first) < 0.55 * 400
    assert english.sampled(_set("report-dev", 50)) == []


def test_a_usable_translation_reads_as_one_english_question():
    assert english.usable("How many chain-leader enterprises has the institute (上海浦芯) connected?")
    assert not english.usable("上海浦芯接入了多少家链主企业？")
    assert not english.usable("How many?\nExplanation: …")
    assert not english.usable("Why")


def test_the_bundled_translations_are_scored_and_usable():
    found = english.load()
    assert len(found) > 300, "docqa/train/english_questions.jsonl is missing"
    assert {s for s, _ in found} <= set(english.SHARE)
    assert all(english.usable(q) for q in found.values())
    rows = [json.loads(line) for line in english.TRANSLATIONS.read_text(encoding="utf-8").splitlines()]
    assert all("agreement" in r for r in rows)


class _Embedder:
    def embed_queries(self, texts):
        import numpy as np

        return np.array([[1.0, 0.0] if "刘六" in t or "Liu" in t else [0.0, 1.0] for t in texts])


def test_agreement_is_the_cosine_of_the_two_questions(tmp_path):
    path = tmp_path / "en.jsonl"
    rows = [{"set": "s", "id": "a", "chinese": "刘六的本名是什么？", "question": "Who is Liu San?"},
            {"set": "s", "id": "b", "chinese": "刘六的本名是什么？", "question": "What is the date?"}]  # fmt: skip
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    english.score_agreement(_Embedder(), path)
    assert english.load(path) == {("s", "a"): "Who is Liu San?"}


def test_the_questions_put_into_english_by_hand_are_usable_and_a_superset_of_the_sample():
    """--english-written: every one kept (agreement or not), one per sampled question but one."""
    from docqa.train.sets import draw

    rows = [json.loads(line) for line in english.WRITTEN.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 1400 and all(r["by"] == "hand" and english.usable(r["question"]) for r in rows)
    assert len(english.load(english.WRITTEN)) == len(rows)
    assert all(draw(r["set"], r["id"]) < english.WRITTEN_SHARE[r["set"]] for r in rows)
