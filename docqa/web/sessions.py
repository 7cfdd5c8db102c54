"""The chat window's conversations, one per browser session, kept by the
server: the answers shown (for the turns sent with the next question and for
👍 / 👎 on any of them) and the answer whose 👎 is being commented on.

Not a ``gr.State``: any State makes Gradio ask every client for a heartbeat
connection, which keeps ``@gradio/client`` programs from exiting.  Memory is
bounded: the last ``max_turns`` answers (without their passages) of the
``max_sessions`` most recently active sessions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from docqa.conversation import MAX_TURNS, Turn
from docqa.conversation.records import MAX_TURN_CHARS
from docqa.records import Answer

MAX_SESSIONS = 1000
MAX_KEPT_TURNS = 30


@dataclass(frozen=True)
class AnsweredTurn:
    """One answered question: the answer (without its passages), where its
    messages start in the chatbot and how many there are, and the rating
    given to it (``None`` until one is recorded)."""

    answer: Answer
    at: int
    messages: int
    rating: str | None = None


@dataclass
class ChatSession:
    turns: list[AnsweredTurn] = field(default_factory=list)
    commenting: int | None = None  # index in ``turns`` of the answer whose 👎 awaits its comment

    def shown_in(self, messages: int) -> list[AnsweredTurn]:
        """The turns still in a chatbot of ``messages`` messages (a client
        that sends a shorter conversation, e.g. an empty one, started over)."""
        return [t for t in self.turns if t.at + t.messages <= messages]

    def turn_at(self, index: object) -> int | None:
        """The turn whose messages include chatbot message ``index``."""
        if isinstance(index, (list, tuple)):
            index = index[0] if index else None
        if not isinstance(index, int):
            return None
        for i, turn in enumerate(self.turns):
            if turn.at <= index < turn.at + turn.messages:
                return i
        return None


def history_turns(turns: list[AnsweredTurn], max_turns: int = MAX_TURNS) -> list[Turn]:
    """The plain earlier turns, oldest first, at most ``max_turns`` of them:
    each question as asked and its answer's text (never HTML)."""
    out: list[Turn] = []
    for turn in turns:
        out.append(Turn("user", turn.answer.question[:MAX_TURN_CHARS]))
        out.append(Turn("assistant", turn.answer.answer[:MAX_TURN_CHARS]))
    return out[-max_turns:] if max_turns else []


class ChatSessions:
    """``ChatSession``s by Gradio session hash, least recently used dropped."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, max_turns: int = MAX_KEPT_TURNS):
        self.max_sessions = max_sessions
        self.max_turns = max_turns
        self._sessions: OrderedDict[str, ChatSession] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, key: str | None) -> ChatSession:
        """A copy of the session's state (a new, empty one if unknown)."""
        with self._lock:
            session = self._sessions.get(key or "")
            if session is None:
                return ChatSession()
            self._sessions.move_to_end(key or "")
            return ChatSession(list(session.turns), session.commenting)

    def put(self, key: str | None, session: ChatSession) -> None:
        if not key:  # no session (a direct call): nothing to keep
            return
        dropped = max(0, len(session.turns) - self.max_turns)
        commenting = session.commenting - dropped if session.commenting is not None else None
        kept = ChatSession(session.turns[dropped:], commenting if commenting is None or commenting >= 0 else None)
        with self._lock:
            self._sessions[key] = kept
            self._sessions.move_to_end(key)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)

    def add(self, key: str | None, answer: Answer, at: int, messages: int, shown: int) -> None:
        """Keep ``answer`` (shown from chatbot message ``at``), forgetting the
        turns no longer among the ``shown`` messages before it."""
        session = self.get(key)
        earlier = session.shown_in(shown)
        commenting = session.commenting if len(earlier) == len(session.turns) else None
        self.put(key, ChatSession([*earlier, AnsweredTurn(replace(answer, passages=[]), at, messages)], commenting))

    def clear(self, key: str | None) -> None:
        with self._lock:
            self._sessions.pop(key or "", None)
