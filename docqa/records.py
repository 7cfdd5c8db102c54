"""Typed records that cross module borders.

``Document`` and ``Chunk`` come out of ingest/, ``Hit`` out of retrieval,
``Citation`` and ``Answer`` out of the answerers.  ``Answer.to_dict()`` is the
answer contract the CLI (``--json``), the HTTP API, the UI and the eval share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SECTION_SEP = " > "  # how a section path is written in the answer contract ("第一章 > 1.1 概况")


@dataclass(frozen=True)
class Unit:
    """A clause of a sentence (or a figure line joined with its label) inside a chunk.

    ``start``/``end`` are character offsets in the document's cleaned text;
    ``text`` is what an answer shows (for a repaired statistic the label and
    figure joined in reading order, otherwise the source text itself);
    ``sentence`` identifies the sentence (its start offset): units sharing it
    are clauses of one sentence."""

    start: int
    end: int
    text: str
    sentence: int = -1

    @property
    def sentence_id(self) -> int:
        return self.sentence if self.sentence >= 0 else self.start


@dataclass
class Document:
    """A cleaned document: ``text`` is what every offset refers to."""

    doc_id: str
    path: str
    title: str
    text: str
    sha256: str
    kind: str
    page_starts: list[int] | None = None  # offset in ``text`` where each page begins
    raw_offsets: list[list[int]] = field(default_factory=list)  # runs: [clean_start, raw_start, length]
    meta: dict = field(default_factory=dict)
    # Laid-out documents (PDF): where runs of ``text`` sit on their pages,
    # [start, end, page, x0, top, x1, bottom, confidence] in PDF points from the
    # page's top-left corner (confidence < 1 for OCR'd text), and each page's size.
    boxes: list[list[float]] = field(default_factory=list)
    page_sizes: list[list[float]] = field(default_factory=list)

    def boxes_for(self, start: int, end: int) -> tuple[list[list[float]], float]:
        """Where ``text[start:end]`` is on its pages: ``[page, left, top, right,
        bottom]`` rectangles as fractions of the page's width and height (a box
        covering more characters than the span is cut in proportion), and the
        lowest recognition confidence among them (1.0 for a text layer)."""
        out: list[list[float]] = []
        confidence = 1.0
        for b_start, b_end, page, x0, top, x1, bottom, conf in self.boxes:
            if b_end <= start or b_start >= end or not 0 < page <= len(self.page_sizes):
                continue
            width, height = self.page_sizes[int(page) - 1]
            n = b_end - b_start
            left = x0 + (x1 - x0) * (max(start, b_start) - b_start) / n
            right = x0 + (x1 - x0) * (min(end, b_end) - b_start) / n
            out.append([int(page), *(round(v, 4) for v in (left / width, top / height, right / width, bottom / height))])
            confidence = min(confidence, conf)
        return out, confidence

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        page = 1
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i + 1
        return page


@dataclass
class Chunk:
    chunk_id: str
    doc: str
    title: str
    section_path: tuple[str, ...]  # the headings above the chunk, outermost first
    start: int
    end: int
    page: int | None
    text: str  # exactly the document's cleaned text[start:end]
    units: list[Unit]
    heading: str = ""  # the section headings given to the embedder with the text
    heading_span: list[int] | None = None  # [start, end] of the innermost heading's title in the document

    @property
    def section(self) -> str:
        """The section path as the answer contract writes it."""
        return SECTION_SEP.join(self.section_path)

    def embed_text(self) -> str:
        """What the embedder and BM25 see: headings, then the units in reading order."""
        return self.embed_layout()[0]

    def embed_layout(self) -> tuple[str, list[tuple[int, int]]]:
        """``embed_text()`` and the span of each unit inside it: clauses of a
        sentence run on, sentences go on separate lines."""
        text = f"{self.heading}\n" if self.heading else ""
        spans = []
        for i, u in enumerate(self.units):
            if i and u.sentence_id != self.units[i - 1].sentence_id:
                text += "\n"
            spans.append((len(text), len(text) + len(u.text)))
            text += u.text
        return text, spans

    def sentences(self) -> list[list[Unit]]:
        """The units grouped by sentence, in order."""
        groups: list[list[Unit]] = []
        for u in self.units:
            if groups and groups[-1][-1].sentence_id == u.sentence_id:
                groups[-1].append(u)
            else:
                groups.append([u])
        return groups

    def to_dict(self) -> dict:
        d = asdict(self)
        d["section_path"] = list(self.section_path)
        d["units"] = [[u.start, u.end, u.text, u.sentence_id] for u in self.units]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Chunk:
        d = dict(d)
        d["units"] = [Unit(*u) for u in d["units"]]
        if "section" in d:  # indexes written before the path was kept as a list
            d["section_path"] = d.pop("section").split(SECTION_SEP) if d.get("section") else []
        d["section_path"] = tuple(d["section_path"])
        return cls(**d)


@dataclass(frozen=True)
class SearchQuery:
    """What retrieval reads for a question: ``text`` is embedded; ``terms`` are
    BM25's (None: the segmenter's terms of ``text``).  An English question is
    searched with Chinese terms (see ``QuestionAnalyser.search_query``)."""

    text: str
    terms: tuple[str, ...] | None = None


@dataclass
class Hit:
    """A retrieved chunk with the evidence retrieval produced for it."""

    chunk: Chunk
    score: float  # fused (reciprocal rank fusion) score, higher is better
    dense: float  # cosine similarity between question and chunk
    lexical: float  # BM25 score (0 when BM25 did not return the chunk)
    rank: int = 0
    row: int = -1  # FAISS id, to reach per-chunk data kept beside the vectors
    unit_dense: list[float] = field(default_factory=list)  # cosine of the question with each unit


@dataclass
class Citation:
    n: int
    doc: str
    title: str
    section_path: tuple[str, ...]
    start: int
    end: int
    page: int | None
    quote: str
    # Laid-out documents: the quote's rectangles on its pages (see Document.boxes_for),
    # and whether any of it was recognised by OCR with low confidence.
    boxes: list[list[float]] = field(default_factory=list)
    low_confidence: bool = False

    @property
    def section(self) -> str:
        return SECTION_SEP.join(self.section_path)

    def to_dict(self) -> dict:
        d = asdict(self)
        del d["section_path"]
        return {"n": self.n, "doc": self.doc, "title": self.title, "section": self.section, **d}


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    passages: list[Hit]
    timings_ms: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"
    notice: str | None = None
    llm: dict | None = None  # LLM mode only: model, tokens, timings, the grounding guard's report
    confidence: float | None = None  # the answer selector's probability that the best evidence answers
    resolved_question: str = ""  # the standalone question answered (a follow-up rewritten); "" = question
    second_opinion: float | None = None  # the LLM's probability that the best evidence answers (DOCQA_CHECK=llm)

    def to_dict(self) -> dict:
        d = {
            "question": self.question,
            "resolved_question": self.resolved_question or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [
                {
                    "chunk_id": h.chunk.chunk_id,
                    "doc": h.chunk.doc,
                    "title": h.chunk.title,
                    "section": h.chunk.section,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "page": h.chunk.page,
                    "text": h.chunk.text,
                    "score": round(float(h.score), 6),
                }
                for h in self.passages
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "mode": self.mode,
            "notice": self.notice,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
        }
        if self.llm is not None:
            d["llm"] = self.llm
        if self.second_opinion is not None:
            d["second_opinion"] = round(self.second_opinion, 4)
        return d
