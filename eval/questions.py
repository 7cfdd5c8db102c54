"""Question sets: JSONL files, one question per line::

    {"id": "r001", "question": "…", "answers": ["12家", ["58%", "58 percent"]],
     "evidence": ["第二批12家长三角创新联合体成立"], "answerable": true, "type": "numeric"}

Each fact in ``answers`` is a string or a list of alternative strings; every
fact must appear in a correct answer.  ``evidence`` are substrings of the
source that contain the answer.  An optional ``source`` names the document
(file name) the question was written on; ``--negatives`` then leaves out the
whole document, not only the passages holding the evidence.  Loading validates every line and names the
line and field that is wrong.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from docqa.errors import DocumentError

T = TypeVar("T")

DATA_DIR = Path(__file__).resolve().parent / "data"
BUNDLED_QUESTIONS = DATA_DIR / "report_questions.jsonl"
CALIBRATION_QUESTIONS = DATA_DIR / "calibration_questions.jsonl"
FIELDS = ("id", "question", "answers", "evidence", "answerable", "type")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: list[list[str]]  # facts, each a list of alternatives
    evidence: list[str]
    answerable: bool
    type: str
    source: str | None = None  # the document the question was written on (its file name)
    negative: bool = False  # asked without its evidence (see negatives.py): must be refused

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "question": self.question,
            "answers": [f[0] if len(f) == 1 else list(f) for f in self.answers],
            "evidence": list(self.evidence),
            "answerable": self.answerable,
            "type": self.type,
        }
        d |= {"source": self.source} if self.source is not None else {}
        return d | ({"negative": True} if self.negative else {})

    def as_negative(self) -> EvalQuestion:
        """The same question asked without its evidence: it must be refused."""
        return replace(self, id=f"{self.id}-neg", answers=[], answerable=False, type=f"{self.type}_negative", negative=True)


def _bad(where: str, msg: str) -> DocumentError:
    return DocumentError(f"{where}: {msg}; each line must be a JSON object with {', '.join(FIELDS)}")


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) and x.strip() for x in value)


def parse_question(obj: object, where: str) -> EvalQuestion:
    """Validate one decoded JSON line."""
    if not isinstance(obj, dict):
        raise _bad(where, "not a JSON object")
    missing = [f for f in FIELDS if f not in obj]
    if missing:
        raise _bad(where, f"missing {', '.join(missing)}")
    if not isinstance(obj["id"], str) or not obj["id"].strip():
        raise _bad(where, "id must be a non-empty string")
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        raise _bad(where, "question must be a non-empty string")
    if not isinstance(obj["answerable"], bool):
        raise _bad(where, "answerable must be true or false")
    if not isinstance(obj["type"], str) or not obj["type"].strip():
        raise _bad(where, "type must be a non-empty string")
    if not isinstance(obj["answers"], list):
        raise _bad(where, "answers must be a list of facts")
    facts: list[list[str]] = []
    for fact in obj["answers"]:
        alts = [fact] if isinstance(fact, str) else fact
        if not _strings(alts) or not alts:
            raise _bad(where, f"fact {fact!r} must be a non-empty string or a list of non-empty strings")
        facts.append(list(alts))
    if not _strings(obj["evidence"]):
        raise _bad(where, "evidence must be a list of non-empty strings")
    if obj["answerable"] and not facts:
        raise _bad(where, "an answerable question needs at least one fact in answers")
    if not obj["answerable"] and facts:
        raise _bad(where, "an unanswerable question must have no answers")
    source = obj.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise _bad(where, "source, when given, must be a document's file name")
    return EvalQuestion(
        id=obj["id"],
        question=obj["question"],
        answers=facts,
        evidence=list(obj["evidence"]),
        answerable=obj["answerable"],
        type=obj["type"].strip(),
        source=source,
    )


def load_records(
    path: Path, kind: str, flag: str, parse: Callable[[object, str], T], bad: Callable[[str, str], DocumentError] | None = None
) -> list[T]:
    """Read and validate a JSONL file of ``kind`` records (one per line, each
    with a unique ``id``), each read by ``parse(obj, "file:line")``; ``bad(where,
    problem)`` words an error (default: the question format's)."""
    bad = bad or _bad
    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"{path}: no such {kind} file; pass a JSONL file with {flag}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: cannot read the {kind} file ({exc}); save it as UTF-8 JSONL") from exc
    records: list[T] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(where, f"invalid JSON ({exc.msg})") from exc
        record = parse(obj, where)
        record_id = getattr(record, "id")  # noqa: B009 -- every record type has one
        if record_id in seen:
            raise bad(where, f"duplicate id {record_id!r}")
        seen.add(record_id)
        records.append(record)
    if not records:
        raise DocumentError(f"{path}: the {kind} file is empty")
    return records


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read and validate a question file (ids must be unique)."""
    return load_records(path, "question", "--questions", parse_question)


def sample(questions: list[EvalQuestion], limit: int | None, seed: int = 2018) -> list[EvalQuestion]:
    """A deterministic sample of ``limit`` questions, in file order (all when
    ``limit`` is None or not smaller than the set)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    keep = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in keep]
