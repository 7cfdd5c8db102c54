"""Word segmentation for BM25 and for answer selection: jieba for Chinese,
lower-cased words for Latin script, numbers kept whole."""
from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata

from docqa.text import HAN_ALL, HAN_CHAR

_WORD = re.compile(rf"[0-9]+(?:[.,][0-9]+)*%?|[a-z][a-z0-9\-+.]*[a-z0-9+]|[a-z]|[{HAN_ALL}]+")

# Function words and question words: they carry no topic, so they neither
# score in BM25 nor count as "key terms" a passage must cover.
STOPWORDS = frozenset(
    """的 了 和 与 及 或 是 在 有 为 对 从 把 被 由 等 中 上 下 个 这 那 其 之 也 都 而 并 以 于 将 要 会 能 可 还 就 又 吗 呢 吧 啊 呀 么 嘛
    什么 哪些 哪个 哪里 哪儿 哪家 哪 多少 几 几个 几家 如何 怎么 怎样 怎么样 为什么 为何 何时 何地 什么样 啥 谁 是否 有没有 是不是 是什么 有哪些
    比例 比重 百分比 占比 数量 数目 东西 名字 名称 内容 意思 样子 规模 程度 特点 啥时候 啥时 这个 那个 这些 那些 有个 一种 具体 真的 到底 究竟 有关 相关 涉及 跟 和 同 一共 总共 共 总计 合计 一起 大概 大约 目前 现在 已经 请问 请 告诉 一下 介绍 说说 讲讲 知道 里 方面 主要 相关 具体 情况 报告 提到 提及 根据 关于 所 一个 一些 哪一 我 你 我们 他们 它
    the a an of to in on for and or is are was were be been being by with as at from that this these those it its
    what which who whom whose when where why how many much does do did can could should would will about into than
    percentage proportion ratio amount number numbers among together bring brought get got make made also only very more most such other between within whether please tell me list name give report mentioned mention according there their they has have had any some""".split()
)

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
