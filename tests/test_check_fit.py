"""`docqa calibrate-check`: fitting the LLM second opinion's weights and cut on
recorded askings, writing the profile's [check] table, and recording askings
through the engine (fake embedder, fake opinion; no LLM)."""

from __future__ import annotations

import math
import random
import tomllib

import pytest

from docqa.answer.profile import bundled_dir, load_profile
from docqa.answer.second_opinion import SecondOpinion, logit
from docqa.errors import BadRequest
from docqa.eval.questions import load_questions
from docqa.train.check_fit import Reading, fit, read_set, with_table, write_table
from docqa.train.sets import TrainSet
from tests.test_eval_runner import tiny  # noqa: F401  (fixture)


def _readings(n: int = 400, seed: int = 7) -> list[Reading]:
    """Right answers tend to have a higher confidence and a much higher opinion."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        good = rng.random() < 0.5
        c = 1 / (1 + math.exp(-(rng.gauss(0.5 if good else -1.0, 1.2))))
        o = 1 / (1 + math.exp(-(rng.gauss(2.0 if good else -2.0, 1.5))))
        out.append(Reading("s", c, o, good))
    return out


def test_the_cut_answers_no_more_bad_askings_than_the_selector_and_more_right_ones():
    readings = _readings()
    c = fit(readings, threshold=0.4, floor=0.01, llm="some-llm")
    assert c.confidence_weight > 0 and c.opinion_weight > c.confidence_weight  # the opinion carries more here
    assert c.check[1] <= c.selector[1] and c.check[0] > c.selector[0]
    # the counts are what the table's rule does with the readings
    second = SecondOpinion(lambda q, p: None, c.confidence_weight, c.opinion_weight, c.cut, c.floor)
    answered = [r for r in readings if r.confidence >= c.floor and second.answers(r.confidence, r.opinion)]
    assert (sum(r.good for r in answered), sum(not r.good for r in answered)) == c.check
    assert sum(r.good for r in readings if r.confidence >= 0.4) == c.selector[0]


def test_the_table_reads_back_as_the_profile_reads_it():
    c = fit(_readings(), threshold=0.4, floor=0.01, llm="some-llm")
    table = tomllib.loads(c.table("calibrated\non test readings"))["check"]
    second = SecondOpinion.from_table(lambda q, p: None, table, "t")
    assert (second.confidence_weight, second.opinion_weight, second.cut, second.floor, second.llm) == (
        c.confidence_weight, c.opinion_weight, round(c.cut, 3), 0.01, "some-llm",
    )  # fmt: skip


@pytest.mark.parametrize(
    "readings, message",
    [
        (_readings(20), "only 20 askings got an opinion"),
        ([Reading("s", 0.5, 0.5, True)] * 60, "all right or all wrong"),
        ([Reading("s", 0.3 + 0.4 * g, 0.9 - 0.8 * g, bool(g)) for g in (0, 1) * 40], "does not predict right answers"),
    ],
)
def test_what_cannot_be_calibrated_says_why(readings, message):
    with pytest.raises(BadRequest, match=message):
        fit(readings, threshold=0.4, floor=0.01, llm="x")


def test_the_check_table_is_replaced_with_its_comment_and_the_rest_kept():
    text = (bundled_dir() / "multilingual-e5-small.toml").read_text(encoding="utf-8")
    new = with_table(
        text, '# new note\n[check]\nllm = "other"\nconfidence_weight = 1.0\nopinion_weight = 2.0\ncut = 3.0\nfloor = 0.02\n'
    )
    data = tomllib.loads(new)
    assert data["check"] == {"llm": "other", "confidence_weight": 1.0, "opinion_weight": 2.0, "cut": 3.0, "floor": 0.02}
    assert data["selector"] == tomllib.loads(text)["selector"] and data["guard"] == tomllib.loads(text)["guard"]
    assert "Calibrated with the bundled local LLM" not in new and new.count("[check]") == 1
    assert (
        with_table('[selector]\nfile = "x.json"\n', "[check]\ncut = 1\n") == '[selector]\nfile = "x.json"\n\n[check]\ncut = 1\n'
    )


def test_a_profile_of_your_own_with_a_new_check_table_keeps_the_shipped_selector(settings):
    own = settings.home / "profiles" / "multilingual-e5-small.toml"
    own.parent.mkdir(parents=True)
    text = (bundled_dir() / "multilingual-e5-small.toml").read_text(encoding="utf-8")
    own.write_text(
        with_table(text, '[check]\nllm = "mine"\nconfidence_weight = 1\nopinion_weight = 1\ncut = 0\nfloor = 0\n'), "utf-8"
    )
    p = load_profile("multilingual-e5-small", settings.home)
    assert p.source == str(own) and p.check["llm"] == "mine"
    assert p.selector_file == bundled_dir() / "multilingual-e5-small.selector.json"


def test_readings_come_from_the_engine_with_the_opinion_always_asked(settings, tiny, fake_embedder):  # noqa: F811
    corpus, qfile = tiny
    questions = load_questions(qfile)
    tset = TrainSet("tiny", [corpus], questions + [q.as_negative() for q in questions if q.answerable], "test")
    asked = []

    def opinion(question: str, passage: str) -> float:
        asked.append(question)
        return 0.25

    readings, threshold = read_set(settings, tset, fake_embedder, opinion)
    assert 0 < threshold < 1 and readings and len(readings) == len(asked)
    assert all(r.opinion == 0.25 and 0 <= r.confidence <= 1 and r.set == "tiny" for r in readings)
    assert len(readings) == len(tset.questions)  # the never-refusing opinion lets every asking be read
    assert [r.good for r in readings[: len(questions)]][:2] == [True, True]  # the two answerable ones in the tiny set
    assert not any(r.good for r in readings[len(questions) :])  # asked without its evidence: never right
    assert logit(readings[0].confidence) == pytest.approx(math.log(readings[0].confidence / (1 - readings[0].confidence)))


def test_calibrate_check_without_an_llm_is_one_clear_error(fake_model, monkeypatch, capsys):
    from docqa.cli import main

    monkeypatch.setattr("sys.argv", ["docqa", "calibrate-check"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2 and fake_model.queries_embedded == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "calibrate-check asks the LLM it calibrates; set DOCQA_LLM_BASE_URL" in err


def test_a_missing_trial_file_says_where_to_pass_it(settings, tmp_path):
    from docqa.errors import DocumentError
    from docqa.train.check_fit import calibration_sets

    with pytest.raises(DocumentError, match="training set cmrc2018-trial not found; pass its location with --cmrc2018"):
        calibration_sets(settings, tmp_path / "nowhere.json")


def test_the_sets_are_trial_questions_and_the_development_documents_each_with_negatives(settings, tmp_path):
    import json

    from docqa.train.check_fit import calibration_sets
    from tests.test_eval_cmrc import TINY

    trial = tmp_path / "trial.json"
    trial.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    found = {t.name: t for t in calibration_sets(settings, trial, limit=1)}
    assert set(found) == {"cmrc2018-trial", "other-docs"} | {f"dev-docs-{x}" for x in ("v", "x1", "x2", "x3", "x4")}
    assert [(q.id, q.negative) for q in found["cmrc2018-trial"].questions] == [
        ("DEV_0_QUERY_0", False), ("DEV_0_QUERY_0-neg", True),
    ]  # fmt: skip
    for t in found.values():
        assert sum(q.negative for q in t.questions) == sum(q.answerable for q in t.questions)
        assert all(p.is_dir() for p in t.corpus)


def test_the_table_goes_into_the_profile_being_written_or_a_copy_of_the_shipped_one(tmp_path):
    shipped = bundled_dir() / "multilingual-e5-small.toml"
    target = tmp_path / "profiles" / "multilingual-e5-small.toml"
    write_table(target, shipped, "[check]\ncut = 1.0\n")
    first = tomllib.loads(target.read_text(encoding="utf-8"))
    assert first["check"] == {"cut": 1.0} and first["guard"] == tomllib.loads(shipped.read_text("utf-8"))["guard"]
    target.write_text(target.read_text(encoding="utf-8").replace("semantic = 0.92", "semantic = 0.9"), "utf-8")
    write_table(target, shipped, "[check]\ncut = 2.0\n")  # your own edits to the profile stay
    second = tomllib.loads(target.read_text(encoding="utf-8"))
    assert second["check"] == {"cut": 2.0} and second["guard"]["semantic"] == 0.9
    assert [p.name for p in target.parent.iterdir()] == [target.name]
