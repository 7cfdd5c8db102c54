"""English question words as terms: each stands for its Chinese translations
(a dictionary's) or, for a name written in pinyin, for the Chinese it spells."""

from __future__ import annotations

import re

from docqa.crosslingual import unpossessive
from docqa.index.tokenize import STOPWORDS
from docqa.question.records import Term
from docqa.question.terms import OOV_SEEN, OOV_UNSEEN, word_weight
from docqa.text import normalize

_NAME_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")  # Jing'an is one word


def english_terms(question: str, glossary, segmenter, known, contexts) -> list[Term]:
    """English words and phrases, each standing for its Chinese translations."""
    terms = []
    for phrase, candidates in glossary.terms(question):
        forms = [normalize(c) for c in candidates]
        found = [f for f in forms if known(f) or any(f in c for c in contexts)]
        if found:
            weight, seen = max(word_weight(f, True, segmenter) for f in found), True
        elif forms:
            weight, seen = word_weight(forms[0], False, segmenter), False  # translatable, not in the documents
        else:
            weight, seen = OOV_UNSEEN, False  # the dictionary does not know it
        terms.append(Term(phrase, weight, [], seen, forms + [normalize(phrase)]))
    _add_pinyin_names(question, terms, contexts)
    return terms


def _add_pinyin_names(question: str, terms: list[Term], contexts) -> None:
    """Names written in pinyin (Qi Zhi, Wutong) match the Chinese they spell."""
    from docqa.crosslingual import PinyinFinder

    tokens = [t for t in map(unpossessive, _NAME_WORD.findall(question)) if t.lower() not in STOPWORDS]
    if not tokens or not contexts:
        return
    finder = PinyinFinder(list(contexts))
    for n in (3, 2, 1):
        for i in range(len(tokens) - n + 1):
            group = [t.lower() for t in tokens[i : i + n]]
            names = finder.find(group)
            if not names:
                continue
            for t in terms:
                if t.text in group or t.text == " ".join(group):
                    t.forms = list(dict.fromkeys(t.forms + names))
                    t.weight, t.seen = max(t.weight, OOV_SEEN), True
