"""What a user's 👍 / 👎 on an answer is stored as, and the summary of many."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Rating = Literal["up", "down"]
RATINGS: tuple[Rating, ...] = ("up", "down")


@dataclass(frozen=True)
class Feedback:
    """One rating of one answer.  ``citations`` are the answer contract's
    citation objects as the client sent them back; ``client_ip`` is only kept
    when ``DOCQA_FEEDBACK_CLIENT_IP`` is on.  ``id`` is given by the store."""

    rating: Rating
    question: str  # as the user asked it
    resolved_question: str  # the standalone question DocQA answered (= question on a first turn)
    answer: str
    created_at: str  # UTC, ISO 8601
    generation: str  # the index generation that answered
    citations: tuple[dict[str, Any], ...] = ()
    mode: str | None = None
    comment: str | None = None
    client_ip: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Counts:
    up: int = 0
    down: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down

    def add(self, rating: str, n: int = 1) -> Counts:
        return Counts(self.up + n, self.down) if rating == "up" else Counts(self.up, self.down + n)


@dataclass(frozen=True)
class FeedbackStats:
    """A summary of the store: ratings overall, by mode, by index generation,
    over the last seven days, and how many came with a comment."""

    all: Counts
    last_7_days: Counts
    with_comment: int
    by_mode: dict[str, Counts] = field(default_factory=dict)  # "" when the client sent no mode
    by_generation: dict[str, Counts] = field(default_factory=dict)
    first: str | None = None  # created_at of the oldest and newest rating
    last: str | None = None
