"""Word segmentation for BM25 and for answer selection: jieba for Chinese,
lower-cased words for Latin script, numbers kept whole."""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata

from docqa import lang
from docqa.text import HAN_ALL, HAN_CHAR

_WORD = re.compile(rf"[0-9]+(?:[.,][0-9]+)*%?|[a-z][a-z0-9\-+.]*[a-z0-9+]|[a-z]|[{HAN_ALL}]+")

# Function words and question words (docqa/lang/*.toml): they carry no topic,
# so they neither score in BM25 nor count as "key terms" a passage must cover.
STOPWORDS = frozenset().union(*(lang.load(code).wordset("stopwords") for code in lang.CODES))

log = logging.getLogger(__name__)


_shared = None
_shared_lock = threading.RLock()


def _jieba():
    """One jieba tokenizer per process, initialised on first use (it loads a
    dictionary, ~1 s); it is read-only afterwards, so sharing it is safe."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                _shared = tk
    return _shared


_tags: dict[str, str] | None = None


def _word_tags() -> dict[str, str]:
    global _tags
    if _tags is None:
        with _shared_lock:
            if _tags is None:
                tk = _jieba()
                tags: dict[str, str] = {}
                with tk.get_dict_file() as f:
                    for raw in f:
                        parts = raw.decode("utf-8").split()
                        if len(parts) == 3:
                            tags[parts[0]] = parts[2]
                _tags = tags
    return _tags


class Segmenter:
    """Chinese word segmentation (jieba) plus Latin words and numbers."""

    def _tokenizer(self):
        return _jieba()

    def words(self, text: str) -> list[str]:
        """All content-bearing words, in order (fine-grained: search mode)."""
        norm = unicodedata.normalize("NFKC", text).lower()
        out: list[str] = []
        tk = None
        for m in _WORD.finditer(norm):
            w = m.group()
            if HAN_CHAR.match(w):
                tk = tk or self._tokenizer()
                out.extend(tk.cut_for_search(w, HMM=True))
            else:
                out.append(w)
        return out

    def word_frequencies(self) -> dict[str, int]:
        """jieba's dictionary counts (how common a word is in general Chinese)."""
        return self._tokenizer().FREQ

    def informativeness(self, word: str) -> float | None:
        """Self-information of ``word`` in general Chinese, -log p (None when
        jieba's dictionary does not have it)."""
        tk = self._tokenizer()
        f = tk.FREQ.get(word, 0)
        return math.log(tk.total / f) if f > 0 else None

    def tag(self, word: str) -> str | None:
        """jieba's dictionary part-of-speech tag (ns place, nr person, n noun, v verb, …)."""
        return _word_tags().get(word)

    def coarse_words(self, text: str) -> list[str]:
        """Words in jieba's precise mode (compounds kept whole), in order."""
        norm = unicodedata.normalize("NFKC", text).lower()
        out: list[str] = []
        for m in _WORD.finditer(norm):
            w = m.group()
            if HAN_CHAR.match(w):
                out.extend(self._tokenizer().cut(w, HMM=True))
            else:
                out.append(w)
        return out

    def terms(self, text: str) -> list[str]:
        """Words minus stopwords: what BM25 indexes and what a question asks about."""
        return [w for w in self.words(text) if w not in STOPWORDS]
