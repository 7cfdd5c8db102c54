"""The engine: question -> retrieval -> answer.  The CLI, UI, HTTP API and eval
are thin clients of ``Engine.ask``."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from docqa.answer.extractive import ExtractiveAnswerer
from docqa.crosslingual import pinyin_syllables
from docqa.errors import BadRequest
from docqa.question import Question, analyse, normalize, organisation_headings
from docqa.records import Answer, Hit
from docqa.index.embedder import Embedder
from docqa.index.retriever import HybridRetriever
from docqa.index.store import IndexData
from docqa.ingest.chunker import SECTION_SEP

MAX_TOP_K = 50
MODES = ("extractive", "llm")


@dataclass
class StreamEvent:
    """``kind`` is "delta" (``text`` is more of the answer) or "final"
    (``answer`` is the complete, checked Answer; show its citations now)."""

    kind: str
    text: str = ""
    answer: Answer | None = None


class Engine:
    def __init__(
        self,
        embedder: Embedder,
        index: IndexData,
        retriever: HybridRetriever,
        answerer: ExtractiveAnswerer,
        top_k: int = 5,
        max_question_chars: int = 1000,
        glossary=None,
        generator=None,
    ):
        self.embedder = embedder
        self.index = index
        self.retriever = retriever
        self.answerer = answerer
        self.top_k = top_k
        self.max_question_chars = max_question_chars
        self.glossary = glossary
        self.generator = generator  # the LLM answerer (docqa/llm), when one is configured
        self._organisations: list[tuple[str, ...]] | None = None

    def warmup(self) -> None:
        """Load what the first question would otherwise wait for: the model's
        first pass, jieba's dictionaries and the English glossary."""
        self.embedder.embed_queries(["预热 warm-up"])
        self.retriever.segmenter.coarse_words("预热")
        self.retriever.segmenter.tag("预热")
        _ = self.organisations
        if self.glossary is not None:
            self.glossary.lookup("warm-up")
            pinyin_syllables()  # pinyin names in English questions (a few seconds, once)

    def info(self) -> dict:
        return {
            "documents": len(self.index.docs),
            "chunks": len(self.index.chunks),
            "model": self.index.spec.model_id,
            "dim": self.index.spec.dim,
            "built_at": self.index.built_at,
            "generation": self.index.generation,
        }

    def check(self, question: object, top_k: object = None, mode: object = None) -> tuple[str, int, str]:
        """Validate a request; raise ``BadRequest`` with what to change."""
        if not isinstance(question, str):
            raise BadRequest("question must be a string")
        q = question.strip()
        if not q:
            raise BadRequest("question is empty; type a question about the documents")
        if len(q) > self.max_question_chars:
            raise BadRequest(f"question is {len(q)} characters long; the limit is {self.max_question_chars}")
        k = self.top_k if top_k is None else top_k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_TOP_K:
            raise BadRequest(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}")
        m = mode or "extractive"
        if m not in MODES:
            raise BadRequest(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if m == "llm" and self.generator is None:
            raise BadRequest("LLM mode is not configured; set DOCQA_LLM_BASE_URL and DOCQA_LLM_MODEL")
        return q, k, m

    def stream(self, question: str, top_k: int | None = None, mode: str | None = None) -> Iterator[StreamEvent]:
        """The answer as it is produced: "delta" events, then one "final" event
        with the complete, checked answer (citations are final only then)."""
        q, k, m = self.check(question, top_k, mode)
        t0 = time.perf_counter()
        qvec = self.embedder.embed_queries([q])[0]
        t1 = time.perf_counter()
        hits = self.retriever.search(q, qvec, k)
        t2 = time.perf_counter()
        analysed = self._analyse(q, hits)
        notice = llm = None
        if m == "llm":
            result = None
            for kind, payload in self.generator.generate(analysed, hits):
                if kind == "delta":
                    yield StreamEvent("delta", text=payload)
                else:
                    result = payload
            text, refused, citations, notice = result.text, result.refused, result.citations, result.notice
            llm = getattr(result, "llm", None)  # model, tokens, what the grounding guard changed
        else:
            text, refused, citations, _ = self.answerer.answer(analysed, hits)
            yield StreamEvent("delta", text=text)
        for c in citations:
            doc = self.index.docs.get(c.doc)
            if doc is not None:
                c.page = doc.page_at(c.start)
        t3 = time.perf_counter()
        answer = Answer(
            question=q,
            answer=text,
            refused=refused,
            citations=citations,
            passages=hits,
            timings_ms={"embed": (t1 - t0) * 1e3, "search": (t2 - t1) * 1e3, "answer": (t3 - t2) * 1e3},
            mode=m,
            notice=notice,
            llm=llm,
        )
        yield StreamEvent("final", answer=answer)

    @property
    def organisations(self) -> list[tuple[str, ...]]:
        """The organisations heading sections of the indexed documents."""
        if self._organisations is None:
            titles = (t for c in self.index.chunks.values() if c.section for t in c.section.split(SECTION_SEP))
            self._organisations = organisation_headings(titles, self.retriever.segmenter)
        return self._organisations

    def _analyse(self, question: str, hits: list[Hit]) -> Question:
        contexts = [normalize(h.chunk.heading + h.chunk.embed_text()) for h in hits]
        return analyse(
            question, self.retriever.segmenter, self.retriever.bm25.df.__contains__, contexts, self.glossary, self.organisations
        )

    def inspect(self, question: str, top_k: int | None = None) -> tuple[Question, list[Hit]]:
        """What the answerers see for a question: its analysis and the ranked
        passages (for calibration and for explaining an answer)."""
        q, k, _ = self.check(question, top_k)
        hits = self.retriever.search(q, self.embedder.embed_queries([q])[0], k)
        return self._analyse(q, hits), hits

    def ask(self, question: str, top_k: int | None = None, mode: str | None = None) -> Answer:
        """The complete answer (see ``stream`` for the same, as it is produced)."""
        for event in self.stream(question, top_k=top_k, mode=mode):
            if event.kind == "final":
                return event.answer
        raise RuntimeError("the answer stream ended without a final answer")  # pragma: no cover
