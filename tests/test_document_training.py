"""DocQA's own documents of the kinds users load: one training set per folder of docqa/train/documents/."""

from __future__ import annotations

import json

from docqa.eval.metrics import normalize
from docqa.eval.questions import DATA_DIR, load_questions
from docqa.ingest.loaders import load_document
from docqa.train import documents
from docqa.train.sets import measured_questions


def test_each_folder_is_a_set_over_its_own_documents():
    sets = documents.document_sets()
    assert [t.name for t in sets] == [f"docs-d{i}" for i in range(8)]
    for t in sets:
        [folder] = t.corpus
        assert folder.parent.name == t.name.removeprefix(documents.PREFIX) and len(list(folder.glob("*.txt"))) == 3
        assert len(t.questions) == 45 and sum(q.answerable for q in t.questions) == 30, t.name
        assert t.licence == "DocQA's own"


def test_no_folder_no_sets(tmp_path):
    assert documents.document_sets(tmp_path / "missing") == []
    (tmp_path / "empty").mkdir()
    assert documents.document_sets(tmp_path) == []


def test_every_gold_string_is_in_its_document_as_docqa_stores_it():
    """A table's row is stored as its named cells, and the evidence quotes it so: a question
    asked without its evidence must not find its answer (a negative that holds it would teach
    the selector to refuse a right answer)."""
    for folder in sorted(p for p in documents.DOCUMENTS.iterdir() if p.is_dir()):
        stored = {p.name: load_document(p).text for p in (folder / "docs").glob("*.txt")}
        for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            q = json.loads(line)
            text = stored[q["doc"]]
            assert all(s in text for s in q["answers"] + q["evidence"]), q["id"]
            assert all(any(a in e for e in q["evidence"]) for a in q["answers"]), q["id"]
            assert q["answerable"] == bool(q["answers"]), q["id"]


def test_no_training_question_is_a_measured_one():
    measured = measured_questions()  # the bundled evaluation set's
    measured |= {normalize(q.question) for f in DATA_DIR.glob("dev_docs/*/questions.jsonl") for q in load_questions(f)}
    for t in documents.document_sets():
        assert not {normalize(q.question) for q in t.questions} & measured, t.name
