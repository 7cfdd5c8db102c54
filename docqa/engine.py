"""The engine: question -> retrieval -> answer.  The CLI, UI, HTTP API and eval
are thin clients of ``Engine.ask`` / ``Engine.stream``.

It holds its collaborators (embedder, index, retriever, question analyser and
one answerer per mode) and knows nothing of how any of them works: every
answerer implements ``docqa.answer.base.Answerer``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from docqa.answer.analyser import QuestionAnalyser
from docqa.answer.base import Answerer, Delta, Final
from docqa.collection import Collection
from docqa.conversation import Resolution, Turn, parse_history
from docqa.conversation.base import Rewriter, Standalone
from docqa.errors import BadRequest, NotFound
from docqa.index.embedder import Embedder
from docqa.index.retriever import HybridRetriever
from docqa.index.store import IndexData
from docqa.ingest.pages import LOW_CONFIDENCE
from docqa.ingest.render import PageImages, highlight
from docqa.question import Question, normalize
from docqa.question.comparison import Comparison, comparison
from docqa.records import Answer, Chunk, Citation, Hit
from docqa.text import CITATION_MARKER

MAX_TOP_K = 50
MODES = ("extractive", "llm")
NOT_CONFIGURED = {"llm": "LLM mode is not configured; set DOCQA_LLM_BASE_URL and DOCQA_LLM_MODEL"}


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
        analyser: QuestionAnalyser,
        answerers: Mapping[str, Answerer],
        default_mode: str = "extractive",
        top_k: int = 5,
        max_question_chars: int = 1000,
        min_confidence: float | None = None,
        page_images: PageImages | None = None,
        rewriters: Mapping[str, Rewriter] | None = None,
    ):
        if default_mode not in answerers:
            raise BadRequest(NOT_CONFIGURED.get(default_mode, f"no answerer for mode {default_mode!r}"))
        self.embedder = embedder
        self.index = index
        self.retriever = retriever
        self.analyser = analyser
        self.answerers = dict(answerers)
        self.default_mode = default_mode
        self.top_k = top_k
        self.max_question_chars = max_question_chars
        self.min_confidence = min_confidence  # None: the answer selector's trained threshold
        self.page_images = page_images or PageImages()
        # follow-up resolution per answer mode; a mode without one uses the extractive one's
        self.rewriters = dict(rewriters or {})

    @property
    def collection(self) -> Collection:
        """The indexed collection's title, example questions and refusal wording."""
        return self.index.collection

    @property
    def modes(self) -> list[str]:
        """The answer modes this engine can use (the default first)."""
        return [self.default_mode] + [m for m in self.answerers if m != self.default_mode]

    def passages(self) -> Iterable[tuple[int, Chunk]]:
        """Every indexed passage with its id (what ``exclude`` takes)."""
        return self.index.chunks.items()

    def warmup(self) -> None:
        """Load what the first question would otherwise wait for."""
        self.embedder.embed_queries(["预热 warm-up"])
        self.analyser.warmup()
        for answerer in self.answerers.values():
            getattr(answerer, "warmup", lambda: None)()

    def page_image(self, doc: str, page: int, boxes: Sequence[tuple[float, float, float, float]] = ()) -> bytes:
        """Page ``page`` of an indexed PDF as PNG bytes, with ``boxes`` (a
        citation's, without the page number) highlighted; ``NotFound`` for
        anything that is not a page of an indexed PDF."""
        d = self.index.docs.get(doc)
        if d is None:
            raise NotFound(f"no indexed document {doc!r}; use a citation's doc field")
        if d.meta.get("format") != "pdf" or not d.page_starts:
            raise NotFound(f"{d.title!r} is not a PDF; its citations have no page image")
        if not isinstance(page, int) or not 1 <= page <= len(d.page_starts):
            raise NotFound(f"{d.title!r} has pages 1 to {len(d.page_starts)}, not {page}")
        for box in boxes:
            if len(box) != 4 or not all(0.0 <= v <= 1.0 for v in box):
                raise BadRequest(f"a box is four fractions of the page (left, top, right, bottom), got {list(box)}")
        return highlight(self.page_images.png(Path(d.path), d.sha256, page), list(boxes))

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
        """Validate a request; raise ``BadRequest`` with what to change.
        ``top_k`` and ``mode`` default to the engine's settings."""
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
        m = mode or self.default_mode
        if m not in MODES:
            raise BadRequest(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if m not in self.answerers:
            raise BadRequest(NOT_CONFIGURED.get(m, f"mode {m!r} is not configured"))
        return q, k, m

    def resolve(self, question: str, history: object = (), mode: str | None = None) -> Resolution:
        """The standalone question a follow-up asks, given the earlier turns
        (``Turn``s or ``{"role", "content"}`` dicts, oldest first)."""
        q, _, m = self.check(question, None, mode)
        turns = parse_history(history)
        if not turns:
            return Resolution(q, q)
        rewriter = self.rewriters.get(m) or self.rewriters.get("extractive") or Standalone()
        return rewriter.rewrite(q, turns)

    def stream(
        self,
        question: str,
        top_k: int | None = None,
        mode: str | None = None,
        exclude: frozenset[int] = frozenset(),
        min_confidence: float | None = None,
        history: Sequence[Turn] | object = (),
    ) -> Iterator[StreamEvent]:
        """The answer as it is produced: "delta" events, then one "final" event
        with the complete, checked answer (citations are final only then).
        ``exclude`` names passages to answer without, as if they were not
        indexed (see ``passages``; the eval's negatives use it);
        ``min_confidence`` (0 to 1) overrides the answer selector's threshold
        (default: the engine's, itself the trained one unless set).
        ``history`` holds the conversation's earlier turns, oldest first: a
        follow-up is answered as the standalone question it asks
        (``Answer.resolved_question``) — one that names nothing and is refused
        as it stands, as read in the conversation's context
        (``Resolution.fallback``)."""
        q, k, m = self.check(question, top_k, mode)
        min_confidence = self.min_confidence if min_confidence is None else min_confidence
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise BadRequest(f"min_confidence must be from 0 to 1, got {min_confidence!r}")
        t_resolve = time.perf_counter()
        resolution = self.resolve(q, history, m)
        compared = comparison(resolution.resolved) if m == "extractive" else None
        if compared is not None:

            def ask(r: Resolution) -> Answer:
                return next(e.answer for e in self._attempt(r, k, m, exclude, min_confidence, t_resolve) if e.answer)

            yield from _compare(resolution, compared, ask)
            return
        if resolution.fallback is None:
            yield from self._attempt(resolution, k, m, exclude, min_confidence, t_resolve)
            return
        # A follow-up that may lean on the conversation: asked as it stands first;
        # refused, or (an exclusive reading) answered from text not about the
        # topic organisation, it is asked as read in the conversation's context.
        # A refusal and an extractive answer stream at most one delta, so an
        # answer that streams a second one (an LLM's) streams on unchecked.
        held: list[StreamEvent] = []
        attempt = self._attempt(resolution, k, m, exclude, min_confidence, t_resolve)
        for event in attempt:
            held.append(event)
            if event.kind == "final" or len(held) > 1:
                break
        last = held[-1].answer if held[-1].kind == "final" else None
        fallback = resolution.fallback
        if last is None or not (last.refused or fallback.exclusive and _elsewhere(last, fallback.carried)):
            yield from held
            yield from attempt
            return
        yield from self._attempt(fallback, k, m, exclude, min_confidence, t_resolve)

    def _attempt(
        self,
        resolution: Resolution,
        k: int,
        m: str,
        exclude: frozenset[int],
        min_confidence: float | None,
        t_resolve: float,
    ) -> Iterator[StreamEvent]:
        """Retrieval and the answer for one reading of the question (``stream``)."""
        q = resolution.resolved
        query = self.analyser.search_query(q, resolution.carried)  # counted with "resolve": what to search for
        t0 = time.perf_counter()
        qvec = self.embedder.embed_queries([query.text])[0]
        t1 = time.perf_counter()
        hits = self.retriever.search(query.text, qvec, k, exclude, query.terms)
        t2 = time.perf_counter()
        analysed = self.analyser.analyse(q, hits, resolution.carried, resolution.swapped)
        final: Final | None = None
        refusal = self.collection.refusal_for(analysed.lang)
        for event in self.answerers[m].answer(analysed, hits, refusal, min_confidence):
            if isinstance(event, Delta):
                yield StreamEvent("delta", text=event.text)
            else:
                final = event
        if final is None:  # pragma: no cover - an answerer broke its contract
            raise RuntimeError(f"the {m} answerer ended without a final answer")
        for c in final.citations:
            doc = self.index.docs.get(c.doc)
            if doc is not None:
                c.page = doc.page_at(c.start)
                c.boxes, confidence = doc.boxes_for(c.start, c.end)
                c.low_confidence = confidence < LOW_CONFIDENCE
        t3 = time.perf_counter()
        answer = Answer(
            question=resolution.question,
            resolved_question=q,
            answer=final.text,
            refused=final.refused,
            citations=final.citations,
            passages=hits,
            timings_ms={
                "resolve": (t0 - t_resolve) * 1e3,  # a reading refused before this one included
                "embed": (t1 - t0) * 1e3,
                "search": (t2 - t1) * 1e3,
                "answer": (t3 - t2) * 1e3,
            },
            mode=m,
            notice=final.notice,
            llm=final.llm,
            confidence=final.confidence,
            second_opinion=final.second_opinion,
        )
        yield StreamEvent("final", answer=answer)

    def inspect(
        self, question: str, top_k: int | None = None, exclude: frozenset[int] = frozenset()
    ) -> tuple[Question, list[Hit]]:
        """What the answerers see for a question: its analysis and the ranked
        passages (for calibration, training and explaining an answer)."""
        q, k, _ = self.check(question, top_k)
        query = self.analyser.search_query(q)
        hits = self.retriever.search(query.text, self.embedder.embed_queries([query.text])[0], k, exclude, query.terms)
        return self.analyser.analyse(q, hits), hits

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        mode: str | None = None,
        exclude: frozenset[int] = frozenset(),
        min_confidence: float | None = None,
        history: Sequence[Turn] | object = (),
    ) -> Answer:
        """The complete answer (see ``stream`` for the same, as it is produced)."""
        for event in self.stream(question, top_k, mode, exclude, min_confidence, history):
            if event.kind == "final" and event.answer is not None:
                return event.answer
        raise RuntimeError("the answer stream ended without a final answer")  # pragma: no cover


def _compare(resolution: Resolution, compared: Comparison, ask: Callable[[Resolution], Answer]) -> Iterator[StreamEvent]:
    """A comparison (docqa/question/comparison.py): answered as asked (``ask``)
    when the answer names every thing compared; else each thing is asked about
    on its own, and the answer is theirs together — or the refusal, when the
    documents do not give the fact for one of them."""
    whole = ask(resolution)
    if not whole.refused and compared.names_all(whole.answer + "".join(c.section for c in whole.citations)):
        parts = [whole]
    else:
        parts = [
            ask(Resolution(resolution.question, part, (item,), "comparison"))
            for item, part in zip(compared.items, compared.parts)
        ]
    answer = _together(parts, resolution)
    asked = [whole, *parts] if parts[0] is not whole else parts
    timings = {key: sum(a.timings_ms.get(key, 0.0) for a in asked) for key in whole.timings_ms}
    timings["resolve"] = whole.timings_ms.get("resolve", 0.0)  # each attempt's counts from the start
    answer = replace(answer, timings_ms=timings)
    missing = [item for item, a in zip(compared.items, parts) if a.refused] if len(parts) > 1 else []
    if missing:
        answer = replace(answer, notice=compared.missing(missing))
    if answer.answer and not answer.refused:
        yield StreamEvent("delta", text=answer.answer)
    yield StreamEvent("final", answer=answer)


def _renumbered(text: str, offset: int, cited: set[int]) -> str:
    """``text`` with its citation markers [n] moved on by ``offset``: only the
    ``cited`` ones, so a quote's own [3] (a footnote) stays as the document has it."""

    def moved(mk: re.Match[str]) -> str:
        n = int(mk.group(1))
        return f"[{n + offset}]" if n in cited else mk.group()

    return CITATION_MARKER.sub(moved, text)


def _together(parts: list[Answer], resolution: Resolution) -> Answer:
    """The answers to a comparison's parts as one answer to the comparison
    (citations renumbered in order), or the first part's refusal."""
    refused = next((a for a in parts if a.refused), None)
    first = refused or parts[0]
    if refused is not None or len(parts) == 1:
        return replace(first, question=resolution.question, resolved_question=resolution.resolved)
    texts: list[str] = []
    citations: list[Citation] = []
    for a in parts:
        offset = len(citations)
        texts.append(_renumbered(a.answer, offset, {c.n for c in a.citations}))
        citations += [replace(c, n=c.n + offset) for c in a.citations]
    passages = list({h.chunk.chunk_id: h for a in parts for h in a.passages}.values())  # each passage once
    confidence = min((a.confidence for a in parts if a.confidence is not None), default=None)
    return replace(
        first,
        question=resolution.question,
        resolved_question=resolution.resolved,
        answer=" ".join(texts),
        citations=citations,
        passages=passages,
        confidence=confidence,
    )


def _elsewhere(answer: Answer, topic: Sequence[str]) -> bool:
    """Is ``answer`` quoted from text that is not about the conversation's
    topic entity (no cited section or quote names it)?  A follow-up that names
    nothing, answered so, took another entity's fact for the topic's."""
    names = [normalize(t) for t in topic]
    where = [normalize(f"{c.section}\n{c.quote}") for c in answer.citations]
    return bool(names and where) and not any(n in w for n in names for w in where)
