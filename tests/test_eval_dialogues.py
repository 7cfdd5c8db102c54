"""Dialogue sets: loading and validation, asking turn by turn with the system's own
answers as history, the figures, the CLI and the gate's [dialogues] table."""

from __future__ import annotations

import json

import pytest

from docqa.api import Answer, Turn
from docqa.errors import DocumentError
from docqa.eval.dialogues import (
    TurnResult,
    ask_dialogues,
    failure_lines,
    load_dialogues,
    summarise_dialogues,
    turn_right,
)
from docqa.eval.metrics import Scores
from tests.test_eval_runner import _main, tiny  # noqa: F401

# Over the tiny report of test_eval_runner.py (DOC there).
DIALOGUES = [
    {"id": "d1", "turns": [
        {"question": "静安区首批链主企业有几家？", "answers": [["8家", "八家"]],
         "evidence": ["8家跨国公司及行业龙头企业成为首批链主企业"], "answerable": True, "type": "numeric"},
        {"question": "它们是什么样的企业？", "answers": ["跨国公司"], "evidence": ["8家跨国公司及行业龙头企业"],
         "answerable": True, "type": "follow-up", "resolves_to": "静安区首批链主企业是什么样的企业？"},
        {"question": "它们的年营收一共多少？", "answers": [], "evidence": [], "answerable": False, "type": "trap",
         "resolves_to": "静安区首批链主企业的年营收一共多少？"},
    ]},
    {"id": "d2", "turns": [
        {"question": "上海累计备案新型研发机构多少家？", "answers": ["36家"], "evidence": ["上海累计备案新型研发机构36家"],
         "answerable": True, "type": "numeric"},
        {"question": "其中2024年新增几家？", "answers": ["5家"], "evidence": ["其中2024年新增5家"],
         "answerable": True, "type": "follow-up"},
    ]},
]  # fmt: skip
REFUSAL = "文档中没有找到答案。"
ASKED = [("d1", 1, 0), ("d1", 2, 2), ("d1", 3, 4), ("d2", 1, 0), ("d2", 2, 2)]  # (dialogue, turn, messages of history sent)


def _write(path, dialogues=DIALOGUES):
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in dialogues) + "\n", encoding="utf-8")
    return path


class ScriptedEngine:
    """Answers from a script (question -> answer text, or None to refuse) and
    records the history each question was asked with."""

    def __init__(self, script: dict[str, str | None]):
        self.script = script
        self.asked: list[tuple[str, list[Turn]]] = []

    def check(self, question, top_k=None, mode=None):
        return question, top_k, mode

    def ask(self, question, top_k=None, mode=None, history=(), min_confidence=None):
        self.asked.append((question, list(history)))
        text = self.script.get(question)
        resolved = f"（改写）{question}" if history else question
        return Answer(question=question, answer=text or REFUSAL, refused=text is None, citations=[], passages=[],
                      resolved_question=resolved)  # fmt: skip


class BelowThresholdEngine(ScriptedEngine):
    """Refuses every question with a confidence; with no threshold, answers from the script."""

    def ask(self, question, top_k=None, mode=None, history=(), min_confidence=None):
        answer = super().ask(question, top_k, mode, history)
        if min_confidence == 0.0:
            return answer
        return Answer(question=question, answer=REFUSAL, refused=True, citations=[], passages=[], confidence=0.2,
                      resolved_question=answer.resolved_question)  # fmt: skip


# --- loading


def test_load_reads_turns_as_questions(tmp_path):
    d1, d2 = load_dialogues(_write(tmp_path / "d.jsonl"))
    assert (d1.id, len(d1.turns), d2.id, len(d2.turns)) == ("d1", 3, "d2", 2)
    first, follow, trap = d1.turns
    assert first.question.id == "d1#1" and first.question.answers == [["8家", "八家"]] and not first.follow_up
    assert follow.follow_up and follow.resolves_to == "静安区首批链主企业是什么样的企业？"
    assert trap.question.type == "trap" and not trap.question.answerable and trap.follow_up
    assert d2.turns[1].resolves_to is None


def _turn(**change):
    return {"question": "它呢？", "answers": ["5家"], "evidence": [], "answerable": True, "type": "follow-up", **change}


FIRST = {
    "question": "上海累计备案新型研发机构多少家？",
    "answers": ["36家"],
    "evidence": [],
    "answerable": True,
    "type": "numeric",
}


@pytest.mark.parametrize(
    "line, message",
    [
        ("[1, 2]", ":1: not a JSON object"),
        ('{"id": "x", "turns": [', ":1: invalid JSON"),
        ('{"turns": []}', ":1: id must be a non-empty string"),
        ('{"id": "x", "turns": []}', ":1: turns must be a non-empty list of turns"),
        (json.dumps({"id": "x", "turns": [FIRST, "它呢？"]}), ":1: turn 2: not a JSON object"),
        (json.dumps({"id": "x", "turns": [FIRST, {"question": "它呢？", "answers": ["5家"]}]}),
         ":1: turn 2: missing evidence, answerable, type"),
        (json.dumps({"id": "x", "turns": [FIRST, _turn(answers=[""])]}),
         ":1: turn 2: fact '' must be a non-empty string or a list of non-empty strings"),
        (json.dumps({"id": "x", "turns": [FIRST, _turn(answerable="yes")]}), ":1: turn 2: answerable must be true or false"),
        (json.dumps({"id": "x", "turns": [_turn()]}), ":1: turn 1: the first turn cannot be a follow-up"),
        (json.dumps({"id": "x", "turns": [FIRST, _turn(type="trap")]}), ":1: turn 2: a trap must be answerable: false"),
        (json.dumps({"id": "x", "turns": [FIRST, _turn(answers=[], answerable=False, type="trap", resolves_to="")]}),
         ":1: turn 2: resolves_to, when given, must be the standalone question"),
    ],
)  # fmt: skip
def test_bad_lines_name_the_line_the_turn_and_the_field(tmp_path, line, message):
    path = tmp_path / "d.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DocumentError) as err:
        load_dialogues(path)
    text = str(err.value)
    assert text.startswith(f"{path}{message}"), text
    assert text.endswith(
        'each line must be a JSON object {"id", "turns": [{question, answers, evidence, answerable, type}, …]}'
    )
    assert "each line must be a JSON object with" not in text  # the question format's hint is replaced


def test_duplicate_ids_missing_and_empty_files(tmp_path):
    with pytest.raises(DocumentError, match=r"d.jsonl:2: duplicate id 'd1'"):
        load_dialogues(_write(tmp_path / "d.jsonl", [DIALOGUES[0], DIALOGUES[0]]))
    with pytest.raises(DocumentError, match="no such dialogue file; pass a JSONL file with --dialogues"):
        load_dialogues(tmp_path / "none.jsonl")
    (tmp_path / "e.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="the dialogue file is empty"):
        load_dialogues(tmp_path / "e.jsonl")


# --- asking: the history is the system's own answers, in order, bounded


def test_each_turn_gets_the_earlier_questions_and_the_systems_own_answers(tmp_path):
    dialogues = load_dialogues(_write(tmp_path / "d.jsonl"))
    engine = ScriptedEngine({"静安区首批链主企业有几家？": "首批链主企业有8家[1]。", "它们是什么样的企业？": "是龙头企业[1]。"})
    results = ask_dialogues(engine, dialogues, top_k=5, mode="extractive")
    assert [q for q, _ in engine.asked] == [t.question.question for d in dialogues for t in d.turns]
    histories = [h for _, h in engine.asked]
    assert histories[0] == [] and histories[3] == []  # each dialogue starts afresh
    assert histories[1] == [Turn("user", "静安区首批链主企业有几家？"), Turn("assistant", "首批链主企业有8家[1]。")]
    assert histories[2] == histories[1] + [Turn("user", "它们是什么样的企业？"), Turn("assistant", "是龙头企业[1]。")]
    assert histories[4] == [Turn("user", "上海累计备案新型研发机构多少家？"), Turn("assistant", REFUSAL)]  # a refusal as shown
    assert [(r.dialogue, r.n, r.history) for r in results] == ASKED


def test_a_long_dialogue_sends_only_the_last_turns(tmp_path):
    from docqa.api import parse_history

    bound = len(parse_history([Turn("user", str(i)) for i in range(100)]))  # the engine's own bound
    turns = [{"question": f"第{i}个问题？", "answers": [f"{i}家"], "evidence": [], "answerable": True,
              "type": "numeric" if i == 1 else "follow-up"} for i in range(1, bound)]  # fmt: skip
    dialogues = load_dialogues(_write(tmp_path / "d.jsonl", [{"id": "long", "turns": turns}]))
    engine = ScriptedEngine({t["question"]: f"答案{i}" for i, t in enumerate(turns, 1)})
    ask_dialogues(engine, dialogues, top_k=5, mode="extractive")
    last_question, last_history = engine.asked[-1]
    assert len(last_history) == bound < 2 * (len(turns) - 1)
    assert last_history[-2:] == [Turn("user", turns[-2]["question"]), Turn("assistant", f"答案{len(turns) - 1}")]
    assert last_history[0].role == "user"  # whole exchanges are kept


def test_a_refused_turn_is_scored_on_what_it_would_have_answered_too(tmp_path):
    """As for single questions: right_if_answered (the risk–coverage curve) reads the answer a
    refused turn would get with no threshold, asked with the same history."""
    dialogues = load_dialogues(_write(tmp_path / "d.jsonl"))
    engine = BelowThresholdEngine({"静安区首批链主企业有几家？": "8家[1]", "它们是什么样的企业？": "是行业龙头企业[1]"})
    first, follow, *_ = ask_dialogues(engine, dialogues, top_k=5, mode="extractive")
    assert first.scores.refused and not first.scores.ok and first.scores.right_if_answered
    assert follow.scores.refused and not follow.scores.right_if_answered  # its fact is missing either way
    assert engine.asked[1] == engine.asked[0] and engine.asked[3][1] == engine.asked[2][1]  # asked again, same history


# --- scoring


def _scores(answerable: bool, refused: bool, exact: bool | None = None) -> Scores:
    return Scores(type="numeric", answerable=answerable, refused=refused, latency_ms=1.0, exact=exact)


def test_turn_right():
    assert turn_right(_scores(True, False, exact=True))
    assert not turn_right(_scores(True, False, exact=False))
    assert not turn_right(_scores(True, True, exact=False))  # a false refusal
    assert turn_right(_scores(False, True)) and not turn_right(_scores(False, False))


def test_figures_and_failures(tmp_path):
    dialogues = load_dialogues(_write(tmp_path / "d.jsonl"))
    engine = ScriptedEngine({
        "静安区首批链主企业有几家？": "8家[1]",           # right
        "它们是什么样的企业？": "是行业龙头企业[1]",      # follow-up: fact missing
        "它们的年营收一共多少？": "147家",                # trap answered
        "上海累计备案新型研发机构多少家？": None,         # first turn falsely refused
        "其中2024年新增几家？": "新增5家",                # follow-up right
    })  # fmt: skip
    s = summarise_dialogues(ask_dialogues(engine, dialogues, top_k=5, mode="extractive"))
    assert (s["dialogues"], s["turns"], s["first_turns"], s["follow_ups"], s["traps"], s["rewritten"]) == (2, 5, 2, 3, 1, 3)
    assert s["figures"] == {
        "turn_accuracy": 0.4, "first_turn_accuracy": 0.5, "follow_up_accuracy": 0.3333, "dialogue_accuracy": 0.0,
        "trap_refusal_rate": 0.0, "traps_answered": 1, "false_refusals": 1, "false_refusal_rate": 0.25,
    }  # fmt: skip
    assert set(s["latency_ms"]) == {"first_turn_p50", "with_history_p50", "ratio"}
    assert s["turn_scores"]["questions"] == 5 and set(s["turn_scores"]["by_type"]) == {"numeric", "follow-up", "trap"}

    d1, d2 = s["failures"]
    assert d1["dialogue"] == "d1" and [t["right"] for t in d1["turns"]] == [True, False, False]
    follow = d1["turns"][1]
    assert follow == {
        "turn": 2, "type": "follow-up", "question": "它们是什么样的企业？", "resolved_question": "（改写）它们是什么样的企业？",
        "answer": "是行业龙头企业", "refused": False, "right": False, "resolves_to": "静安区首批链主企业是什么样的企业？",
        "expected": "跨国公司", "why": "missing facts: 跨国公司",
    }  # fmt: skip
    assert d1["turns"][2]["why"] == "answered a trap: the carried entity does not have this fact"
    assert d2["turns"][0]["why"] == "refused an answerable turn" and d2["turns"][0]["expected"] == "36家"
    text = "\n".join(failure_lines(s))
    assert "  ✗ 2 (follow-up) 它们是什么样的企业？\n      understood as: （改写）它们是什么样的企业？\n" in text
    assert "      resolves to:   静安区首批链主企业是什么样的企业？\n      answer:        是行业龙头企业\n" in text
    assert "      answer:        (refused) 文档中没有找到答案。\n      expected:      36家\n" in text


def test_no_follow_ups_no_traps_leaves_those_figures_undefined():
    from docqa.eval.dialogues import Dialogue, DialogueTurn
    from docqa.eval.questions import EvalQuestion

    q = EvalQuestion("a#1", "上海累计备案新型研发机构多少家？", [["36家"]], [], True, "numeric")
    results = [TurnResult("a", 1, DialogueTurn(q), {"question": q.question, "answer": "36家"}, _scores(True, False, True), 0)]
    s = summarise_dialogues(results)
    assert s["figures"]["follow_up_accuracy"] is None and s["figures"]["trap_refusal_rate"] is None
    assert s["figures"]["traps_answered"] == 0 and s["latency_ms"]["ratio"] is None and s["failures"] == []
    assert isinstance(Dialogue("a", (DialogueTurn(q),)).turns[0].question, EvalQuestion)


# --- the gate's [dialogues] table


def test_dialogue_thresholds_load_check_and_round_trip(tmp_path):
    from docqa.eval.gate import (
        check_dialogues,
        dialogue_thresholds_from,
        load_dialogue_thresholds,
        load_thresholds,
        render_thresholds,
        thresholds_from,
    )
    from tests.test_eval_gate import SUMMARY

    p = tmp_path / "t.toml"
    p.write_text('[min]\n"answer.exact" = 0.5\n', encoding="utf-8")
    assert load_dialogue_thresholds(p) is None
    dialogue = {"dialogues": 3, "turns": 9, "figures": {"turn_accuracy": 0.8889, "follow_up_accuracy": 0.8333, "traps_answered": 1},
                "config": {"dialogues": {"path": "/x/dialogues.jsonl"}}}  # fmt: skip
    measured = dialogue_thresholds_from(dialogue, rate_margin=0.05)
    assert measured == {"turn_accuracy": 0.83, "follow_up_accuracy": 0.78, "traps_answered": 1}
    text = render_thresholds(SUMMARY, thresholds_from(SUMMARY), 0.05, 10, None, (dialogue, measured))
    assert "# [dialogues]: 3 dialogues (9 turns) from dialogues.jsonl over the plain text;" in text
    assert "#   traps_answered = 1" in text and text.endswith(
        "[dialogues]\nturn_accuracy = 0.83\nfollow_up_accuracy = 0.78\ntraps_answered = 1\n"
    )
    p.write_text(text, encoding="utf-8")
    assert load_dialogue_thresholds(p) == measured and load_thresholds(p) == thresholds_from(SUMMARY)
    lines = {g.name: g for g in check_dialogues(dialogue, {**measured, "traps_answered": 0})}
    assert lines["dialogues.turn_accuracy"].ok and lines["dialogues.follow_up_accuracy"].ok
    assert (lines["dialogues.traps_answered"].op, lines["dialogues.traps_answered"].ok) == ("<=", False)
    assert "the dialogue set: not measured (no dialogue file); the gate skips it" in render_thresholds(
        SUMMARY, thresholds_from(SUMMARY), 0.05, 10
    )


def test_bad_dialogue_tables_say_how_to_fix(tmp_path):
    from docqa.eval.gate import load_dialogue_thresholds

    bad = tmp_path / "bad.toml"
    bad.write_text("[dialogues]\naccuracy = 0.9\n", encoding="utf-8")
    with pytest.raises(
        DocumentError, match="'accuracy' is not a dialogue figure; use turn_accuracy, follow_up_accuracy, traps_answered"
    ):
        load_dialogue_thresholds(bad)
    bad.write_text('[dialogues]\nturn_accuracy = "high"\n', encoding="utf-8")
    with pytest.raises(DocumentError, match=r"\[dialogues\] turn_accuracy must be a number"):
        load_dialogue_thresholds(bad)


def test_committed_thresholds_have_a_dialogue_table():
    from docqa.eval.gate import DIALOGUE_GATED, THRESHOLDS, load_dialogue_thresholds

    assert set(load_dialogue_thresholds(THRESHOLDS) or {}) == set(DIALOGUE_GATED)


# --- the CLI over the tiny report (fake embedder; see test_eval_runner.py)


def test_cli_runs_a_dialogue_set(monkeypatch, capsys, tiny, tmp_path, fake_model):
    corpus, _ = tiny
    dfile = _write(tmp_path / "my_dialogues.jsonl")
    out = tmp_path / "out"
    code, stdout, _ = _main(monkeypatch, capsys, "--dialogues", dfile, "--corpus", corpus, "--out", out, "--no-progress")
    assert code == 0
    assert stdout.startswith(
        "my_dialogues: 2 dialogues, 5 turns over corpus; model multilingual-e5-small, mode extractive, top_k 5;"
    )
    summary = json.loads((out / "dialogues.json").read_text(encoding="utf-8"))
    row = next(line for line in stdout.splitlines() if line.startswith("turn_accuracy "))
    assert row.split()[1] == f"{summary['figures']['turn_accuracy']:.3f}" and "5 turns" in row
    assert f"wrote {out / 'dialogues.json'}" in stdout and f"wrote {out / 'dialogue_turns.jsonl'}" in stdout
    assert summary["turns"] == 5 and summary["config"]["dialogues"]["name"] == "my_dialogues"
    assert summary["config"]["corpus"]["documents"] == 1 and "gate" not in summary
    turns = [json.loads(line) for line in (out / "dialogue_turns.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(t["dialogue"], t["turn"], t["history"]) for t in turns] == ASKED
    assert {"resolved_question", "answer", "refused", "citations", "gold", "scores", "right"} <= set(turns[0])
    assert turns[1]["gold"]["resolves_to"] == "静安区首批链主企业是什么样的企业？"
    for d in summary["failures"]:  # every wrong turn is printed with what was expected
        for t in d["turns"]:
            if not t["right"]:
                assert (
                    f"  ✗ {t['turn']} ({t['type']}) {t['question']}" in stdout and f"expected:      {t['expected']}" in stdout
                )


def test_cli_dialogues_refuse_other_sets(monkeypatch, capsys, tmp_path, fake_model):
    dfile = _write(tmp_path / "d.jsonl")
    code, _, stderr = _main(monkeypatch, capsys, "--dialogues", dfile, "--questions", dfile, "--gate", "--out", tmp_path / "o")
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith("eval: error: --dialogues runs a dialogue set on its own; drop --questions, --gate")
    assert not (tmp_path / "o").exists()


@pytest.fixture
def bundled_tiny(monkeypatch, tiny, tmp_path):
    corpus, qfile = tiny
    monkeypatch.setattr("docqa.eval.questions.BUNDLED_QUESTIONS", qfile)
    monkeypatch.setattr("docqa.settings.BUNDLED_CORPUS", corpus)
    dfile = _write(tmp_path / "bundled_dialogues.jsonl")
    monkeypatch.setattr("docqa.eval.dialogues.BUNDLED_DIALOGUES", dfile)
    return corpus, qfile, dfile


LOOSE = '[min]\n"retrieval.hit@5" = 0.0\n'


def test_gate_runs_the_dialogue_set_and_fails_on_its_figure(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    t = tmp_path / "t.toml"
    t.write_text(f"{LOOSE}[dialogues]\nturn_accuracy = 1.01\ntraps_answered = 1000\n", encoding="utf-8")
    code, stdout, stderr = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "a", "--no-progress")
    assert code == 1
    assert stderr == f"eval: error: eval gate FAILED: dialogues.turn_accuracy outside the thresholds in {t}\n"
    assert "bundled_dialogues: 2 dialogues, 5 turns over bundled report;" in stdout
    rows = {line.split()[0]: line.split()[2:] for line in stdout.splitlines() if line.startswith("dialogues.")}
    assert rows == {"dialogues.turn_accuracy": [">=", "1.010", "FAIL"], "dialogues.traps_answered": ["<=", "1000", "ok"]}
    summary = json.loads((tmp_path / "a" / "dialogues" / "dialogues.json").read_text(encoding="utf-8"))
    assert [(g["name"], g["ok"]) for g in summary["gate"]] == [
        ("dialogues.turn_accuracy", False),
        ("dialogues.traps_answered", True),
    ]
    assert (tmp_path / "a" / "summary.json").is_file()  # the question set ran as before


def test_gate_skips_the_dialogue_set_without_thresholds_or_file(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    from docqa.eval.commands import _bundled_dialogues

    t = tmp_path / "t.toml"
    t.write_text(LOOSE, encoding="utf-8")
    code, stdout, _ = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "a", "--no-progress")
    assert code == 0 and "dialogues: skipped; no [dialogues] thresholds yet (measure them with --write-thresholds)" in stdout
    assert stdout.rstrip().endswith("eval gate passed") and not (tmp_path / "a" / "dialogues").exists()
    monkeypatch.setattr("docqa.eval.dialogues.BUNDLED_DIALOGUES", tmp_path / "none.jsonl")
    t.write_text(f"{LOOSE}[dialogues]\nturn_accuracy = 0.0\n", encoding="utf-8")
    dialogues, limits, _, why = _bundled_dialogues(True, t)
    assert dialogues is None and limits is None and why == f"dialogues: skipped; no dialogue set at {tmp_path / 'none.jsonl'}"


def test_gate_stops_on_a_bad_dialogue_file_before_any_question(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    _, _, dfile = bundled_tiny
    dfile.write_text('{"id": "x", "turns": []}\n', encoding="utf-8")
    t = tmp_path / "t.toml"
    t.write_text(f"{LOOSE}[dialogues]\nturn_accuracy = 0.0\n", encoding="utf-8")
    code, _, stderr = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "a", "--no-progress")
    assert code == 2 and f"{dfile}:1: turns must be a non-empty list of turns" in stderr
    assert fake_model.queries_embedded == 0


def test_write_thresholds_fills_the_dialogue_table(monkeypatch, capsys, bundled_tiny, tmp_path, fake_model):
    from docqa.eval.gate import load_dialogue_thresholds

    def no_rendering(*args, **kwargs):
        raise DocumentError("not typeset in this test")

    monkeypatch.setattr("docqa.eval.typeset.corpus_rendering", no_rendering)
    t = tmp_path / "t.toml"
    code, stdout, _ = _main(monkeypatch, capsys, "--write-thresholds", "--thresholds", t, "--margin", "0.05",
                            "--out", tmp_path / "a", "--no-progress")  # fmt: skip
    assert code == 0 and f"wrote {t}" in stdout
    measured = json.loads((tmp_path / "a" / "dialogues" / "dialogues.json").read_text(encoding="utf-8"))["figures"]
    written = load_dialogue_thresholds(t)
    assert written is not None and set(written) == {"turn_accuracy", "follow_up_accuracy", "traps_answered"}
    assert written["traps_answered"] == measured["traps_answered"]
    assert written["turn_accuracy"] == max(0.0, int((measured["turn_accuracy"] - 0.05) * 100 + 1e-9) / 100)
    code, stdout, _ = _main(monkeypatch, capsys, "--gate", "--thresholds", t, "--out", tmp_path / "b", "--no-progress")
    assert code == 0 and stdout.rstrip().endswith("eval gate passed") and "dialogues.turn_accuracy" in stdout
