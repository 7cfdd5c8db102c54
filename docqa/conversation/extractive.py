"""Follow-up resolution without an LLM: the entity the conversation is about
is carried into a question that refers to it.

The conversation is replayed turn by turn: each user question is resolved
against what came before it (so a follow-up of a follow-up carries the right
entity), and an answer to a "which …?" question makes the entity it names the
topic.  Then the new question is rewritten:

- a pronoun or demonstrative (它, 其, 该研究院, this institute, its) becomes the
  topic entity;
- an ellipsis (那X呢？, what about X?) asks the previous question about X;
- a demonstrative pointing at a thing or group said before (这些机构) becomes
  the noun phrase it points at (新型研发机构, see concepts.py);
- a question that starts with a verb or an adverb and names nothing
  (还发布了什么？) is asked about the topic entity;
- a question that names its own entity stands alone (a topic switch).

The words and patterns are data (docqa/lang/*.toml, ``followup_*``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from docqa import lang
from docqa.conversation.concepts import resolve_concept
from docqa.conversation.entities import EntityFinder, Mention, main_mention
from docqa.conversation.records import Resolution, Turn

_ZH = lang.load("zh")
_EN = lang.load("en")
_CITATION = re.compile(r"\[\d+\]")
_QI_VERB = re.compile(r"^(?:在|是|有|累计|共|还|也|已|将|于|对|与|和|为|曾|一共|总共)")
_STRONG = ("org", "heading", "name")


@dataclass
class _Topic:
    entity: Mention | None = None  # what the conversation is about
    previous: str = ""  # the previous question, resolved
    previous_mentions: tuple[Mention, ...] = ()
    previous_answer: str = ""
    asked_which: bool = False  # the previous question asked for an entity: its answer names the topic


class ExtractiveRewriter:
    """``rewrite(question, history)`` -> ``Resolution``.  ``finder`` names the
    entities of a text; ``locate`` (optional) gives the section titles of the
    indexed passage an earlier answer quotes, for answers that do not name
    the entity they are about."""

    def __init__(self, finder: EntityFinder, locate: Callable[[str], Sequence[str]] | None = None):
        self.finder = finder
        self.locate = locate

    def rewrite(self, question: str, history: Sequence[Turn]) -> Resolution:
        topic = _Topic()
        for turn in history:
            if turn.role == "user":
                resolved, _, _ = self._resolve(turn.content.strip(), topic)
                self._after_question(resolved, topic)
            else:
                self._after_answer(turn.content, topic)
        resolved, carried, how = self._resolve(question, topic)
        return Resolution(question, resolved, carried, how)

    # -- the topic -------------------------------------------------------------

    def _after_question(self, resolved: str, topic: _Topic) -> None:
        mentions = self.finder.find(resolved)
        main = main_mention(mentions)
        if main is not None:
            topic.entity = main
        topic.previous, topic.previous_mentions = resolved, tuple(mentions)
        rules = _EN if lang.detect(resolved) == "en" else _ZH
        topic.asked_which = bool(rules.pattern("asks_entity").search(resolved)) or main is None

    def _after_answer(self, answer: str, topic: _Topic) -> None:
        text = _CITATION.sub("", answer)
        topic.previous_answer = text
        if not topic.asked_which:
            return
        named = main_mention(m for m in self.finder.find(text) if m.kind in _STRONG)
        if named is None and self.locate is not None:
            named = main_mention(m for t in reversed(list(self.locate(text))) for m in self.finder.find(t) if m.kind == "org")
        if named is not None:
            topic.entity = named

    # -- one question ------------------------------------------------------------

    def _resolve(self, question: str, topic: _Topic) -> tuple[str, tuple[str, ...], str]:
        """(resolved question, entities carried into it, the rule that did it).
        Both languages' patterns are tried: a question may mix them."""
        mentions = self.finder.find(question)
        for rules in (_EN, _ZH):
            ellipsis = rules.pattern("followup_ellipsis").match(question)
            if ellipsis and topic.previous:
                done = self._ellipsis(ellipsis, mentions, topic, rules is _EN)
                if done is not None:
                    return done
        if any(m.kind in _STRONG for m in mentions):
            return question, (), ""  # names its own subject: a topic switch
        entity = topic.entity.name if topic.entity is not None else ""
        rewritten = _replace_references(question, entity) if entity else question
        if rewritten != question:
            return rewritten, (entity,), "reference"
        concept = resolve_concept(question, (topic.previous, topic.previous_answer), self.finder.segmenter)
        if concept is not None:
            return concept, (), "concept"
        if entity and not mentions and _ZH.pattern("followup_start").match(question):
            return entity + question, (entity,), "subject"
        return question, (), ""

    def _ellipsis(
        self, match: re.Match, mentions: list[Mention], topic: _Topic, english: bool
    ) -> tuple[str, tuple[str, ...], str] | None:
        start, end = match.span(1)
        new = main_mention(m for m in mentions if m.start >= start and m.end <= end)
        if new is None:
            aspect = match.group(1).strip()
            if topic.entity is None or not aspect:
                return None
            entity = topic.entity.name
            asked = f"What about {aspect} of {entity}?" if english else f"{entity}的{aspect}是什么？"
            return asked, (entity,), "ellipsis"
        old = _replaceable(topic.previous_mentions, new)
        if old is None:
            return None
        previous = topic.previous
        return previous[: old.start] + new.text + previous[old.end :], (new.name,), "ellipsis"


def _replace_references(question: str, entity: str) -> str:
    out = _ZH.pattern("followup_demonstrative").sub(lambda m: entity, question)
    out = _ZH.pattern("followup_pronoun").sub(lambda m: entity, out)
    out = _ZH.pattern("followup_qi").sub(lambda m: entity if _QI_VERB.match(out[m.end() :]) else entity + "的", out)
    out = _EN.pattern("followup_demonstrative").sub(lambda m: entity, out)
    return _EN.pattern("followup_pronoun").sub(lambda m: _english_pronoun(m.group(), entity), out)


def _english_pronoun(word: str, entity: str) -> str:
    return f"{entity}'s" if word.lower() in ("its", "their", "his", "her") else entity


def _replaceable(previous: Iterable[Mention], new: Mention) -> Mention | None:
    """The mention of the previous question the new entity takes the place of:
    one of the same kind (a district for a district), else the strongest."""
    previous = list(previous)
    same = [m for m in previous if m.kind == new.kind or (m.kind in _STRONG and new.kind in _STRONG)]
    if new.kind == "place":
        same = [m for m in same if m.text[-1:] == new.text[-1:]] or same
    return main_mention(same) or main_mention(previous)
