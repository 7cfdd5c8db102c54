"""``analyse``: a question's language, key terms (weighted, the focus boosted),
numbers, expected answer kind and the organisations it names."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence

from docqa import lang
from docqa.index.tokenize import STOPWORDS, Segmenter
from docqa.question.english import english_terms
from docqa.question.focus import FOCUS_BOOST, focus_spans
from docqa.question.kinds import NUMBER, answer_kind
from docqa.question.records import Question, Term
from docqa.question.terms import equivalents, is_noun, merge_singles, word_weight
from docqa.text import HAN_CHAR, LATIN_CHAR, normalize

_ZH = lang.load("zh")
_ENTITY_TAGS = _ZH.wordset("entity_tags")
_GENERIC_PLACES = _ZH.wordset("generic_places")


def analyse(
    question: str,
    segmenter: Segmenter,
    known: Callable[[str], bool],
    contexts: Sequence[str] = (),
    glossary=None,
    organisations: Iterable[tuple[str, ...]] = (),
    language: str | None = None,
) -> Question:
    """The key terms of a question, weighted.  ``known`` says whether the
    corpus vocabulary has a word; ``contexts`` are the normalised retrieved
    passages (used to repair segmentation and to tell whether a word occurs);
    ``glossary`` translates English words; ``organisations`` are the
    documents' organisation headings (see ``organisation_headings``);
    ``language`` is the question's (detected from it when None)."""
    norm = normalize(question)
    stripped = _ZH.pattern("which_count").sub(" ", unicodedata.normalize("NFKC", question))
    words = merge_singles([normalize(w) for w in segmenter.coarse_words(stripped)], list(contexts))
    seen: dict[str, Term] = {}
    for w in words:
        if not w or w in STOPWORDS or w in seen or not (HAN_CHAR.search(w) or LATIN_CHAR.search(w) or w.isdigit()):
            continue
        if (len(w) == 1 and HAN_CHAR.match(w)) or _ZH.pattern("count_word").match(w):
            continue  # single characters and bare counts carry little on their own
        parts = [p for p in segmenter.words(w) if p != w and len(p) >= 2 and p not in STOPWORDS]
        in_corpus = known(w) or any(w in c for c in contexts)
        is_seen = in_corpus or any(known(p) for p in parts)
        seen[w] = Term(
            w,
            word_weight(w, in_corpus, segmenter),
            parts,
            is_seen,
            forms=equivalents(w),
            required=bool(_ZH.pattern("ordinal").search(w)) and not w.isascii() or w.isdigit(),
            entity=(segmenter.tag(w) or "") in _ENTITY_TAGS and w not in _GENERIC_PLACES,
            noun=is_noun(w, segmenter.tag(w) or "x"),
        )
    for m in _ZH.pattern("counted_number").finditer(norm):
        if m.group(1) in seen:  # "8家": a count of the same kind, not any 8
            seen[m.group(1)].forms = [m.group(0)]
    terms = list(seen.values())
    language = language or lang.detect(question)
    if language == "en" and glossary is not None:
        terms = [t for t in terms if not t.text.isascii() or t.text[0].isdigit()]
        terms += english_terms(question, glossary, segmenter, known, contexts)
    focus = focus_spans(question)
    for t in terms:
        if any(t.text in f or (f.isascii() and f in t.text) for f in focus):
            t.weight *= FOCUS_BOOST
            t.focus = True
    named = [forms for forms in organisations if any(f in norm for f in forms)]
    return Question(question, language, answer_kind(question), terms, NUMBER.findall(norm), named)
