"""The question sets: schema, coverage, and evidence that really is in the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docqa.errors import DocumentError
from docqa.eval.metrics import normalize
from docqa.eval.questions import BUNDLED_QUESTIONS, CALIBRATION_QUESTIONS, load_questions, sample
from docqa.settings import BUNDLED_CORPUS

REPORT = next(BUNDLED_CORPUS.glob("*.txt"))
LATIN = re.compile(r"[A-Za-z]")
CJK = re.compile(r"[\u3400-\u9fff]")


def _english(text: str) -> bool:
    return len(LATIN.findall(text)) > 2 * len(CJK.findall(text))


@pytest.mark.parametrize("path", [BUNDLED_QUESTIONS, CALIBRATION_QUESTIONS], ids=["bundled", "calibration"])
def test_question_file_is_schema_valid(path):
    qs = load_questions(path)  # raises on any invalid line
    assert len({q.id for q in qs}) == len(qs)
    for q in qs:
        assert q.answerable == bool(q.answers), q.id
        assert q.answerable == bool(q.evidence), q.id  # every answerable question names its evidence


def test_bundled_set_coverage():
    qs = load_questions(BUNDLED_QUESTIONS)
    assert len(qs) >= 80
    assert sum(not q.answerable for q in qs) >= 15
    assert sum(_english(q.question) for q in qs) >= 10
    types = {q.type for q in qs}
    assert {"numeric", "list", "definition", "split_stat", "paraphrase", "colloquial", "multi_part"} <= types


@pytest.mark.parametrize("path", [BUNDLED_QUESTIONS, CALIBRATION_QUESTIONS], ids=["bundled", "calibration"])
def test_every_evidence_string_occurs_in_the_report(path):
    report = normalize(REPORT.read_text(encoding="utf-8"))
    missing = [(q.id, e) for q in load_questions(path) for e in q.evidence if normalize(e) not in report]
    assert missing == []


def test_bundled_and_calibration_sets_do_not_share_questions():
    bundled = {normalize(q.question) for q in load_questions(BUNDLED_QUESTIONS)}
    calibration = {normalize(q.question) for q in load_questions(CALIBRATION_QUESTIONS)}
    assert bundled.isdisjoint(calibration)


def _write(tmp_path, *rows) -> Path:
    p = tmp_path / "q.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return p


GOOD = {"id": "a", "question": "几家？", "answers": ["12家", ["58%", "58 percent"]], "evidence": ["12家"],
        "answerable": True, "type": "numeric"}  # fmt: skip


def test_load_normalises_facts_to_alternatives(tmp_path):
    (q,) = load_questions(_write(tmp_path, GOOD, ""))
    assert q.answers == [["12家"], ["58%", "58 percent"]]
    assert q.to_dict() == GOOD


@pytest.mark.parametrize(
    "row, message",
    [
        ("{not json", "q.jsonl:1: invalid JSON"),
        ([1, 2], "q.jsonl:1: not a JSON object"),
        ({k: v for k, v in GOOD.items() if k != "type"}, "q.jsonl:1: missing type"),
        (GOOD | {"answers": []}, "an answerable question needs at least one fact"),
        (GOOD | {"answerable": False}, "an unanswerable question must have no answers"),
        (GOOD | {"answers": [["12家", ""]]}, "fact ['12家', ''] must be a non-empty string"),
        (GOOD | {"evidence": "12家"}, "evidence must be a list of non-empty strings"),
        (GOOD | {"answerable": "yes"}, "answerable must be true or false"),
        (GOOD | {"question": " "}, "question must be a non-empty string"),
    ],
)
def test_invalid_lines_are_named(tmp_path, row, message):
    with pytest.raises(DocumentError, match=re.escape(message)):
        load_questions(_write(tmp_path, row))


def test_duplicate_ids_and_empty_or_missing_files(tmp_path):
    with pytest.raises(DocumentError, match=r"q.jsonl:2: duplicate id 'a'"):
        load_questions(_write(tmp_path, GOOD, GOOD))
    with pytest.raises(DocumentError, match="the question file is empty"):
        load_questions(_write(tmp_path, ""))
    with pytest.raises(DocumentError, match="no such question file; pass a JSONL file with --questions"):
        load_questions(tmp_path / "nope.jsonl")


def test_sample_is_deterministic_and_keeps_file_order():
    qs = load_questions(BUNDLED_QUESTIONS)
    a, b = sample(qs, 10), sample(qs, 10)
    assert [q.id for q in a] == [q.id for q in b]
    assert [q.id for q in a] == sorted(q.id for q in a)
    assert len(a) == 10
    assert sample(qs, None) == qs and sample(qs, 10_000) == qs


def test_the_other_documents_set_quotes_its_documents():
    """eval/data/other_docs_questions.jsonl: every gold string is in one of its three documents."""
    import json

    from docqa.eval.questions import DATA_DIR, load_questions

    docs = "\n".join(p.read_text(encoding="utf-8") for p in sorted((DATA_DIR / "other_docs").glob("*.txt")))
    path = DATA_DIR / "other_docs_questions.jsonl"
    assert len(load_questions(path)) == 90
    for line in path.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        assert all(s in docs for s in q["answers"] + q["evidence"]), q["id"]
        assert q["answerable"] == bool(q["answers"])


def test_the_document_sets_quote_their_documents():
    """eval/data/dev_docs/*/questions.jsonl: every gold string is in its own documents as DocQA
    stores them (a table's row as its named cells); each set has answerable and unanswerable questions."""
    from docqa.eval.questions import DATA_DIR
    from docqa.ingest.loaders import load_document

    folders = sorted(p for p in (DATA_DIR / "dev_docs").iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["v", "x1", "x2", "x3", "x4"]
    for folder in folders:
        docs = "\n".join(load_document(p).text for p in sorted((folder / "docs").glob("*.txt")))
        questions = load_questions(folder / "questions.jsonl")
        assert {q.answerable for q in questions} == {True, False}, folder.name
        for q in questions:
            assert all(a in docs for fact in q.answers for a in fact) and all(e in docs for e in q.evidence), q.id
            assert q.answerable == bool(q.answers), q.id
