"""What a question asks: its language, its key terms (weighted by how much
they say), the numbers it names, and the kind of answer it expects.

The words and patterns it reads questions with are data (docqa/lang/*.toml)."""

from __future__ import annotations

from docqa.lang import detect as language
from docqa.question.analysis import analyse
from docqa.question.focus import FOCUS_BOOST, focus_spans
from docqa.question.kinds import VALUE_KINDS, answer_kind, must_hold, satisfies_kind
from docqa.question.organisations import MIN_ORG_CHARS, names_organisation, organisation_headings
from docqa.question.preamble import without_preamble
from docqa.question.records import Question, Term
from docqa.question.terms import MAX_PHRASE, word_weight
from docqa.text import normalize

__all__ = [
    "FOCUS_BOOST",
    "MAX_PHRASE",
    "MIN_ORG_CHARS",
    "VALUE_KINDS",
    "Question",
    "Term",
    "analyse",
    "answer_kind",
    "focus_spans",
    "language",
    "must_hold",
    "names_organisation",
    "normalize",
    "organisation_headings",
    "satisfies_kind",
    "without_preamble",
    "word_weight",
]
