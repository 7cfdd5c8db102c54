"""LLM answers: the engine's ``generator`` for ``mode="llm"``.

``LLMGenerator`` implements the ``Answerer`` interface (docqa/answer/base.py):

1. Whether to answer is decided from retrieval evidence, as in extractive
   mode: ``ExtractiveAnswerer.extract`` runs first, and when it abstains the
   answer is the same refusal, without asking the model.
2. Otherwise the model gets the top passages, numbered [1]..[k] inside a
   delimited data block (the prompts in ``prompts/``), and its reply streams
   out as ``Delta`` events.
3. The reply goes through the grounding guard (``guard.py``); the ``Final``
   event carries the checked answer.  When nothing the model wrote survives,
   or the model cannot be reached, the answer is the extractive one, with a
   notice saying so.
4. The confidence that let it answer is the selector's confidence in its
   chosen sentences.  A reply stating a figure those sentences (and the
   question) do not hold answers with another passage's fact, which that
   confidence does not cover: then the answer is the extractive one too
   (``other_figures``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from docqa.answer.base import Delta, Event, Final
from docqa.answer.extractive import Extract, ExtractiveAnswerer
from docqa.llm.client import ChatClient, ChatStats, LLMUnavailable
from docqa.llm.guard import Guard, Passage
from docqa.llm.numbers import unsupported
from docqa.llm.prompts import AnswerPrompts
from docqa.llm.reply import MARKER
from docqa.question import Question
from docqa.records import Hit

log = logging.getLogger("docqa.llm")

NOTICES = {
    "zh": {
        "unavailable": "大模型暂时无法回答，以下为摘录答案（{why}）",
        "unverified": "大模型的回答无法由检索到的段落核实，以下为摘录答案。",
        "other_figures": "大模型的回答含有所选依据以外的数字，以下为摘录答案。",
        "removed": "已删除 {n} 句无法由所引段落核实的内容。",
        "markers": "已删除 {n} 个指向不存在段落的引用编号。",
    },
    "en": {
        "unavailable": "The LLM could not answer; showing the extractive answer ({why})",
        "unverified": "The passages could not confirm the LLM's answer; showing the extractive answer.",
        "other_figures": "The LLM's answer states figures the chosen evidence does not hold; showing the extractive answer.",
        "removed": "Removed {n} sentence(s) the cited passages do not support.",
        "markers": "Removed {n} citation marker(s) naming no given passage.",
    },
}
_DELIMITER = re.compile(r"<\s*/?\s*(?:资料|passages?)\s*>", re.I)
_MARKER_LIKE = re.compile(r"[\[［【]\s*(\d{1,3})\s*[\]］】]")


def other_figures(text: str, extract: Extract, question: str) -> list[str]:
    """The figures an answer ``text`` states that neither the sentences the
    selector chose (``extract.spans``) nor the question hold."""
    sources = [question, *(t for s in extract.spans for t in (s.text, s.sentence_text))]
    return list(dict.fromkeys(c.surface for c in unsupported(MARKER.sub("", text), sources)))


def as_data(text: str) -> str:
    """Passage text as it goes into the data block: it cannot close the block
    or imitate a citation marker."""
    text = _DELIMITER.sub(lambda m: m.group().replace("<", "‹").replace(">", "›"), text)
    return _MARKER_LIKE.sub(r"〔\1〕", text)


class LLMGenerator:
    def __init__(
        self,
        client: ChatClient,
        answerer: ExtractiveAnswerer,
        guard: Guard,
        prompts_dir=None,
        max_passages: int = 3,
        max_passage_chars: int = 400,
        max_tokens: int = 320,
        temperature: float = 0.0,
    ):
        self.client = client
        self.answerer = answerer
        self.guard = guard
        self.prompts_dir = prompts_dir
        self.max_passages = max_passages
        self.max_passage_chars = max_passage_chars
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._prompts: dict[str, AnswerPrompts] = {}

    def prompts(self, lang: str) -> AnswerPrompts:
        if lang not in self._prompts:
            self._prompts[lang] = AnswerPrompts.load(lang, self.prompts_dir)
        return self._prompts[lang]

    # -- what the model sees -------------------------------------------------
    def select(self, hits: list[Hit], extract) -> list[Hit]:
        """The top passages, plus any passage the extractive evidence came from."""
        chosen = list(hits[: self.max_passages])
        ids = {h.chunk.chunk_id for h in chosen}
        for span in extract.spans:
            if span.hit.chunk.chunk_id not in ids:
                chosen.append(span.hit)
                ids.add(span.hit.chunk.chunk_id)
        return sorted(chosen, key=lambda h: h.rank)

    def passage_text(self, hit: Hit) -> str:
        """The passage, cut to whole sentences around its most question-like
        clause when it is longer than ``max_passage_chars``."""
        c = hit.chunk
        if len(c.text) <= self.max_passage_chars or not c.units:
            return c.text
        sentences = c.sentences()
        dense = hit.unit_dense or [0.0] * len(c.units)
        best_unit = max(range(len(c.units)), key=lambda i: dense[i])
        k = next(i for i, s in enumerate(sentences) if c.units[best_unit] in s)
        lo = hi = k
        length = lambda a, b: sentences[b][-1].end - sentences[a][0].start  # noqa: E731
        while True:
            grown = False
            for a, b in ((lo - 1, hi), (lo, hi + 1)):
                if 0 <= a and b < len(sentences) and length(a, b) <= self.max_passage_chars:
                    lo, hi, grown = a, b, True
                    break
            if not grown:
                break
        return c.text[sentences[lo][0].start - c.start : sentences[hi][-1].end - c.start]

    def messages(self, question: Question, passages: list[Hit]) -> list[dict]:
        p = self.prompts(question.lang)
        blocks = []
        for n, hit in enumerate(passages, 1):
            c = hit.chunk
            source = " › ".join(x for x in (c.title, *c.section_path) if x)
            blocks.append(p.passage.render(n=n, source=as_data(source), text=as_data(self.passage_text(hit))))
        user = p.user.render(passages="\n\n".join(blocks), question=question.text)
        return [{"role": "system", "content": p.system.render()}, {"role": "user", "content": user}]

    # -- the answer ----------------------------------------------------------
    def answer(self, question: Question, hits: list[Hit], refusal: str, min_confidence: float | None = None) -> Iterator[Event]:
        lang = question.lang if question.lang in NOTICES else "zh"
        extract = self.answerer.extract(question, hits, min_confidence)
        if extract.refused:
            info = {"model": self.client.model, "asked": False}
            yield Final(
                refusal,
                True,
                [],
                None,
                info,
                reason=extract.reason,
                confidence=extract.confidence,
                second_opinion=extract.opinion,
            )
            return
        given = self.select(hits, extract)
        msgs = self.messages(question, given)
        stats = ChatStats()
        raw = ""
        try:
            for piece in self.client.stream_chat(msgs, self.max_tokens, self.temperature, stats):
                raw += piece
                yield Delta(piece)
        except LLMUnavailable as exc:
            log.warning("LLM unavailable, answering extractively: %s", exc)
            info = {"model": self.client.model, "asked": True, **stats.to_dict(), "error": str(exc)}
            yield self._extractive(extract, refusal, NOTICES[lang]["unavailable"].format(why=exc), info)
            return

        checked = self.guard.check(raw, [Passage(n, h) for n, h in enumerate(given, 1)], lang)
        report = checked.report
        info = {"model": self.client.model, "asked": True, "passages": len(given), **stats.to_dict(), "reply": raw}
        if report.removed:
            log.info("guard removed %d of %d sentences: %s", len(report.removed), report.sentences,
                     [r.reason for r in report.removed])  # fmt: skip
        fallback = None
        if not checked.citations:
            fallback = "unverified", "no sentence of the reply is supported by the passages"
        elif figures := other_figures(checked.text, extract, question.text):
            fallback = "other_figures", f"states figures the chosen sentences do not hold: {', '.join(figures)}"
        if fallback is not None:
            notice, report.fallback = fallback
            info["guard"] = report.to_dict()
            yield self._extractive(extract, refusal, NOTICES[lang][notice], info)
            return
        notes = []
        if report.removed:
            notes.append(NOTICES[lang]["removed"].format(n=len(report.removed)))
        if report.dropped_markers:
            notes.append(NOTICES[lang]["markers"].format(n=len(report.dropped_markers)))
        info["guard"] = report.to_dict()
        sep = "" if lang == "zh" else " "
        yield Final(
            checked.text,
            False,
            checked.citations,
            sep.join(notes) or None,
            info,
            confidence=extract.confidence,
            second_opinion=extract.opinion,
        )

    def _extractive(self, extract, refusal: str, notice: str, info: dict) -> Final:
        """The extractive answer (already decided), with a notice saying why it is shown."""
        final = self.answerer.format(extract, refusal)
        final.notice, final.llm = notice, info
        return final
