"""Dialogue sets: conversations asked turn by turn, as a user would, and scored turn by turn.

A dialogue set is a JSONL file, one dialogue per line::

    {"id": "d01", "turns": [
      {"question": "上海梧桐岛生命科学研究院是哪年成立的？", "answers": ["2021年"], "evidence": ["…"],
       "answerable": true, "type": "numeric"},
      {"question": "它累计接入了多少家链主企业？", "answers": ["12家"], "evidence": ["…"],
       "answerable": true, "type": "follow-up", "resolves_to": "上海梧桐岛生命科学研究院累计接入了多少家链主企业？"},
      {"question": "它的年营收是多少？", "answers": [], "evidence": [], "answerable": false, "type": "trap"}]}

A turn has the fields of a question line (``questions.py``, without ``id``): its
``type`` is any question type, ``"follow-up"`` (the turn needs the conversation) or
``"trap"`` (a follow-up whose carried entity does not have the asked fact; it must be
unanswerable).  ``resolves_to`` (optional) is the standalone question a careful reader
would understand; it is reported beside the engine's ``resolved_question``, not scored.

Turn i is asked with the earlier turns' questions and DocQA's own answers as history
(bounded as the engine bounds it), and scored with the single-question metrics.  A turn
is *right* when, answerable, it is answered with every fact, or, unanswerable, refused
(citations are reported, not required).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docqa.api import DocQAError, Settings, Turn, chunker_settings, parse_history
from docqa.errors import DocumentError
from docqa.eval.metrics import Scores, mean, percentile, strip_markers, summarise
from docqa.eval.questions import DATA_DIR, EvalQuestion, load_records, parse_question
from docqa.eval.runner import ask_scored
from docqa.eval.table import fmt

BUNDLED_DIALOGUES = DATA_DIR / "dialogues.jsonl"
FOLLOW_UP, TRAP = "follow-up", "trap"
TURN_FIELDS = ("question", "answers", "evidence", "answerable", "type")
OUTPUTS = {"summary": "dialogues.json", "turns": "dialogue_turns.jsonl"}
PREVIEW = 160


@dataclass(frozen=True)
class DialogueTurn:
    question: EvalQuestion  # id "<dialogue id>#<n>", n counted from 1
    resolves_to: str | None = None

    @property
    def follow_up(self) -> bool:
        return self.question.type in (FOLLOW_UP, TRAP)


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: tuple[DialogueTurn, ...]


@dataclass
class TurnResult:
    dialogue: str
    n: int  # 1-based
    turn: DialogueTurn
    answer: dict  # the answer contract, Answer.to_dict()
    scores: Scores
    history: int  # how many earlier messages were sent with it

    @property
    def right(self) -> bool:
        return turn_right(self.scores)

    def to_dict(self) -> dict:
        gold = self.turn.question.to_dict()
        del gold["id"], gold["question"]
        if self.turn.resolves_to is not None:
            gold["resolves_to"] = self.turn.resolves_to
        return {"dialogue": self.dialogue, "turn": self.n, "id": self.turn.question.id, "history": self.history,
                **self.answer, "gold": gold, "right": self.right, "scores": self.scores.to_dict()}  # fmt: skip


# --- loading


def _bad(where: str, msg: str) -> DocumentError:
    return DocumentError(
        f'{where}: {msg}; each line must be a JSON object {{"id", "turns": [{{{", ".join(TURN_FIELDS)}}}, …]}}'
    )


def parse_dialogue(obj: object, where: str) -> Dialogue:
    """Validate one decoded JSON line; turns are validated as question lines are."""
    if not isinstance(obj, dict):
        raise _bad(where, "not a JSON object")
    if not isinstance(obj.get("id"), str) or not obj["id"].strip():
        raise _bad(where, "id must be a non-empty string")
    if not isinstance(obj.get("turns"), list) or not obj["turns"]:
        raise _bad(where, "turns must be a non-empty list of turns")
    turns = []
    for n, turn in enumerate(obj["turns"], 1):
        at = f"{where}: turn {n}"
        if not isinstance(turn, dict):
            raise _bad(at, "not a JSON object")
        missing = [f for f in TURN_FIELDS if f not in turn]
        if missing:
            raise _bad(at, f"missing {', '.join(missing)}")
        try:
            q = parse_question({**turn, "id": f"{obj['id']}#{n}"}, at)
        except DocumentError as exc:  # the question's own message, with this format's hint
            raise _bad(at, str(exc).removeprefix(f"{at}: ").split("; each line must")[0]) from None
        if n == 1 and q.type in (FOLLOW_UP, TRAP):
            raise _bad(at, f"the first turn cannot be a {q.type}: there is no conversation yet")
        if q.type == TRAP and q.answerable:
            raise _bad(at, "a trap must be answerable: false (its carried entity does not have the fact)")
        resolves_to = turn.get("resolves_to")
        if resolves_to is not None and (not isinstance(resolves_to, str) or not resolves_to.strip()):
            raise _bad(at, "resolves_to, when given, must be the standalone question as a non-empty string")
        turns.append(DialogueTurn(q, resolves_to))
    return Dialogue(obj["id"], tuple(turns))


def load_dialogues(path: Path) -> list[Dialogue]:
    """Read and validate a dialogue file (ids must be unique)."""
    return load_records(path, "dialogue", "--dialogues", parse_dialogue, _bad)


# --- asking


def ask_dialogues(
    engine, dialogues: list[Dialogue], top_k: int, mode: str, on_turn: Callable[[], None] | None = None
) -> list[TurnResult]:
    """Ask every dialogue turn by turn; turn i gets the earlier questions and the
    engine's own answers (not the gold) as history.  An engine error stops the
    run, naming the dialogue and the turn."""
    if not dialogues:
        raise DocQAError("the dialogue set is empty; nothing to evaluate")
    engine.check(dialogues[0].turns[0].question.question, top_k, mode)  # a bad mode or top_k fails once
    out = []
    for d in dialogues:
        said: list[Turn] = []
        for n, turn in enumerate(d.turns, 1):
            q = turn.question
            try:
                history = parse_history(said)  # the last turns, as a chat client sends them
                answer, scores = ask_scored(engine, q, top_k, mode, history=history)
            except DocQAError as exc:
                raise type(exc)(f"dialogue {d.id} turn {n}: {exc}") from exc
            out.append(TurnResult(d.id, n, turn, answer, scores, len(history)))
            said += [Turn("user", q.question), Turn("assistant", answer["answer"])]
            if on_turn:
                on_turn()
    return out


# --- scoring (pure)


def turn_right(s: Scores) -> bool:
    """Answerable: answered with every fact; unanswerable: refused."""
    return s.refused if not s.answerable else not s.refused and bool(s.exact)


def _rate(flags: list[bool]) -> float | None:
    v = mean([1.0 if f else 0.0 for f in flags])
    return None if v is None else round(v, 4)


def _p50(values: list[float]) -> float | None:
    v = percentile(values, 50)
    return None if v is None else round(v, 1)


def summarise_dialogues(results: list[TurnResult]) -> dict:
    """The dialogue figures, the single-question figures over every turn, and the
    dialogues with a wrong turn (every turn shown, the wrong ones with what was expected)."""
    first = [r for r in results if r.n == 1]
    later = [r for r in results if r.n > 1]
    follow = [r for r in later if r.turn.follow_up]
    traps = [r for r in results if r.turn.question.type == TRAP]
    answerable = [r for r in results if r.scores.answerable]
    by_dialogue: dict[str, list[TurnResult]] = {}
    for r in results:
        by_dialogue.setdefault(r.dialogue, []).append(r)
    first_ms, later_ms = _p50([r.scores.latency_ms for r in first]), _p50([r.scores.latency_ms for r in later])
    return {
        "dialogues": len(by_dialogue),
        "turns": len(results),
        "first_turns": len(first),
        "follow_ups": len(follow),
        "traps": len(traps),
        "rewritten": sum(1 for r in later if r.answer.get("resolved_question", r.answer["question"]) != r.answer["question"]),
        "figures": {
            "turn_accuracy": _rate([r.right for r in results]),
            "first_turn_accuracy": _rate([r.right for r in first]),
            "follow_up_accuracy": _rate([r.right for r in follow]),
            "dialogue_accuracy": _rate([all(r.right for r in rs) for rs in by_dialogue.values()]),
            "trap_refusal_rate": _rate([r.scores.refused for r in traps]),
            "traps_answered": sum(1 for r in traps if not r.scores.refused),
            "false_refusals": sum(1 for r in answerable if r.scores.refused),
            "false_refusal_rate": _rate([r.scores.refused for r in answerable]),
        },
        "latency_ms": {
            "first_turn_p50": first_ms,
            "with_history_p50": later_ms,
            "ratio": round(later_ms / first_ms, 2) if first_ms and later_ms is not None else None,
        },
        "turn_scores": summarise([r.scores for r in results]),
        "failures": [_failure(rs) for rs in by_dialogue.values() if not all(r.right for r in rs)],
    }


def _expected(q: EvalQuestion) -> str:
    return " + ".join(" / ".join(f) for f in q.answers) if q.answerable else "a refusal"


def _why(r: TurnResult) -> str:
    s = r.scores
    if not s.answerable:
        if r.turn.question.type == TRAP:
            return "answered a trap: the carried entity does not have this fact"
        return "answered a question the documents do not answer"
    if s.refused:
        return "refused an answerable turn"
    return "missing facts: " + "; ".join(" / ".join(f) for f, ok in zip(r.turn.question.answers, s.facts_found) if not ok)


def _failure(turns: list[TurnResult]) -> dict:
    rows = []
    for r in turns:
        row = {"turn": r.n, "type": r.turn.question.type, "question": r.turn.question.question,
               "resolved_question": r.answer.get("resolved_question", r.answer["question"]),
               "answer": strip_markers(r.answer["answer"]), "refused": r.scores.refused, "right": r.right}  # fmt: skip
        if not r.right:
            row |= {"resolves_to": r.turn.resolves_to, "expected": _expected(r.turn.question), "why": _why(r)}
        rows.append(row)
    return {"dialogue": turns[0].dialogue, "turns": rows}


# --- running and showing


def run_dialogues(
    settings: Settings,
    dialogues: list[Dialogue],
    corpus: list[Path],
    out_dir: Path,
    dialogue_source,
    corpus_source,
    mode: str | None = None,
    top_k: int | None = None,
    embedder=None,
    rebuild_index: bool = False,
    show_progress: bool = True,
    gate_thresholds: dict | None = None,
) -> tuple[dict, dict[str, Path]]:
    """Ask ``dialogues`` over ``corpus`` (its cached eval index) and write
    ``dialogues.json`` (figures, failures, config) and ``dialogue_turns.jsonl``
    (every turn's answer and scores).  (summary, paths written)."""
    from docqa.api import make_embedder, make_engine
    from docqa.eval.corpus import ensure_index
    from docqa.eval.gate import check_dialogues
    from docqa.eval.runner import _bar, _git_commit, write_jsonl

    t0 = time.perf_counter()
    mode = mode or settings.mode
    top_k = settings.top_k if top_k is None else top_k
    embedder = embedder or make_embedder(settings)
    built = ensure_index(settings, corpus, embedder, rebuild=rebuild_index)
    t1 = time.perf_counter()
    engine = make_engine(settings, embedder, index_dir=built.path)
    engine.warmup()  # the first question's latency is a question's, not the loading's
    bar = _bar(sum(len(d.turns) for d in dialogues), "dialogues", "turn", show_progress)
    try:
        results = ask_dialogues(engine, dialogues, top_k, mode, on_turn=lambda: bar.update(1))
    finally:
        bar.close()
    summary = summarise_dialogues(results)
    info = engine.info()
    summary["config"] = {
        "model": info["model"],
        "embedder": getattr(embedder, "model_id", None),
        "chunker": chunker_settings(settings.chunk_size, settings.chunk_overlap),
        "mode": mode,
        "top_k": top_k,
        "dialogues": {"name": dialogue_source.name, **dialogue_source.detail},
        "corpus": {
            "name": corpus_source.name,
            **corpus_source.detail,
            "documents": info["documents"],
            "index_dir": str(built.path),
            "index_reused": not built.built,
        },  # fmt: skip
        "git_commit": _git_commit(),
    }
    if gate_thresholds is not None:
        summary["gate"] = [
            {"name": g.name, "value": g.value, "op": g.op, "threshold": g.threshold, "ok": g.ok}
            for g in check_dialogues(summary, gate_thresholds)
        ]
    summary["run"] = {"index_s": round(t1 - t0, 1), "wall_s": round(time.perf_counter() - t0, 1)}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / file for name, file in OUTPUTS.items()}
    paths["summary"].write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_jsonl(paths["turns"], [r.to_dict() for r in results])
    return summary, paths


def _clip(text: str | None, n: int = PREVIEW) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= n else t[:n] + "…"


def summary_lines(summary: dict) -> list[str]:
    """The figures, for the terminal."""
    f, lat = summary["figures"], summary["latency_ms"]
    show = lambda v: str(v) if isinstance(v, int) else fmt(v)  # counts as they are
    ms = lambda v: fmt(v, "latency_ms.p50")
    rows = [
        ("turn_accuracy", show(f["turn_accuracy"]), f"{summary['turns']} turns"),
        ("first_turn_accuracy", show(f["first_turn_accuracy"]), f"{summary['first_turns']} first turns"),
        ("follow_up_accuracy", show(f["follow_up_accuracy"]), f"{summary['follow_ups']} follow-ups and traps"),
        ("dialogue_accuracy", show(f["dialogue_accuracy"]), "every turn right"),
        ("trap_refusal_rate", show(f["trap_refusal_rate"]), f"{summary['traps']} traps"),
        ("traps_answered", show(f["traps_answered"]), "must be 0"),
        ("false_refusals", show(f["false_refusals"]), f"rate {show(f['false_refusal_rate'])} of answerable turns"),
        ("rewritten", str(summary["rewritten"]), "later turns whose resolved_question differs"),
        ("latency_ms p50", f"{ms(lat['first_turn_p50'])} / {ms(lat['with_history_p50'])}",
         f"first turns / with history (ratio {fmt(lat['ratio'])})"),
    ]  # fmt: skip
    w0, w1 = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    return [f"{a.ljust(w0)}  {b.rjust(w1)}  {c}" for a, b, c in rows]


def failure_lines(summary: dict) -> list[str]:
    """Each dialogue with a wrong turn: every turn, ✓ or ✗, and for a wrong one how it
    was understood, what was answered and what was expected."""
    lines = []
    for d in summary["failures"]:
        lines.append(f"{d['dialogue']}:")
        for t in d["turns"]:
            mark = "✓" if t["right"] else "✗"
            lines.append(f"  {mark} {t['turn']} ({t['type']}) {t['question']}")
            if t["right"]:
                continue
            if t["resolved_question"] != t["question"] or (t.get("resolves_to") or t["question"]) != t["question"]:
                lines.append(f"      understood as: {t['resolved_question']}")
                lines.append(f"      resolves to:   {t.get('resolves_to') or '–'}")
            lines.append(f"      answer:        {'(refused) ' if t['refused'] else ''}{_clip(t['answer'])}")
            lines.append(f"      expected:      {t['expected']}")
            lines.append(f"      why:           {t['why']}")
    return lines
