"""A demonstrative that points back at a thing or a group rather than a named
entity (「对这些机构…」 after a question about 新型研发机构, 「按这个办法…」 after an
answer quoting the 管理办法): the noun after it is found in the previous turn,
and the whole noun phrase it heads there takes the demonstrative's place."""

from __future__ import annotations

from collections.abc import Sequence

from docqa import lang
from docqa.index.tokenize import Segmenter

_ZH = lang.load("zh")
_DEMONSTRATIVES = _ZH.wordset("concept_demonstratives")
_PHRASE_TAGS = _ZH.wordset("phrase_tags")
_MODIFIER_TAGS = _ZH.wordset("modifier_tags")
MAX_PHRASE_WORDS = 4


def resolve_concept(question: str, earlier: Sequence[str], segmenter: Segmenter) -> str | None:
    """``question`` with its demonstrative phrase replaced by the noun phrase
    it points back at in ``earlier`` (most recent first), or None."""
    words = segmenter.coarse_words(question)
    for i, word in enumerate(words[:-1]):
        head = words[i + 1]
        if word not in _DEMONSTRATIVES or not _is_noun(head, segmenter):
            continue
        for text in earlier:
            phrase = _phrase_ending_in(head, text, segmenter)
            if phrase and phrase != head:
                at = question.find(word + head)
                if at >= 0:
                    return question[:at] + phrase + question[at + len(word) + len(head) :]
    return None


def _is_noun(word: str, segmenter: Segmenter) -> bool:
    return (segmenter.tag(word) or "").startswith("n")


def _joins(word: str, following: str, segmenter: Segmenter) -> bool:
    """Whether ``word`` belongs to the noun phrase that ``following`` starts."""
    tag = segmenter.tag(word) or ""
    return tag in _PHRASE_TAGS or (tag in _MODIFIER_TAGS and _is_noun(following, segmenter))


def _phrase_ending_in(head: str, text: str, segmenter: Segmenter) -> str | None:
    """The longest noun phrase of ``text`` whose last word is (or ends with) ``head``."""
    words = segmenter.coarse_words(text)
    best: str | None = None
    for j, w in enumerate(words):
        if not w.endswith(head):
            continue
        k = j
        while k > 0 and j - k + 1 < MAX_PHRASE_WORDS and _joins(words[k - 1], words[k], segmenter):
            k -= 1
        phrase = "".join(words[k : j + 1])
        if best is None or len(phrase) > len(best):
            best = phrase
    return best
