"""The grounding guard: what an LLM wrote is kept only where the passages it
was given support it, checked in code after generation.

For each sentence of the reply:

1. its ``[n]`` markers are read; a number that names no given passage is
   dropped (and counted);
2. the sentence is compared with every clause and sentence of each passage it
   cites: lexical overlap (share of the sentence's character bigrams found in
   the candidate quote) and semantic similarity (cosine of the sentence's
   vector with the quote's late-chunked clause vectors, from the engine's
   embedder);
3. every number it states (``numbers.claims``: 1.2万 = 12,000, 三家 = 3) must
   occur in a passage it cites;
4. a sentence that repeats an earlier one word for word is left out (counted
   apart: it is no unsupported claim);
5. a sentence its citations do not support, but one other given passage does,
   is re-cited to that passage (small models often cite the wrong number), and
   so is one its citations support only in meaning while another given passage
   holds its words; otherwise it is removed and counted, with the reason.

Each kept sentence cites the quote (exact document text, with offsets) that
best supports it; citations are numbered [1..m] in order of appearance.

The reply is read in ``reply.py``; whether a passage supports a sentence is
decided in ``support.py``.  This module checks a reply sentence by sentence
and writes what is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from docqa.llm import numbers
from docqa.llm.reply import MARKER, markers, sentence_body, split_sentences
from docqa.llm.support import MAX_QUOTE_CHARS, Candidate, GuardThresholds, Passage, best, bigrams, support
from docqa.records import Citation, Hit
from docqa.text import HAN_ALL, HAN_EXT, normalize

# Names other modules import from here.
__all__ = [
    "MAX_QUOTE_CHARS",
    "Candidate",
    "Checked",
    "Guard",
    "GuardReport",
    "GuardThresholds",
    "Passage",
    "Removed",
    "bigrams",
    "markers",
    "split_sentences",
]

_CONTENT = re.compile(rf"[{HAN_ALL}]|[A-Za-z0-9]{{2,}}")
_HAN = re.compile(f"[{HAN_EXT}]")


@dataclass
class Removed:
    text: str
    reason: str


@dataclass
class GuardReport:
    """What the guard changed in one reply (exposed in the answer as ``llm.guard``)."""

    sentences: int = 0
    kept: int = 0
    removed: list[Removed] = field(default_factory=list)
    dropped_markers: list[int] = field(default_factory=list)  # [n] naming no given passage
    recited: int = 0  # sentences re-cited to the passage that supports them
    repeated: int = 0  # sentences that repeat an earlier one word for word, left out
    fallback: str | None = None  # why the extractive answer was shown instead
    support: list[dict] = field(default_factory=list)  # per sentence: best overlap and cosine, verdict

    @property
    def changed(self) -> bool:
        """Did the guard remove or correct anything the model wrote?"""
        return bool(self.removed or self.dropped_markers or self.recited or self.repeated or self.fallback)

    def to_dict(self) -> dict:
        return {
            "sentences": self.sentences,
            "kept": self.kept,
            "removed": [{"text": r.text, "reason": r.reason} for r in self.removed],
            "dropped_markers": self.dropped_markers,
            "recited": self.recited,
            "repeated": self.repeated,
            "fallback": self.fallback,
            "changed": self.changed,
            "support": self.support,
        }


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    report: GuardReport


class Guard:
    def __init__(
        self,
        embedder,
        thresholds: GuardThresholds | None = None,
        unit_vectors: Callable[[Hit], np.ndarray | None] | None = None,
    ):
        self.embedder = embedder
        self.t = thresholds or GuardThresholds()
        self.unit_vectors = unit_vectors or (lambda hit: None)

    @property
    def semantic(self) -> bool:
        return self.t.semantic is not None or self.t.mixed_semantic is not None or self.t.semantic_en is not None

    # -- vectors -------------------------------------------------------------
    def _vectors(self, passages: list[Passage], cands: dict[int, list[Candidate]]) -> None:
        """Give every candidate a vector: the length-weighted mean of its units'."""
        missing = []
        per: dict[int, np.ndarray] = {}
        for p in passages:
            v = self.unit_vectors(p.hit)
            if v is not None and len(v) == len(p.chunk.units):
                per[p.n] = np.asarray(v, dtype=np.float32)
            else:
                missing.append(p)
        if missing:
            texts = [u.text for p in missing for u in p.chunk.units]
            vecs = np.asarray(self.embedder.embed_passages(texts) if texts else np.empty((0, 0)), dtype=np.float32)
            i = 0
            for p in missing:
                k = len(p.chunk.units)
                per[p.n] = vecs[i : i + k]
                i += k
        for p in passages:
            units = p.chunk.units
            for c in cands[p.n]:
                w = np.array([max(1, u.end - u.start) for u in units[c.first : c.last]], dtype=np.float32)
                v = (per[p.n][c.first : c.last] * w[:, None]).sum(axis=0)
                n = np.linalg.norm(v)
                c.vec = v / n if n else v

    # -- the check -----------------------------------------------------------
    def check(self, reply: str, passages: list[Passage], lang: str = "zh") -> Checked:
        report = GuardReport()
        given = {p.n: p for p in passages}
        sentences = []
        for raw, newline in split_sentences(reply):
            body, closing = sentence_body(raw)
            if not _CONTENT.search(body):
                continue  # a stray marker or punctuation
            cited, wrong = [], []
            for n in markers(raw):
                if n in given:
                    if n not in cited:
                        cited.append(n)
                else:
                    wrong.append(n)
            report.dropped_markers.extend(wrong)
            sentences.append((raw, body, closing, newline, cited, wrong))
        report.sentences = len(sentences)
        if not sentences:
            return Checked("", [], report)

        cands = {p.n: p.candidates() for p in passages}
        vecs: list = [None] * len(sentences)
        if self.semantic:
            self._vectors(passages, cands)
            vecs = list(np.asarray(self.embedder.embed_queries([s[1] for s in sentences]), dtype=np.float32))

        kept = []  # (body, closing, newline, [candidates])
        said: set[str] = set()
        for (raw, body, closing, newline, cited, wrong), vec in zip(sentences, vecs):
            same = normalize(body).strip("。.；;，,")  # the body is already without its markers
            if same in said:  # a small model sometimes writes its sentence twice: nothing unsupported
                report.repeated += 1
                report.support.append({"cited": cited, "lex": None, "sem": None, "verdict": "repeated"})
                continue
            said.add(same)
            grams = bigrams(body)
            claims = numbers.claims(body)
            english = lang == "en" or not _HAN.search(body)
            reason = f"cites {', '.join(f'[{n}]' for n in wrong)}, which was not given" if wrong else "no citation"
            tops = [best(self.t, grams, vec, claims, cands[p.n], english) for p in passages]
            top = max((t for t in tops if t is not None), key=lambda t: t[1], default=None)
            record = {"cited": cited, "lex": round(top[2], 3) if top else None,
                      "sem": round(top[4], 3) if top and top[4] is not None else None}  # fmt: skip
            report.support.append(record)
            if cited:
                ok, chosen, reason = support(self.t, grams, vec, claims, [given[n] for n in cited], cands, english)
                if ok:
                    # Cited passages that resemble it only in meaning give way to one holding its words.
                    holder = self._holder(tops, passages, cited)
                    moved, there, _ = (
                        support(self.t, grams, vec, claims, [holder], cands, english) if holder else (False, [], "")
                    )
                    report.recited += moved
                    kept.append((body, closing, newline, there if moved else chosen))
                    record["verdict"] = "recited" if moved else "kept"
                    continue
            # Re-cite: the single given passage that supports the sentence best, if one does.
            options = []
            for p in passages:
                ok, chosen, _ = support(self.t, grams, vec, claims, [p], cands, english)
                if ok:
                    b = best(self.t, grams, vec, claims, cands[p.n], english)
                    options.append((b[1], -p.n, chosen))
            if options:
                kept.append((body, closing, newline, max(options)[2]))
                report.recited += 1
                record["verdict"] = "recited"
            else:
                report.removed.append(Removed(MARKER.sub("", raw).strip(), reason))
                record["verdict"] = "removed"
        report.kept = len(kept)
        text, citations = self._compose(kept, lang)
        return Checked(text, citations, report)

    def _holder(self, tops: list, passages: list[Passage], cited: list[int]) -> Passage | None:
        """The given passage that holds a sentence's words (overlap that is enough
        alone) when the passages it cites do not come near (below the overlap
        that needs a cosine beside it): their support is a resemblance in meaning,
        and a cosine of 0.92 also joins two sentences about one bridge."""
        cited_lex = max((t[2] for t, p in zip(tops, passages) if t and p.n in cited), default=0.0)
        others = [(t[2], p) for t, p in zip(tops, passages) if t and p.n not in cited]
        lex, holder = max(others, key=lambda o: o[0], default=(0.0, None))
        return holder if cited_lex < self.t.mixed_lexical and lex >= self.t.lexical else None

    @staticmethod
    def _compose(kept, lang: str) -> tuple[str, list[Citation]]:
        citations: list[Citation] = []
        number: dict[tuple, int] = {}
        parts = []
        for i, (body, closing, newline, chosen) in enumerate(kept):
            marks = ""
            for c in sorted(chosen, key=lambda c: (c.passage.n, c.start)):
                key = (c.passage.chunk.doc, c.start, c.end)
                if key not in number:
                    ch = c.passage.chunk
                    citations.append(
                        Citation(len(citations) + 1, ch.doc, ch.title, ch.section_path, c.start, c.end, ch.page, c.quote)
                    )
                    number[key] = len(citations)
                if f"[{number[key]}]" not in marks:
                    marks += f"[{number[key]}]"
            closing = closing or ("。" if lang == "zh" and _HAN.search(body) else ".")
            sep = "" if i == len(kept) - 1 else ("\n" if newline else ("" if closing in "。！？；" else " "))
            parts.append(f"{body}{marks}{closing}{sep}")
        return "".join(parts), citations
