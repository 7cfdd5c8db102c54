"""The bundled dialogue sets (eval/data/dialogues.jsonl measures, dev_dialogues.jsonl
develops, other_docs_dialogues.jsonl develops over the three documents of other kinds):
every gold string is in the documents asked about, ids are unique, no question is
shared between the sets or copied from the single-question sets, and the
evaluation set has what the issue asks for (≥ 20 dialogues, ≥ 5 traps, ≥ 3 English)."""

from __future__ import annotations

import json

import pytest

from docqa.eval.dialogues import load_dialogues
from docqa.eval.questions import DATA_DIR
from tests.conftest import REPORT

SETS = {"eval": DATA_DIR / "dialogues.jsonl", "dev": DATA_DIR / "dev_dialogues.jsonl"}
OTHER = DATA_DIR / "other_docs_dialogues.jsonl"  # about eval/data/other_docs/*.txt


def _corpus(name: str) -> str:
    paths = sorted((DATA_DIR / "other_docs").glob("*.txt")) if name == "other" else [REPORT]
    return "\n".join(p.read_text(encoding="utf-8") for p in paths).replace("**", "")


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", [*SETS, "other"])
def test_every_gold_string_is_in_the_documents_and_traps_are_unanswerable(name):
    corpus = _corpus(name)
    path = OTHER if name == "other" else SETS[name]
    load_dialogues(path)  # the eval's own validation
    for d in _lines(path):
        assert len(d["turns"]) >= 2, d["id"]
        for n, t in enumerate(d["turns"], 1):
            for s in t["answers"] + t["evidence"]:
                assert s.replace("**", "") in corpus, (d["id"], n, s)
            if t["type"] == "trap":
                assert not t["answerable"] and not t["answers"] and not t["evidence"], (d["id"], n)


def test_the_sets_share_no_dialogue_or_question_and_copy_no_single_question():
    singles = {q["question"] for f in DATA_DIR.glob("*_questions.jsonl") for q in _lines(f)}
    seen: dict[str, str] = {}
    ids: set[str] = set()
    for name, path in [*SETS.items(), ("other", OTHER)]:
        for d in _lines(path):
            assert d["id"] not in ids
            ids.add(d["id"])
            for t in d["turns"]:
                assert t["question"] not in singles and t["question"] not in seen, (name, d["id"], t["question"])
                seen[t["question"]] = name


def test_the_evaluation_set_has_the_dialogues_the_issue_asks_for():
    dialogues = _lines(SETS["eval"])
    traps = [d for d in dialogues if any(t["type"] == "trap" for t in d["turns"])]
    english = [d for d in dialogues if d.get("lang") == "en"]
    assert len(dialogues) >= 20 and len(traps) >= 5 and len(english) >= 3
