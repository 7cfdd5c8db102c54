"""What crosses the conversation's borders: the earlier turns a client sends,
and how a follow-up question was understood."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from docqa.errors import BadRequest

ROLES = ("user", "assistant")
MAX_TURNS = 12  # the last turns read; older ones are dropped (a follow-up refers to what was just said)
MAX_HISTORY_ITEMS = 200  # more than this is not a conversation: a clear 4xx
MAX_TURN_CHARS = 8000  # an answer with its quotes fits; a document pasted as a turn does not
# What a follow-up is carried to when it points at an earlier answer's "who" that DocQA could
# not tell (「他们电话多少？」 after 「材料交给谁？」 was refused): no text names it, so the
# follow-up is refused rather than read about the earlier topic.
UNKNOWN_REFERENT = "上一个回答所指的对象"
HISTORY_EXAMPLE = '"history": [{"role": "user", "content": "…"}, {"role": "assistant", "content": "…"}]'


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation, oldest first."""

    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Resolution:
    """The question actually answered.  ``resolved`` equals ``question`` on a
    first turn and for a question that stands alone; ``carried`` is the entity
    taken from the conversation (the answer must be about it), ``how`` says
    which rule or backend rewrote the question.  ``fallback`` is the question
    read in the conversation's context, for one that names nothing and was
    left as asked (「团队组了几支？」 -> 「上海数学与交叉学科研究院团队组了几支？」):
    the engine asks it when the question as it stands is refused.  An
    ``exclusive`` fallback (about an organisation the documents give a section
    of its own) is also asked when the question as it stands is answered from
    text that does not name it: another's fact does not stand in for it.
    ``swapped`` pairs what an elliptical follow-up took out of the previous
    question with what it put in (伏羲, 女娲 for 「那“女娲”呢？」 after a question
    about “伏羲”): a sentence naming the first and not the second is about the
    item the user moved away from."""

    question: str
    resolved: str
    carried: tuple[str, ...] = field(default_factory=tuple)
    how: str = ""
    fallback: Resolution | None = None
    exclusive: bool = False
    swapped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def rewritten(self) -> bool:
        return self.resolved != self.question


def parse_history(value: object, max_turns: int = MAX_TURNS) -> list[Turn]:
    """Earlier turns from a request (``None`` or a list of ``{"role", "content"}``
    objects, oldest first) -> the last ``max_turns`` of them; ``BadRequest``
    saying what to change for anything else."""
    if value is None:
        return []
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        raise BadRequest(f"history must be a list of turns, oldest first: {HISTORY_EXAMPLE}")
    if len(value) > MAX_HISTORY_ITEMS:
        raise BadRequest(
            f"history has {len(value)} turns; send at most {MAX_HISTORY_ITEMS} (only the last {max_turns} are read)"
        )
    turns = []
    for i, item in enumerate(value):
        role: object
        content: object
        if isinstance(item, Turn):
            role, content = item.role, item.content
        elif isinstance(item, dict):
            extra = sorted(set(item) - {"role", "content"})
            if extra:
                raise BadRequest(
                    f'history[{i}] has unknown field(s) {", ".join(map(str, extra))}; a turn is {{"role", "content"}}'
                )
            role, content = item.get("role"), item.get("content")
        else:
            raise BadRequest(f'history[{i}] must be an object {{"role": "user" | "assistant", "content": "…"}}')
        if role not in ROLES:
            raise BadRequest(f'history[{i}].role must be "user" or "assistant", got {role!r}')
        if not isinstance(content, str):
            raise BadRequest(f"history[{i}].content must be a string")
        if len(content) > MAX_TURN_CHARS:
            raise BadRequest(f"history[{i}].content is {len(content)} characters long; the limit is {MAX_TURN_CHARS}")
        turns.append(Turn(role, content))
    return turns[-max_turns:] if max_turns else []


def last_user_questions(history: Sequence[Turn]) -> list[str]:
    """The user's earlier questions, most recent first."""
    return [t.content for t in reversed(history) if t.role == "user" and t.content.strip()]
