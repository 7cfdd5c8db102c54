"""Follow-up resolution without an LLM: the entity the conversation is about
is carried into a question that refers to it.

The conversation is replayed turn by turn: each user question is resolved
against what came before it (so a follow-up of a follow-up carries the right
entity), and an answer to a "which …?" question makes the entity it names the
topic.  Then the new question is rewritten:

- a pronoun or demonstrative (它, 其, 该研究院, this institute, its) becomes the
  topic entity;
- an ellipsis (那X呢？, what about X?) asks the previous question about X, in
  place of the entity, of the item an earlier answer lists beside X, or of
  the value of X's shape (第二批 for 第一批呢？, 2024 for "And in 2023?");
- an ellipsis naming an entity after a question that named none (换成X呢？ after
  落地了几个项目？) asks that question about it;
- the n-th item of the previous answer's list (第一个是做什么的？) is asked about
  by its name;
- a question about what the previous answer said, naming nothing (分别是哪两个？,
  how many papers was that?), is the previous question asked again with it;
- a demonstrative pointing at a thing or group said before (这些机构) becomes
  the noun phrase it points at (新型研发机构, see concepts.py);
- another item in the previous question's frame (光制造装备又归在哪个方向下？) is
  asked inside the scope that question started with (宝山区新备案的创新联合体里，…);
- a question that starts with a verb or an adverb and names nothing
  (还发布了什么？, And what's the total value?), or points inside what was
  just talked about (其中…, 这里面…), is asked about the topic entity, or about
  the group the previous question started with (第二批长三角创新联合体中…);
- a thing that is no named entity, which a question starts with and its answer
  repeats (敬老卡, 私有化部署), stands in for the entity while there is none: 它
  and 其 become it, and a question naming nothing is read about it;
- the two things just talked about (这两个区, 两款 after questions about 宝山区
  and then 静安区) become both their names (宝山区和静安区);
- a name in quotation marks (“数转贷”) is the topic when no entity is: a
  question naming nothing after 「澜州市“数转贷”的贴息标准是怎样的？」 is read
  about it when refused as it stands;
- a question that names its own entity stands alone (a topic switch).

The words and patterns are data (docqa/lang/*.toml, ``followup_*``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from docqa import lang
from docqa.conversation.concepts import (
    analogue_in,
    frame_variant_in,
    headed_subject,
    leading_group,
    listed_item,
    resolve_concept,
    sibling_in,
    starts_with_noun,
    subject_in,
    variant_in,
)
from docqa.conversation.entities import EntityFinder, Mention, main_mention
from docqa.conversation.records import UNKNOWN_REFERENT, Resolution, Turn
from docqa.question.preamble import without_preamble
from docqa.text import CITATION_MARKER

_ZH = lang.load("zh")
_EN = lang.load("en")
_PLURAL = _ZH.wordset("plural_pronouns")
_QI_VERB = re.compile(r"^(?:在|是|有|累计|共|还|也|已|将|于|对|与|和|为|曾|一共|总共)")
_STRONG = ("org", "heading", "name", "product")
_SEPARATOR = re.compile(r"\s+[—–-]+\s+|[—–]+|[,，:：;；]")
_DIGIT = re.compile(r"\d")
_OWN_MODIFIER = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,6}的(?=[\u4e00-\u9fff])")  # not a closing 的: 是哪个部门发的
_SO = _ZH.wordset("so_words")  # 那 of 「那助研…」: a context is not read before it
_EACH = tuple(_ZH.wordset("distributive_starts"))  # 每个月…: no pointer at the entity
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,8}")  # an aspect an ellipsis adds: 延保, 噪音
_SECOND_QUESTION = re.compile(r"[?？](?=\s*\S)")  # the end of a first question another follows
MAX_ASPECT_CHARS = 10
MAX_ASPECT_WORDS = 5
MIN_SWAPPED = 2  # the shortest item an ellipsis swaps that a sentence is checked for
MIN_OWN_SUBJECT = 4  # a follow-up starting with a noun phrase this long names a subject of its own


@dataclass
class _Topic:
    entity: Mention | None = None  # what the conversation is about
    previous: str = ""  # the previous question, resolved
    previous_asked: str = ""  # … and as it was asked
    phrase: str = ""  # the noun phrase the questions went on with after the topic entity (博士助学金): _subject_after
    previous_mentions: tuple[Mention, ...] = ()
    answers: list[str] = field(default_factory=list)  # every answer so far, most recent first
    asked_which: bool = False  # the previous question asked for an entity: its answer names the topic
    asked_agent: bool = False  # … for who or which office: a pronoun now stands for its answer
    unknown: bool = False  # that answer named no one known: a pronoun points at nothing DocQA can tell
    talked_about: list[Mention] = field(default_factory=list)  # every topic entity so far, most recent first
    subject: str = ""  # what was talked about when it is no named entity (敬老卡, 私有化部署): subject_in
    context: str = ""  # … or, less surely, the noun phrase it started with (力行健身的金卡): a bare question's context

    @property
    def previous_answer(self) -> str:
        return self.answers[0] if self.answers else ""

    def about(self, entity: Mention) -> None:
        """``entity`` is what the conversation is about now."""
        self.entity = entity
        self.talked_about = [entity] + [m for m in self.talked_about if m.name != entity.name]

    @property
    def names(self) -> tuple[str, ...]:
        """The topic entity as the documents name it and as it was written."""
        return (self.entity.name, self.entity.text) if self.entity is not None else ()


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
                asked = _unmarked(without_preamble(turn.content.strip()))
                asked, reset = _without_reset(asked)
                topic = _Topic() if reset else topic
                resolved, _, _ = self._resolve(asked, topic)
                self._after_question(resolved, asked, topic)
            else:
                self._after_answer(turn.content, topic)
        plain = without_preamble(question)  # 「好的，还有呢？」 is read from 还有
        asked = _unmarked(plain)
        asked, reset = _without_reset(asked)  # 「换个问题，…」 is read alone
        if reset:
            return Resolution(question, asked)
        resolved, carried, how = self._resolve(asked, topic)
        as_asked = resolved == asked
        if as_asked and asked == plain:
            resolved = question  # left as asked: the engine's analysis reads past the preamble
        fallback = self._in_context(asked, topic) if as_asked and how != "unknown" else None
        if fallback is not None:
            fallback = replace(fallback, question=question)
        swapped = _swapped(topic.previous, resolved) if how == "ellipsis" else ()
        return Resolution(question, resolved, carried, how, fallback, swapped=swapped)

    # -- the topic -------------------------------------------------------------

    def _after_question(self, resolved: str, asked: str, topic: _Topic) -> None:
        found = self.finder.find(resolved, quoted=True)
        mentions = [m for m in found if m.kind != "quoted"]
        main = main_mention(m for m in mentions if m.kind != "area")  # all of a document is about its area
        if main is None and topic.entity is None:  # 「澜州市“数转贷”的贴息标准…」: the area is no topic
            main = main_mention(m for m in found if m.kind == "quoted")
        if main is not None:
            if topic.entity is None or topic.entity.name != main.name:
                topic.phrase = ""  # a new topic does not go on with the old one's phrase
            topic.about(main)
        topic.phrase = self._phrase_after(resolved, asked, topic)
        topic.previous, topic.previous_asked, topic.previous_mentions = resolved, asked, tuple(mentions)
        rules = _EN if lang.detect(resolved) == "en" else _ZH
        topic.asked_which = bool(rules.pattern("asks_entity").search(resolved))
        topic.asked_agent = bool(rules.pattern("asks_agent").search(resolved))

    def _after_answer(self, answer: str, topic: _Topic) -> None:
        text = CITATION_MARKER.sub("", answer)
        topic.answers.insert(0, text)
        topic.unknown = False
        if topic.entity is None and not topic.asked_which and lang.detect(topic.previous) != "en":
            said = subject_in(topic.previous, text)
            topic.subject = said or topic.subject
            topic.context = said or headed_subject(topic.previous, text, self.finder.segmenter) or topic.context
        if not topic.asked_which:
            return
        strong = [m for m in self.finder.find(text) if m.kind in _STRONG]
        named = _asked_for(strong, topic.previous) or main_mention(strong)
        if named is None and self.locate is not None:
            named = main_mention(m for t in reversed(list(self.locate(text))) for m in self.finder.find(t) if m.kind == "org")
        if named is not None:
            topic.about(named)
        else:
            topic.unknown = topic.asked_agent

    # -- one question ------------------------------------------------------------

    def _resolve(self, question: str, topic: _Topic) -> tuple[str, tuple[str, ...], str]:
        """(resolved question, entities carried into it, the rule that did it).
        Both languages' patterns are tried: a question may mix them."""
        switch = _two_part_switch(question)
        if switch is not None:  # 「那宝山区呢？它组建了几个？」: the switch, then a question about it
            return self._switch(*switch)
        mentions = self.finder.find(question)
        for rules in (_EN, _ZH):
            ellipsis = rules.pattern("followup_ellipsis").match(question)
            if ellipsis and topic.previous:
                done = self._ellipsis(ellipsis, mentions, topic, rules is _EN)
                if done is not None:
                    return done
        if any(m.kind in _STRONG for m in mentions):
            return question, (), ""  # names its own subject: a topic switch
        pair = _ZH.pattern("followup_pair").search(question)
        if pair and len(topic.talked_about) >= 2:  # 这两个区 after questions about 宝山区, then 静安区
            both = "和".join(m.name for m in reversed(topic.talked_about[:2]))
            return question[: pair.start()] + both + question[pair.end() :], (), "pair"
        entity = topic.entity.name if topic.entity is not None else ""
        ordinal = _ZH.pattern("followup_ordinal").match(question)
        item = listed_item(topic.previous_answer, _index(ordinal.group(1))) if ordinal and not mentions else None
        if item and ordinal:  # 第一个是做什么的？ after an answer listing 先进制剂、精准医疗、…
            about = f"{entity}的" if entity and entity not in item else ""
            return about + item + question[ordinal.end() :], (), "item"
        if topic.previous and any(r.pattern("followup_about_answer").search(question) for r in (_EN, _ZH)):
            return _asked_again(topic.previous, question), _carried(entity), "previous"  # 分别是哪两个？
        if topic.unknown and not mentions and _points_at_answer(question, topic.previous):
            return question, (UNKNOWN_REFERENT,), "unknown"  # 「他们电话多少？」 after a "who" left unanswered
        measure = self._measure(question, topic) if entity and not mentions else None
        if measure is not None:  # 「这项政策由哪个部门负责落实？」 after questions about “数转贷”
            return measure, (entity,), "reference"
        thing = self._thing(topic) if entity else ""
        rewritten = _replace_references(question, _spelled(topic.entity, question), thing) if entity else question
        if rewritten != question:
            return rewritten, (entity,), "reference"
        if not entity and topic.subject and lang.detect(question) != "en":
            rewritten = _replace_pronouns(question, topic.subject)  # 那它坐机场快线也免费吗？ after 敬老卡…
            if rewritten != question:
                return rewritten, (), "reference"
        parallel = _parallel(question, topic)
        if parallel is not None:
            return parallel, _carried(entity if any(n and n in parallel for n in topic.names) else ""), "scope"
        scope = _ZH.pattern("followup_scope").match(question)
        inside = self._inside(question[scope.end() :], topic) if scope and not mentions else None
        if inside is not None:
            return *inside, "subject"
        concept = resolve_concept(question, (topic.previous, topic.previous_answer), self.finder.segmenter)
        if concept is not None:
            return concept, (), "concept"
        if entity and not mentions and _ZH.pattern("followup_start").match(question):
            return entity + question, (entity,), "subject"
        going_on = _EN.pattern("followup_start").match(question)
        if entity and going_on and not mentions:
            rest = question[going_on.end() :].rstrip(" ?？.。")
            return f"{rest[:1].upper()}{rest[1:]} of {_spelled(topic.entity, question)}?", (entity,), "subject"
        return question, (), ""

    def _thing(self, topic: _Topic) -> str:
        """What 它们 and 这个集群 stand for: the thing the previous question started
        with when the topic entity is only the place it is in (长三角 in
        「长三角大飞机产业集群是靠哪些龙头企业来牵引的？」: 它们 are the cluster's);
        "" when there is none (the topic entity then)."""
        entity = topic.entity
        if entity is None or entity.kind != "place" or not topic.previous:
            return ""
        group = leading_group(topic.previous, self.finder.segmenter)
        if group and group.startswith(entity.text) and group != entity.text and "的" not in group:
            return group
        return ""

    def _in_context(self, question: str, topic: _Topic) -> Resolution | None:
        """A Chinese question left as asked that names nothing (团队组了几支？), read
        in the conversation's context: asked inside the group the previous
        question started with, or about the topic entity.  The engine asks it
        only if the question as it stands is refused."""
        if not topic.previous or lang.detect(question) == "en" or _ZH.pattern("points_back").search(question):
            return None
        if _ZH.pattern("followup_other").search(question):
            return None  # 「那另外一个在建的装置呢？」 is about something else than the topic
        if any(m.kind in _STRONG or m.kind in ("place", "area") for m in self.finder.find(question)):
            return None  # names its own subject
        said = self._without_so(question)  # 「那助研…」 is read 「澄州大学助研…」, not 「澄州大学那助研…」
        inside = self._inside(said, topic, switched=said != question)
        if inside is None and topic.context and topic.entity is None and self._names_nothing(question):
            return Resolution(question, topic.context + said, (), "context")  # 交付要多长时间？ after 私有化部署…
        if inside is None:
            return None
        exclusive = topic.entity is not None and topic.entity.kind in _STRONG
        return Resolution(question, *inside, "context", exclusive=exclusive)

    def _without_so(self, question: str) -> str:
        """``question`` without the 那 or 那么 ("so") it starts with as a word of its
        own (那边, 那个 are words that point: they stay)."""
        words = self.finder.segmenter.coarse_words(question[:4])
        return question[len(words[0]) :].lstrip() if words and words[0] in _SO else question

    def _names_nothing(self, question: str) -> bool:
        """A question that neither starts with a thing of its own (票量包能用多久？)
        nor is an ellipsis (那发邮件呢？): it is about what was talked about."""
        if any(r.pattern("followup_ellipsis").match(question) for r in (_EN, _ZH)):
            return False
        return not starts_with_noun(question, self.finder.segmenter)

    def _inside(self, rest: str, topic: _Topic, switched: bool = False) -> tuple[str, tuple[str, ...]] | None:
        """``rest`` asked inside the group the previous question started with, when
        that group holds the topic entity (or there is none): 第二批长三角创新联合体中…;
        else about the topic entity; with the entity carried."""
        entity = topic.entity.name if topic.entity is not None else ""
        group = leading_group(topic.previous, self.finder.segmenter) if topic.previous else None
        if group and group != entity and (not topic.names or any(n in group for n in topic.names)):
            return f"{group}中{rest}", _carried(entity)
        if entity:
            # 那 says the question turns to something else than what the previous one went on with
            subject = "" if switched else self._subject_after(entity, topic, rest)
            return entity + subject + rest, (entity,)
        return None

    def _subject_after(self, entity: str, topic: _Topic, rest: str) -> str:
        """The noun phrase the questions went on with after the topic entity
        (硕士一等学业奖学金 of 「澄州大学硕士一等学业奖学金有多少钱？」, still after
        「一年发几个月？」): what a question naming nothing (比例是多少？) asks about is
        that, not the whole entity; "" when there is none, or ``rest`` names it,
        another of its kind (学业奖学金 after 国家奖学金) or a subject of its own
        (学院研究生工作组: MIN_OWN_SUBJECT characters or more)."""
        phrase = topic.phrase
        if not phrase or phrase in rest or topic.entity is None or topic.entity.name != entity:
            return ""
        segmenter = self.finder.segmenter
        first = segmenter.coarse_words(rest[:4])
        if first and (segmenter.tag(first[0]) or "").startswith("r") and not first[0].startswith(_EACH):
            return ""  # 「那边好停车吗」 points at the entity itself; 「每个月…」 does not
        if _OWN_MODIFIER.match(rest):
            return ""  # 「博士的是按什么评的？」 says whose: another of the kind the previous one asked about
        own = leading_group(rest, segmenter, heads=False)
        return "" if own and (_same_kind(own, phrase) or len(own) >= MIN_OWN_SUBJECT) else phrase

    def _phrase_after(self, resolved: str, asked: str, topic: _Topic) -> str:
        """The noun phrase questions go on with after this one (``_subject_after``):
        the one it says after the topic entity; for a question that does not start
        with the entity and names no thing of its own, the one before it
        (「一年发几个月？」 and 「是哪个部门发的」 are still about 博士助学金)."""
        if topic.entity is None or lang.detect(resolved) == "en":
            return ""
        segmenter = self.finder.segmenter
        said = next((resolved[len(n) :] for n in topic.names if n and resolved.startswith(n)), None)
        if said is None:
            own = leading_group(asked, segmenter, heads=False)
            if own and topic.phrase and _same_kind(own, topic.phrase):
                return own  # 「学业奖学金公示几天？」 after 国家奖学金: questions go on with 学业奖学金
            return "" if starts_with_noun(asked, segmenter) or _OWN_MODIFIER.match(asked) else topic.phrase
        phrase = leading_group(said.removeprefix("的"), segmenter, heads=False)
        if not phrase or _DIGIT.search(phrase):
            return ""
        tags = [segmenter.tag(w) or "" for w in segmenter.coarse_words(phrase)]
        nouns = tags[-1].startswith("n") and all(t.startswith("n") or t == "m" for t in tags)
        return phrase if nouns else ""  # 「上海累计备案有几家…」 goes on with a verb: no phrase

    def _measure(self, question: str, topic: _Topic) -> str | None:
        """「这项政策…」, 「这项奖学金…」: the measure or service talked about stands for
        the demonstrative (the topic entity and the phrase the questions went on with);
        None when there is no such demonstrative, the topic is a place (which of its
        measures is meant is not known) or a thing of another kind follows (这项技术)."""
        found = _ZH.pattern("followup_measure").search(question)
        if found is None or topic.entity is None or topic.entity.kind in ("place", "area"):
            return None
        rest = question[found.end() :]
        subject = self._subject_after(topic.entity.name, topic, rest)
        kind = None if subject else leading_group(rest, self.finder.segmenter, heads=False)
        if kind:
            if not topic.phrase.endswith(kind):
                return None  # 「这项技术装了多少辆车？」 points at something an answer said
            subject, rest = topic.phrase, rest[len(kind) :]  # 这项奖学金: the 国家奖学金 talked about
        return question[: found.start()] + topic.entity.name + subject + rest

    def _ellipsis(
        self, match: re.Match, mentions: list[Mention], topic: _Topic, english: bool
    ) -> tuple[str, tuple[str, ...], str] | None:
        start, end = match.span(1)
        x = match.group(1).strip()
        parts = _SEPARATOR.split(x, maxsplit=1)
        if len(parts) == 2 and len(parts[1].split()) >= 2 and _replace_references(parts[0], "@") == parts[0]:
            # "What about Baoshan — how many consortia did it register?": a switch, then a question about it
            subject = parts[0].strip()
            asked = _replace_references(parts[1].strip(), subject)
            if match.string.rstrip().endswith(("?", "？")):
                asked += match.string.rstrip()[-1]
            return self._switch(subject, asked)
        if _replace_references(x, "@") != x:
            return None  # 「它的X呢？」: a reference, not a new subject
        new = main_mention(m for m in mentions if m.start >= start and m.end <= end)
        if new is None and english and _EN.pattern("organisation_named").search(x):
            new = Mention(x, start, end, "org")  # "what about the Wutong Island life-science institute?"
        if new is None:
            sibling = sibling_in(topic.previous, x, topic.answers)  # 那精准医疗呢？ after 量子科技, listed beside it
            if not sibling:  # 第一批呢？ after 第二批
                kept = [(m.start, m.end) for m in self.finder.find(topic.previous) if m.kind in _STRONG]
                subject_end = max((b for a, b in kept if a == 0), default=0)  # 东湖支行 of 「东湖支行几点…」
                variant = variant_in(topic.previous, x, subject_end)
                entity = topic.entity
                if (
                    variant
                    and not kept
                    and not topic.asked_which
                    and entity is not None
                    and entity.kind in _STRONG
                    and entity.name not in variant
                ):
                    # the previous question named nothing: it was read about the topic (Resolution.fallback)
                    return entity.name + variant, (entity.name,), "ellipsis"
                sibling = variant
            if not sibling and not english:  # 急诊呢？ after 「…副主任医师门诊的诊察费是多少？」
                sibling = analogue_in(topic.previous, x, self.finder.segmenter, kept)
            if not sibling and english:  # "And on weekends?" after "… the weekday opening hours …?"
                sibling = frame_variant_in(topic.previous, x)
            return (sibling, (), "ellipsis") if sibling else self._aspect(x, topic, english)
        old = _replaceable(topic.previous_mentions, new)
        kind_word = new.kind == "product" and new.name not in new.text
        named = new.name + new.text if kind_word else new.text  # 烘干机 is said HD-9烘干机
        aspect = _new_aspect(match.string[new.end : end], topic.previous)
        if aspect and (old is not None or new.kind in _STRONG):
            # 「那HD-9的延保呢？」: another entity's other thing, which the previous question's
            # predicate may not fit (「临港社区网点的电话呢？」 after 「…那边好停车吗」)
            return f"{named}的{aspect}是什么？", (new.name,), "ellipsis"
        if old is None:  # 「换成X呢？」 after 「落地了几个项目？」, which named nothing: X is its subject
            if new.kind not in _STRONG or self.finder.find(topic.previous_asked):
                return None
            return named + topic.previous_asked, (new.name,), "ellipsis"
        previous = topic.previous
        return previous[: old.start] + named + previous[old.end :], (new.name,), "ellipsis"

    def _switch(self, subject: str, asked: str) -> tuple[str, tuple[str, ...], str]:
        """A switch to ``subject`` and the question ``asked`` about it: the answer
        must be about the entity the subject names (Baoshan (宝山区) is about 宝山区)."""
        named = main_mention(self.finder.find(subject))
        return f"{asked[:1].upper()}{asked[1:]}", _carried(named.name if named else subject), "switch"

    def _aspect(self, aspect: str, topic: _Topic, english: bool) -> tuple[str, tuple[str, ...], str] | None:
        """「上链企业呢？」 after a question about 浦芯: the same entity, another aspect
        (a short noun phrase only; anything longer is left as asked)."""
        entity = topic.entity
        if entity is None or entity.kind not in _STRONG or not aspect or _DIGIT.search(aspect):
            return None
        if (_EN if english else _ZH).pattern("followup_other").search(aspect):
            return None  # 「另外一个在建的装置」 is not the entity's: what it is is not known
        if len(aspect.split()) > MAX_ASPECT_WORDS if english else len(aspect) > MAX_ASPECT_CHARS:
            return None
        asked = f"What about {aspect} of {entity.name}?" if english else f"{entity.name}的{aspect}是什么？"
        return asked, (entity.name,), "ellipsis"


def _asked_for(mentions: list[Mention], question: str) -> Mention | None:
    """Of the organisations an answer lists, the one the "which …" question
    describes, when only one shares a pair of characters with it (「哪家是搞半导体
    的？」: 上海御渡半导体科技有限公司, not the first listed)."""
    pairs = {question[i : i + 2] for i in range(len(question) - 1)}
    fitting = {m.name: m for m in mentions if any(m.text[i : i + 2] in pairs for i in range(len(m.text) - 1))}
    return next(iter(fitting.values())) if len(mentions) > 1 and len(fitting) == 1 else None


def _unmarked(question: str) -> str:
    """The question without the words that only mark what it is about
    (结果导向这块…, 量子科技那个呢？)."""
    return _ZH.pattern("topic_marker").sub("", question)


def _index(which: str) -> int:
    """The list index ``followup_ordinal`` names (第一 -> 0, 最后 -> -1)."""
    if which == "最后":
        return -1
    n = which[1:]
    return (int(n) if n.isdigit() else _ZH.numerals[n]) - 1


def _parallel(question: str, topic: _Topic) -> str | None:
    """「光制造装备又归在哪个方向下？」 after 「宝山区新备案的创新联合体里，做菌群移植
    的属于哪个方向？」: another item in the previous question's frame, asked inside
    the scope that question started with."""
    parallel = _ZH.pattern("followup_parallel").match(question)
    scope = _ZH.pattern("question_scope").match(topic.previous) if parallel else None
    if parallel is None or scope is None or scope.group() in question:
        return None
    return scope.group() + question[parallel.start(1) :]


def _asked_again(previous: str, question: str) -> str:
    """The previous question with a follow-up about its answer: 「…具备几大海域的
    监测服务能力，分别是哪两个？」, "…in Nature? Roughly how many papers was that?"."""
    if lang.detect(question) == "en":
        return f"{previous.rstrip(' ?？.。')}? {question}"
    return f"{previous.rstrip(' ?？.。')}，{question}"


def _replace_references(question: str, entity: str, thing: str = "") -> str:
    """``question`` with its references to the topic replaced: a demonstrative
    with its kind (该区) by ``entity`` unless ``thing`` (the thing in the place
    the topic entity is, see ``_thing``) is of that kind (这个集群), a plural
    pronoun (它们) by ``thing``, any other reference by ``entity``."""
    out = _ZH.pattern("followup_demonstrative").sub(lambda m: thing if thing.endswith(m.group()[-2:]) else entity, question)
    out = _ZH.pattern("followup_pronoun").sub(lambda m: thing if thing and m.group() in _PLURAL else entity, out)
    out = _ZH.pattern("followup_qi").sub(lambda m: entity if _QI_VERB.match(out[m.end() :]) else entity + "的", out)
    out = _EN.pattern("followup_demonstrative").sub(lambda m: entity, out)
    return _EN.pattern("followup_pronoun").sub(lambda m: _english_pronoun(m.group(), entity), out)


def _without_reset(question: str) -> tuple[str, bool]:
    """``question`` without what it starts with to leave the topic (换个问题，,
    "Different question:"), and whether it did."""
    for rules in (_ZH, _EN):
        m = rules.pattern("topic_reset").match(question)
        if m and question[m.end() :].strip():
            return question[m.end() :], True
    return question, False


def _points_at_answer(question: str, previous: str) -> bool:
    """Does ``question`` point at the answer to ``previous``, a question that
    asked who or which office: with a pronoun (他们, 它, 其, they), or with a
    demonstrative of the kind asked for (该部门 after 「哪个部门…」; 该院 is the
    institute talked about)?"""
    for rules in (_ZH, _EN):
        if rules.pattern("followup_pronoun").search(question):
            return True
        agent = rules.pattern("asks_agent").search(previous)
        for m in rules.pattern("followup_demonstrative").finditer(question):
            kind = m.group().split()[-1] if rules is _EN else m.group()[-2:]
            if agent and kind in agent.group():
                return True
    return bool(_ZH.pattern("followup_qi").search(question))


def _replace_pronouns(question: str, subject: str) -> str:
    """``question`` with its pronouns (它, 其) standing for ``subject``, a thing said
    before that is no named entity; a demonstrative with a kind (该研究院) is left."""
    out = _ZH.pattern("thing_pronoun").sub(subject, question)
    return _ZH.pattern("followup_qi").sub(lambda m: subject if _QI_VERB.match(out[m.end() :]) else subject + "的", out)


def _spelled(entity: Mention | None, question: str) -> str:
    """The entity as the question should name it: an English question keeps the
    English name it was given (the selector reads mixed questions poorly); the
    heading it translates is what the answer must be about (``carried``)."""
    if entity is None:
        return ""
    if lang.detect(question) == "en" and entity.text.isascii():
        return entity.text
    return entity.name


def _two_part_switch(question: str) -> tuple[str, str] | None:
    """(X, the second question about X) for a follow-up that switches to X in
    one sentence and asks about it in the next ("What about X? How many … its
    …?", 「那X呢？它…？」); None for anything else."""
    first = _SECOND_QUESTION.search(question)
    if first is None:
        return None
    head, rest = question[: first.end()], question[first.end() :].strip()
    for rules in (_EN, _ZH):
        ellipsis = rules.pattern("followup_ellipsis").match(head)
        if ellipsis and _replace_references(ellipsis.group(1), "@") == ellipsis.group(1):
            subject = ellipsis.group(1).strip()
            asked = _replace_references(rest, subject)
            if asked != rest:  # the second question refers back to X
                return subject, asked
    return None


def _swapped(previous: str, resolved: str) -> tuple[tuple[str, str], ...]:
    """What an ellipsis took out of the previous question and what it put in:
    the two questions without their common start and end (伏羲 and 女娲 in
    「…的“伏羲”在…」 and 「…的“女娲”在…」); nothing when either is shorter than
    MIN_SWAPPED characters (第一批 for 第二批: other rules read such values) or
    holds the other."""
    n = min(len(previous), len(resolved))
    head = next((i for i in range(n) if previous[i] != resolved[i]), n)
    tail = next((i for i in range(n - head) if previous[-1 - i] != resolved[-1 - i]), n - head)
    old, new = previous[head : len(previous) - tail], resolved[head : len(resolved) - tail]
    if min(len(old), len(new)) < MIN_SWAPPED or old in new or new in old:
        return ()
    return ((old, new),)


def _same_kind(a: str, b: str) -> bool:
    """Two noun phrases of one kind: they end alike (学业奖学金, 国家奖学金)."""
    return a != b and len(a) >= MIN_SWAPPED and len(b) >= MIN_SWAPPED and a[-MIN_SWAPPED:] == b[-MIN_SWAPPED:]


def _carried(name: str) -> tuple[str, ...]:
    return (name,) if name else ()


def _english_pronoun(word: str, entity: str) -> str:
    return f"{entity}'s" if word.lower() in ("its", "their", "his", "her") else entity


def _new_aspect(rest: str, previous: str) -> str:
    """What an ellipsis says of its new entity after it (``rest``: 的延保 of
    「那HD-9的延保呢？」), when the previous question does not ask about it; ""
    otherwise (「那城北店的泳池呢？」 after 「滨江旗舰店的泳池几点开放？」)."""
    rest = rest.strip()
    aspect = rest[1:]
    return aspect if rest.startswith("的") and _HAN_RUN.fullmatch(aspect) and aspect not in previous else ""


def _replaceable(previous: Iterable[Mention], new: Mention) -> Mention | None:
    """The mention of the previous question the new entity takes the place of:
    one of the same kind (a district for a district), else the strongest."""
    previous = list(previous)
    same = [m for m in previous if m.kind == new.kind or (m.kind in _STRONG and new.kind in _STRONG)]
    if new.kind == "place":
        same = [m for m in same if m.text[-1:] == new.text[-1:]] or same
    return main_mention(same) or main_mention(previous)
