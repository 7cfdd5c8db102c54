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
4. a sentence its citations do not support, but one other given passage does,
   is re-cited to that passage (small models often cite the wrong number);
   otherwise it is removed and counted, with the reason.

Each kept sentence cites the quote (exact document text, with offsets) that
best supports it; citations are numbered [1..m] in order of appearance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from docqa.errors import DocumentError
from docqa.llm import numbers
from docqa.records import Citation, Hit
from docqa.text import CLOSING, HAN_ALL, HAN_EXT, SENTENCE_MARKS, sentence_spans

_MARKER = re.compile(r"[\[［【]\s*(?:passages?|资料|段落|来源)?\s*(\d{1,3}(?:\s*[,，、\-–~]\s*\d{1,3})*)\s*[\]］】]", re.I)
_BULLET = re.compile(r"(?m)^[ \t]*(?:\d{1,2}[.、)）](?!\d)|[-*•·]|#+)[ \t]*")
# A reply's sentence ends at a run of end marks, a full stop that is no decimal
# point, or line breaks; closing quotes and its [n] markers stay with it.
_END = re.compile(rf"(?:[{SENTENCE_MARKS}]+|\.(?!\d)|\n+)(?:[ \t]*[{CLOSING}\"']|[ \t]*{_MARKER.pattern})*", re.I)
_TERMINATOR = re.compile(r"[。！？!?；;.，,：:、\s]+$")
_CONTENT = re.compile(rf"[{HAN_ALL}]|[A-Za-z0-9]{{2,}}")
_KEEP = re.compile(rf"[{HAN_ALL}A-Za-z0-9]+")
_HAN = re.compile(f"[{HAN_EXT}]")
MAX_QUOTE_CHARS = 360
# References to the passages themselves ("根据资料中的第3段", "according to passage 2",
# "(Passage 2)"): not claims, and their numbers would be wrong once citations are renumbered.
_META = re.compile(
    r"(?:根据|依据|参考|据|见|如)?(?:以上|上述)?(?:资料|段落|材料)?\s*(?:中的?)?\s*第\s*\d+\s*段(?:资料|段落)?(?:中的?)?(?:的)?(?:描述|内容|信息|所述|记载|所示)?[，,：:]?"
    r"|(?:根据|依据|参考|据|见|如)(?:以上|上述)?(?:资料|段落|材料)\s*[\[［【]\s*\d+\s*[\]］】]\s*(?:中的?)?(?:的)?(?:描述|内容|信息|所述|记载|所示)?[，,：:]?"
    r"|^(?:根据|依据)(?:以上|上述)?(?:资料|段落|材料)(?:中的?)?(?:描述|内容|信息)?[，,：:]"
    r"|(?:according to|as stated in|based on|as shown in|see) (?:the )?passages? ?\[?\d+\]?,? ?"
    r"|\s*[（(]\s*(?:passages?|sources?|资料|段落|来源)\s*\d{1,3}(?:\s*(?:[,，、]|and)\s*\d{1,3})*\s*[）)]",
    re.I,
)


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
    fallback: str | None = None  # why the extractive answer was shown instead
    support: list[dict] = field(default_factory=list)  # per sentence: best overlap and cosine, verdict

    @property
    def changed(self) -> bool:
        """Did the guard remove or correct anything the model wrote?"""
        return bool(self.removed or self.dropped_markers or self.recited or self.fallback)

    def to_dict(self) -> dict:
        return {
            "sentences": self.sentences,
            "kept": self.kept,
            "removed": [{"text": r.text, "reason": r.reason} for r in self.removed],
            "dropped_markers": self.dropped_markers,
            "recited": self.recited,
            "fallback": self.fallback,
            "changed": self.changed,
            "support": self.support,
        }


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    report: GuardReport


def bigrams(text: str) -> set[str]:
    t = "".join(_KEEP.findall(unicodedata.normalize("NFKC", text).casefold()))
    if len(t) == 1:
        return {t}
    return {t[i : i + 2] for i in range(len(t) - 1)}


def markers(text: str) -> list[int]:
    out: list[int] = []
    for m in _MARKER.finditer(text):
        for part in re.split(r"\s*[,，、]\s*", m.group(1)):
            if re.search(r"[\-–~]", part):
                a, b = (int(x) for x in re.split(r"\s*[\-–~]\s*", part)[:2])
                out.extend(range(a, b + 1) if 0 < b - a < 10 else [a, b])
            else:
                out.append(int(part))
    return out


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """The reply's sentences, each with the markers that follow it, and
    whether a line break ended it."""
    text = _BULLET.sub("", text.replace("**", "").replace("__", ""))
    out: list[tuple[str, bool]] = []
    for start, end in sentence_spans(text, _END):
        piece = text[start:end]
        if piece.strip():
            out.append((piece.strip(), "\n" in piece))
        elif out and "\n" in piece:
            out[-1] = (out[-1][0], True)
    return out


def _body(sentence: str) -> tuple[str, str]:
    """The sentence without markers (or references to passages), and its closing punctuation."""
    body = _MARKER.sub("", _META.sub("", sentence.strip())).strip()
    m = _TERMINATOR.search(body)
    end = m.group().strip() if m else ""
    body = body[: m.start()] if m else body
    closing = end[-1] if end and end[-1] in "。！？!?.；;" else ""
    return body.strip(), closing


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

    # -- scoring -------------------------------------------------------------
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

    def _ratio(self, lex: float, sem: float | None, english: bool) -> float:
        """≥ 1 when (lex, sem) is enough support; how far from it otherwise."""
        t = self.t
        r = lex / t.lexical
        if sem is not None:
            alone = t.semantic_en if english and t.semantic_en is not None else t.semantic
            if alone is not None:
                r = max(r, sem / alone)
            if t.mixed_semantic is not None:
                r = max(r, min(lex / t.mixed_lexical, sem / t.mixed_semantic))
        return r

    def _best(self, grams: set[str], vec, claims, cands: list[Candidate], english: bool):
        """The candidate of one passage that best supports a sentence: (ratio, lex, candidate)."""
        best = None
        for c in cands:
            lex = len(grams & c.grams) / len(grams) if grams else 0.0
            sem = float(vec @ c.vec) if vec is not None and c.vec is not None else None
            ratio = self._ratio(lex, sem, english)
            held = sum(1 for cl in claims if cl.value in c.values) / len(claims) if claims else 0.0
            key = (min(ratio, 1.0) + 0.25 * held, ratio, -len(c.quote))
            if best is None or key > best[0]:
                best = (key, ratio, lex, c, sem)
        return best

    def _support(self, grams, vec, claims, group: list[Passage], cands, english: bool):
        """(supported, [chosen candidates], reason) for a sentence against a group of passages."""
        picks = [self._best(grams, vec, claims, cands[p.n], english) for p in group]
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
        ok = best_ratio >= 1.0 or union_lex >= self.t.lexical
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

    # -- the check -----------------------------------------------------------
    def check(self, reply: str, passages: list[Passage], lang: str = "zh") -> Checked:
        report = GuardReport()
        given = {p.n: p for p in passages}
        sentences = []
        for raw, newline in split_sentences(reply):
            body, closing = _body(raw)
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
        for (raw, body, closing, newline, cited, wrong), vec in zip(sentences, vecs):
            grams = bigrams(body)
            claims = numbers.claims(body)
            english = lang == "en" or not _HAN.search(body)
            reason = f"cites {', '.join(f'[{n}]' for n in wrong)}, which was not given" if wrong else "no citation"
            tops = [self._best(grams, vec, claims, cands[p.n], english) for p in passages]
            top = max((t for t in tops if t is not None), key=lambda t: t[1], default=None)
            record = {"cited": cited, "lex": round(top[2], 3) if top else None,
                      "sem": round(top[4], 3) if top and top[4] is not None else None}  # fmt: skip
            report.support.append(record)
            if cited:
                ok, chosen, reason = self._support(grams, vec, claims, [given[n] for n in cited], cands, english)
                if ok:
                    kept.append((body, closing, newline, chosen))
                    record["verdict"] = "kept"
                    continue
            # Re-cite: the single given passage that supports the sentence best, if one does.
            options = []
            for p in passages:
                ok, chosen, _ = self._support(grams, vec, claims, [p], cands, english)
                if ok:
                    b = self._best(grams, vec, claims, cands[p.n], english)
                    options.append((b[1], -p.n, chosen))
            if options:
                kept.append((body, closing, newline, max(options)[2]))
                report.recited += 1
                record["verdict"] = "recited"
            else:
                report.removed.append(Removed(_MARKER.sub("", raw).strip(), reason))
                record["verdict"] = "removed"
        report.kept = len(kept)
        text, citations = self._compose(kept, lang)
        return Checked(text, citations, report)

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
