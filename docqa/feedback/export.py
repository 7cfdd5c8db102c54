"""Users' ratings as eval-question lines, so what users reported becomes
regression questions.

Each line has the eval suite's fields (``id``, ``question``, ``answers``,
``evidence``, ``answerable``, ``type``; see eval/questions.py) with
``answers`` and ``evidence`` left empty for a maintainer, and one extra field,
``feedback``, holding what the user asked, their comment and DocQA's answer and
citations.  The eval ignores extra fields; it refuses an answerable line with
no answers, so an unfinished line cannot slip into a question set."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from docqa.feedback.records import Feedback

QUESTION_TYPE = "feedback"  # the maintainer may change it to numeric, list, entity, …


def eval_line(record: Feedback) -> dict[str, Any]:
    """One eval question for a stored rating (the client's IP is never exported)."""
    return {
        "id": f"fb-{record.id}",
        "question": record.resolved_question or record.question,
        "answers": [],
        "evidence": [],
        "answerable": True,
        "type": QUESTION_TYPE,
        "feedback": {
            "rating": record.rating,
            "asked": record.question,
            "comment": record.comment,
            "answer": record.answer,
            "citations": list(record.citations),
            "mode": record.mode,
            "generation": record.generation,
            "created_at": record.created_at,
        },
    }


def write_eval_lines(records: Iterable[Feedback], out: TextIO) -> int:
    """Write one JSON line per record; returns how many."""
    n = 0
    for record in records:
        out.write(json.dumps(eval_line(record), ensure_ascii=False))
        out.write("\n")
        n += 1
    return n


def finish_hint(n: int, where: str) -> str:
    """How a maintainer turns the exported lines into eval questions (JSON lines
    cannot hold comments, so the CLI prints this on stderr)."""
    return "\n".join(
        [
            f"wrote {n} question(s) to {where}. The eval refuses them until you finish each line:",
            '  - "answers": the facts a correct answer must contain, and "evidence": source text holding them;',
            '    if the documents do not hold the answer, set "answerable": false and keep "answers" empty;',
            '  - "question": make it stand alone if it still leans on earlier turns (它, 其中, "it", …);',
            '  - "type": optionally something better than "feedback" (numeric, list, entity, …).',
            '"feedback" shows what the user asked, their comment, DocQA\'s answer and citations; the eval ignores it.',
            "Then: docqa eval --questions FILE",
        ]
    )
