"""When a passage supports a sentence of an LLM's reply: the thresholds, the
passages given to the model and the quotes cut from them, and the scores that
compare a sentence with those quotes.

A sentence is compared with every clause and sentence of a passage: lexical
overlap (share of the sentence's character bigrams found in the candidate
quote) and semantic similarity (cosine of the sentence's vector with the
quote's), and every number it states must occur in the passages checked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields

import numpy as np

from docqa.errors import DocumentError
from docqa.llm import numbers
from docqa.records import Hit
from docqa.text import HAN_ALL

_KEEP = re.compile(rf"[{HAN_ALL}A-Za-z0-9]+")
MAX_QUOTE_CHARS = 360


@dataclass(frozen=True)
class GuardThresholds:
    """When a sentence counts as supported by a quote.  The semantic thresholds
    are calibrated per embedding model (its profile)."""

    lexical: float = 0.6  # share of the sentence's character bigrams in the quote: enough alone
    semantic: float | None = None  # cosine enough alone (None: semantic evidence only with overlap)
    mixed_lexical: float = 0.35  # … or this much overlap
    mixed_semantic: float | None = None  # … together with this cosine
    semantic_en: float | None = None  # an English sentence about Chinese passages shares no bigrams

    @classmethod
    def from_profile(cls, values: dict, where: str = "the model profile") -> GuardThresholds:
        """The ``[guard]`` table of a model profile (docqa/answer/profiles/);
        an empty one (an uncalibrated model) relies on lexical overlap alone."""
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise DocumentError(f"{where}: unknown guard setting(s) {', '.join(unknown)}")
        return cls(**values)


@dataclass
class Candidate:
    """A quote that may support a sentence: consecutive units of one passage."""

    passage: Passage
    first: int  # index of the first unit
    last: int  # index after the last unit
    start: int  # document offsets
    end: int
    quote: str  # exact document text[start:end]
    grams: set[str] = field(default_factory=set)
    values: set[float] = field(default_factory=set)  # the numbers it holds
    vec: np.ndarray | None = None


@dataclass
class Passage:
    """A retrieved passage given to the model as ``[n]``."""

    n: int
    hit: Hit

    @property
    def chunk(self):
        return self.hit.chunk

    def number_text(self) -> str:
        c = self.chunk
        return "\n".join((c.title, c.section, c.heading, c.text))

    def candidates(self) -> list[Candidate]:
        """Each unit, each sentence, and each pair of neighbouring sentences."""
        c = self.chunk
        units = c.units
        spans: set[tuple[int, int]] = {(i, i + 1) for i in range(len(units))}
        bounds = []
        i = 0
        for sent in c.sentences():
            bounds.append((i, i + len(sent)))
            i += len(sent)
        spans |= set(bounds)
        spans |= {(a[0], b[1]) for a, b in zip(bounds, bounds[1:])}
        out = []
        for first, last in sorted(spans):
            start, end = units[first].start, units[last - 1].end
            quote = c.text[start - c.start : end - c.start]
            if (last - first > 1 and len(quote) > MAX_QUOTE_CHARS) or not quote.strip():
                continue
            out.append(Candidate(self, first, last, start, end, quote, bigrams(quote), numbers.values(quote)))
        return out


def bigrams(text: str) -> set[str]:
    t = "".join(_KEEP.findall(unicodedata.normalize("NFKC", text).casefold()))
    if len(t) == 1:
        return {t}
    return {t[i : i + 2] for i in range(len(t) - 1)}


def ratio(t: GuardThresholds, lex: float, sem: float | None, english: bool) -> float:
    """≥ 1 when (lex, sem) is enough support; how far from it otherwise."""
    r = lex / t.lexical
    if sem is not None:
        alone = t.semantic_en if english and t.semantic_en is not None else t.semantic
        if alone is not None:
            r = max(r, sem / alone)
        if t.mixed_semantic is not None:
            r = max(r, min(lex / t.mixed_lexical, sem / t.mixed_semantic))
    return r


def best(t: GuardThresholds, grams: set[str], vec, claims, cands: list[Candidate], english: bool):
    """The candidate of one passage that best supports a sentence: (ratio, lex, candidate)."""
    top = None
    for c in cands:
        lex = len(grams & c.grams) / len(grams) if grams else 0.0
        sem = float(vec @ c.vec) if vec is not None and c.vec is not None else None
        r = ratio(t, lex, sem, english)
        held = sum(1 for cl in claims if cl.value in c.values) / len(claims) if claims else 0.0
        key = (min(r, 1.0) + 0.25 * held, r, -len(c.quote))
        if top is None or key > top[0]:
            top = (key, r, lex, c, sem)
    return top


def support(t: GuardThresholds, grams, vec, claims, group: list[Passage], cands, english: bool):
    """(supported, [chosen candidates], reason) for a sentence against a group of passages."""
    picks = [best(t, grams, vec, claims, cands[p.n], english) for p in group]
    picks = [b for b in picks if b is not None]
    if not picks:
        return False, [], "no passage to check against"
    have: set[float] = set()
    for p in group:
        have |= numbers.values(p.number_text())
    absent = [cl.surface for cl in claims if cl.value not in have]
    union = set().union(*(b[3].grams for b in picks))
    union_lex = len(grams & union) / len(grams) if grams else 0.0
    best_ratio = max(b[1] for b in picks)
    ok = best_ratio >= 1.0 or union_lex >= t.lexical
    top = max(picks, key=lambda b: b[1])
    chosen = [
        b[3]
        for b in sorted(picks, key=lambda b: -b[1])
        if b is top or b[1] >= 0.5 or any(cl.value in b[3].values for cl in claims)
    ]
    if absent:
        return False, chosen, f"number {', '.join(absent)} is not in passage {', '.join(f'[{p.n}]' for p in group)}"
    if not ok:
        return (
            False,
            chosen,
            f"not supported by passage {', '.join(f'[{p.n}]' for p in group)} "
            f"(overlap {max(union_lex, max(b[2] for b in picks)):.2f})",
        )
    return True, chosen, ""
