"""Things and groups said before, rather than named entities:

- a demonstrative that points back at one (「对这些机构…」 after a question about
  新型研发机构, 「按这个办法…」 after an answer quoting the 管理办法): the noun after
  it is found in the previous turn, and the whole noun phrase it heads there
  takes the demonstrative's place;
- the group a question starts with (第二批长三角创新联合体成立了多少家？), which
  「其中…」 asks inside;
- the items listed beside one in an earlier answer (精准医疗 beside 量子科技 in
  「先进制剂、精准医疗、…、量子科技创新联合体」), which 「那精准医疗呢？」 puts in its place."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from docqa import lang
from docqa.index.tokenize import Segmenter

_ZH = lang.load("zh")
_DEMONSTRATIVES = _ZH.wordset("concept_demonstratives")
_PHRASE_TAGS = _ZH.wordset("phrase_tags")
_MODIFIER_TAGS = _ZH.wordset("modifier_tags")
_GROUP_HEADS = tuple(_ZH.words["group_heads"])
_INTERROGATIVES = tuple(_ZH.words["interrogatives"])
_CLAUSES = re.compile(r"[，,；;。：:！？!?\n]")
_BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)|\[\d+\]|\*\*")
MAX_PHRASE_WORDS = 4
MAX_GROUP_WORDS = 8
MIN_SHARED_CHARS = 2


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


def leading_group(text: str, segmenter: Segmenter) -> str | None:
    """The noun phrase ``text`` starts with when it names a group or a kind of
    thing (第二批长三角创新联合体 in 「第二批长三角创新联合体成立了多少家？」), else None."""
    words = segmenter.coarse_words(text)
    end = 0
    for i, word in enumerate(words[:MAX_GROUP_WORDS]):
        following = words[i + 1] if i + 1 < len(words) else ""
        tag = segmenter.tag(word)
        if _nounish(word, segmenter):
            end = i + 1
        elif tag == "m" and not word.startswith(_INTERROGATIVES) and _nounish(following, segmenter):
            continue  # 第二批, 首批
        elif tag == "uj" and end == i:
            continue  # 新备案的创新联合体
        elif not _joins(word, following, segmenter):
            break
    phrase = "".join(words[:end])
    return phrase if phrase.endswith(_GROUP_HEADS) else None


def sibling_in(question: str, item: str, answers: Iterable[str]) -> str | None:
    """``question`` asking about ``item`` instead of the item listed beside it in
    one of ``answers`` (most recent first) that ``question`` names, or None."""
    for answer in answers:
        for clause in _CLAUSES.split(_BRACKETED.sub("", answer)):
            items = [i.strip() for i in clause.split("、")]
            listed = next((i for i in items if i.startswith(item) or i.endswith(item)), None) if len(items) > 1 else None
            if listed is None:
                continue
            shared = max((_core(k, other, len(items), question) for k, other in enumerate(items) if other != listed), key=len)
            if len(shared) >= MIN_SHARED_CHARS:
                return question.replace(shared, item, 1)
    return None


def _nounish(word: str, segmenter: Segmenter) -> bool:
    tag = segmenter.tag(word)
    return bool(word) and (tag is None or tag in _PHRASE_TAGS)


def _core(k: int, item: str, n: int, question: str) -> str:
    """The longest part of the ``k``-th of ``n`` listed items that ``question``
    holds, where the item's own name is: the end of the first item and the start
    of the last, which carry the list's context (「新备案先进制剂」, 「量子科技创新联合体4个」);
    a middle item whole."""
    if 0 < k < n - 1:
        return item if item in question else ""
    for size in range(len(item), 0, -1):
        part = item[-size:] if k == 0 else item[:size]
        if part in question:
            return part
    return ""
