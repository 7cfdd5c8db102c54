"""What a question analysis yields: the question's key terms and the question."""

from __future__ import annotations

from dataclasses import dataclass, field

from docqa.question.kinds import VALUE_KINDS
from docqa.text import normalize


@dataclass
class Term:
    text: str  # normalised
    weight: float
    parts: list[str] = field(default_factory=list)  # finer words, for partial credit
    seen: bool = True  # does the corpus have it (or its parts)?
    forms: list[str] = field(default_factory=list)  # strings that count as the term (translations)
    required: bool = False  # a number or ordinal: an answer about another one is wrong
    entity: bool = False  # a place or person name
    focus: bool = False  # what the question asks about
    noun: bool = False  # jieba's dictionary knows it as a noun

    def __post_init__(self) -> None:
        if not self.forms:
            self.forms = [self.text]


@dataclass
class Question:
    text: str
    lang: str
    kind: str
    terms: list[Term]
    numbers: list[str]
    # organisations the question names that head sections of the documents, each as the
    # spellings that count (上海期智研究院, 期智研究院): the answer must be about one of them
    organisations: list[tuple[str, ...]] = field(default_factory=list)
    # entities a follow-up carried from the conversation (它 -> 上海期智研究院), normalised:
    # an answer must be about one of them (its heading or its own sentence names it)
    carried: list[str] = field(default_factory=list)
    # what an elliptical follow-up took out of the previous question and put in (伏羲, 女娲),
    # normalised: a sentence naming the first and not the second answers the old question
    swapped: list[tuple[str, str]] = field(default_factory=list)

    def about_swapped_out(self, sentence: str) -> bool:
        """Does a candidate's (normalised) sentence name what the follow-up moved
        away from, and not what it moved to?"""
        return any(old in sentence and new not in sentence for old, new in self.swapped)

    def about_carried(self, section: str, text: str) -> bool:
        """Is a candidate (its passage's document title and section path, and its
        normalised sentence with the one before it) about an entity the
        conversation carried?  The title counts as a heading of every passage:
        汇澄银行, carried from a first question, is what all of 「汇澄银行个人客户
        服务指南」 is about, though its chapters do not repeat the name."""
        if not self.carried:
            return True
        where = normalize(section) + "\n" + text
        return any(c in where for c in self.carried)

    def about_named(self, section: str, text: str) -> bool:
        """Is a passage (its section path and text) about an organisation the question names?"""
        if not self.organisations:
            return True
        where = normalize(section) + "\n" + normalize(text)
        return any(f in where for forms in self.organisations for f in forms)

    @property
    def total_weight(self) -> float:
        return sum(t.weight for t in self.terms)

    @property
    def missing_entities(self) -> list[str]:
        """Place or person names the documents never mention (another city, …)."""
        return [t.text for t in self.terms if t.entity and not t.seen]

    @property
    def missing_focus(self) -> list[str]:
        """What a Chinese question asks about, when the documents never use the
        word (准确率, 估值, 探测器): they mention the topic, not the thing asked."""
        if self.lang != "zh" or self.kind not in VALUE_KINDS:
            return []  # English words reach the documents only through a dictionary; "什么文件" names a category
        return [t.text for t in self.terms if t.focus and not t.seen and t.noun]
