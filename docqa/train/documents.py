"""Documents of the kinds users load, with questions in users' words, for
training: DocQA's own, written by hand.

The reading-comprehension sets are Wikipedia prose asked in its own words;
the documents a portal loads are policies, manuals, price lists and FAQs —
``标签：值`` lines, numbered clauses, lists, table rows — asked in everyday
words (「晚上几点关门」 for 「营业时间：10:30—20:00」).  On such documents the
selector ranked the right line first and refused it, its confidence far
below the threshold (docs/selector.md).  Each folder under ``documents/``
holds three fictional documents (``docs/``) and 45 questions about them in
the eval suite's format (``questions.jsonl``: 30 answerable, 15 near misses,
6 in English), written by DocQA's developers who read neither DocQA's code
nor its evaluation sets.  Each folder is one training set, ``docs-<folder>``,
over its own three documents (``docqa train-selector --documents``).
Trained on (2026-12-06, evening), they did not lift the selector's
confidence in right answers on documents of these kinds it had not seen,
and cost elsewhere: not shipped (docs/selector.md, "Documents of the kinds
users load").
"""

from __future__ import annotations

from pathlib import Path

from docqa.eval.questions import load_questions
from docqa.train.sets import TrainSet

DOCUMENTS = Path(__file__).with_name("documents")
PREFIX = "docs-"


def document_sets(root: Path = DOCUMENTS) -> list[TrainSet]:
    """One training set per folder of documents and questions under ``root``."""
    folders = sorted(p for p in root.iterdir() if (p / "questions.jsonl").is_file()) if root.is_dir() else []
    return [TrainSet(PREFIX + f.name, [f / "docs"], load_questions(f / "questions.jsonl"), "DocQA's own") for f in folders]
