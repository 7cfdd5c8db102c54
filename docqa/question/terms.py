"""A question's Chinese words as terms: how much each says (its weight), which
neighbours form one term, and which spellings count as the same word."""

from __future__ import annotations

from docqa import lang
from docqa.index.tokenize import STOPWORDS, Segmenter
from docqa.text import HAN_CHAR

_ZH = lang.load("zh")
_AGENT_SUFFIX = _ZH.wordset("agent_suffixes")
_PARTICLES = _ZH.wordset("particles")
_FIRST = _ZH.pattern("first_ordinal")
_FIRST_PREFIXES = _ZH.words["first_prefixes"]

# Term weights come from how informative a word is in general Chinese
# (-log p from jieba's dictionary), not from this corpus: a word the documents
# lack is then weighed by what it says, so 那个 or 提供 count little and 准确率
# or 专利 a lot.  Nouns say more than verbs.
_INFO_BASE, _INFO_SCALE, _MAX_WEIGHT = 7.5, 2.0, 3.0
MAX_PHRASE = 6
OOV_SEEN, OOV_UNSEEN, _LATIN_WEIGHT, _NUMBER_WEIGHT = 2.5, 1.0, 2.5, 3.0


def word_weight(word: str, seen: bool, segmenter: Segmenter) -> float:
    if word.isascii():
        return _NUMBER_WEIGHT if word[0].isdigit() else _LATIN_WEIGHT
    info = segmenter.informativeness(word)
    if info is None:  # jieba does not know it: a domain term if the corpus has it, else chatter
        return OOV_SEEN if seen else OOV_UNSEEN
    weight = min(_MAX_WEIGHT, max(0.2, (info - _INFO_BASE) / _INFO_SCALE))
    tag = segmenter.tag(word) or ""
    if tag.startswith("v"):
        weight *= 0.7
    return weight


def is_noun(word: str, tag: str) -> bool:
    return tag[0] == "n" or tag == "vn" or (len(word) > 1 and HAN_CHAR.match(word) is not None and word[-1] in _AGENT_SUFFIX)


def equivalents(word: str) -> list[str]:
    """Spellings that mean the same: 首批 = 第一批."""
    forms = [word]
    m = _FIRST.match(word)
    if m:
        forms += [prefix + m.group(1) for prefix in _FIRST_PREFIXES]
    return list(dict.fromkeys(forms))


def merge_singles(words: list[str], contexts: list[str]) -> list[str]:
    """jieba splits words its dictionary lacks (区块链 -> 区块 + 链, 上链 -> 上 + 链)
    and phrases the documents use as one term (完成 + 单位).  Join neighbours
    when the joined string occurs in the retrieved passages."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if (
            nxt
            and len(w) + len(nxt) <= MAX_PHRASE
            and w not in _PARTICLES
            and nxt not in _PARTICLES
            and (len(w) == 1 or len(nxt) == 1 or (w not in STOPWORDS and nxt not in STOPWORDS))
            and HAN_CHAR.match(w[-1:])
            and HAN_CHAR.match(nxt[:1])
        ):
            joined = w + nxt
            if any(joined in c for c in contexts):
                words = words[:i] + [joined] + words[i + 2 :]
                continue
        out.append(w)
        i += 1
    return out
