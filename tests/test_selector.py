"""The learned answer selector: features, training labels, the selector file,
and the eval's negatives and risk–coverage figures (no real model needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from docqa.answer.features import FEATURES, feature_matrix
from docqa.answer.selector import Selector
from docqa.errors import DocumentError
from docqa.eval.metrics import Scores, risk_coverage, summarise
from docqa.eval.negatives import Exclusions
from docqa.eval.questions import EvalQuestion
from docqa.records import Chunk, Hit, Unit
from docqa.train.examples import Examples, relevance
from docqa.train.fit import figures, fit

SENTENCE = "纽西兰鸡毛松是罗汉松科的植物，树高可达55米，树干直径可达1.5米。"


def _hit(text: str, title: str = "纽西兰鸡毛松", rank: int = 1) -> Hit:
    units, start = [], 0
    for part in text.split("，"):
        units.append(Unit(start, start + len(part.rstrip("。")), part.rstrip("。"), 0))
        start += len(part) + 1
    chunk = Chunk("c1", "/d/a.txt", title, (), 0, len(text), None, text, units)
    return Hit(chunk, 0.03, 0.85, 3.0, rank=rank, row=0, unit_dense=[0.8, 0.9, 0.7])


def _question(text: str, kind: str = "number"):
    from docqa.question import Question, Term

    return Question(text, "zh", kind, [Term("纽西兰鸡毛松", 2.0), Term("高", 1.0)], [])


def test_features_say_where_the_asked_unit_and_the_slot_are():
    from docqa.answer.candidates import candidates

    q = _question("纽西兰鸡毛松有多少米高？")
    spans, allowed = candidates(q, [_hit(SENTENCE)], segmenter=None)
    assert all(allowed)
    x = feature_matrix(q, spans)
    assert x.shape == (len(spans), len(FEATURES))
    by_text = {s.text: row for s, row in zip(spans, x)}
    unit = FEATURES.index("unit_ok")
    assert by_text["树高可达55米"][unit] == 1.0  # 55米 answers 多少米
    assert by_text["纽西兰鸡毛松是罗汉松科的植物"][unit] == 0.0
    whole = [s for s in spans if s.whole][0]
    assert by_text[whole.text][FEATURES.index("whole")] == 1.0
    assert all(v == by_text[whole.text][FEATURES.index("q_len")] for v in x[:, FEATURES.index("q_len")])


def test_the_spans_holding_a_gold_answer_are_relevant():
    texts = ["树高可达55米", "纽西兰鸡毛松是罗汉松科的植物，树高可达55米", "树干直径可达1.5米"]
    assert relevance(texts, [["55米"]]).tolist() == [1, 1, 0]
    assert relevance(texts, [["80米"]]).tolist() == [0, 0, 0]


def _examples(n: int = 60, seed: int = 0) -> Examples:
    """Askings whose right candidate has a high first feature; negatives have none."""
    rng = np.random.default_rng(seed)
    xs, rels, groups, askings = [], [], [], []
    for i in range(n):
        for side in ("answerable", "negative"):
            x = rng.random((6, len(FEATURES))).astype(np.float32) * 0.5
            rel = np.zeros(6, np.int32)
            if side == "answerable":
                x[2, 0] = 1.0 + rng.random()
                rel[2] = 1
            xs.append(x), rels.append(rel), groups.append(np.full(6, len(askings)))
            askings.append({"set": "toy", "id": f"q{i}" + ("-neg" if side == "negative" else ""), "side": side})
    rows = sum(len(r) for r in rels)
    return Examples(np.concatenate(xs), np.concatenate(rels), np.concatenate(groups), askings, np.zeros(rows, int), ["一句话"])


@pytest.fixture(scope="module")
def toy_selector():
    fitted = fit(_examples(), target_false_answer=0.1, log=lambda *_: None)
    return fitted


def test_fit_learns_to_pick_and_to_refuse(toy_selector):
    f = figures(toy_selector.table, toy_selector.selector.threshold)["toy"]
    assert f["best_span_correct"] > 0.9 and f["abstention_recall"] >= 0.85


def test_a_selector_file_round_trips_and_a_foreign_one_is_refused(toy_selector, tmp_path):
    path = tmp_path / "s.json"
    path.write_text(toy_selector.selector.to_json(), encoding="utf-8")
    again = Selector.load(path)
    x = _examples(3, seed=1).x[:6]
    assert np.allclose(again.choose(x)[0], toy_selector.selector.choose(x)[0])
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DocumentError, match="trained for other features.*docqa train-selector"):
        Selector.load(path)
    with pytest.raises(DocumentError, match="no answer selector at"):
        Selector.load(tmp_path / "missing.json")
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DocumentError, match="cannot read the answer selector"):
        Selector.load(path)


def _with_reader(toy: Selector) -> Selector:
    """The toy ranker with an answerability model that reads a reader's score
    (high: answerable; sometimes missing)."""
    import lightgbm

    ex = _examples(40, seed=2)
    names = list(FEATURES) + ["score", "margin", "reader"]
    rows = np.hstack([ex.x[::6, :], np.zeros((len(ex.x[::6]), 2)), np.linspace(0, 1, len(ex.x[::6]))[:, None]])
    labels = (rows[:, -1] > 0.5).astype(int)
    rows[::10, -1] = np.nan
    params = {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5}
    answerable = lightgbm.train(params, lightgbm.Dataset(rows, labels, feature_name=names), 20)
    return Selector(toy.ranker, answerable, 0.5, reader_file="r.safetensors")


def test_a_selector_with_a_reader_reads_the_best_pair_or_does_without(toy_selector, tmp_path):
    """A selector trained with the answer reader gives the answerability model
    the reader's score of the best candidate; without a reader the score is
    missing (NaN), which LightGBM takes as such, and it still decides; so it is
    for an English question."""
    s = _with_reader(toy_selector.selector)
    path = tmp_path / "s.json"
    path.write_text(s.to_json(), encoding="utf-8")
    again = Selector.load(path, transformer=lambda: None)
    assert again.reader_file == "r.safetensors" and again.reader is not None
    assert Selector.load(path).reader is None  # no transformer: it does without

    class Reader:
        def __init__(self, value: float):
            self.value, self.asked = value, []

        def score(self, question: str, texts: list[str]) -> np.ndarray:
            self.asked.append((question, texts))
            return np.array([self.value])

    x = _examples(1, seed=3).x[:6]
    s.reader = Reader(0.95)
    _, best, sure = s.choose(x, None, lambda i: ("问题", f"句子{i}"))
    assert s.reader.asked == [("问题", [f"句子{best}"])]
    s.reader = Reader(0.05)
    assert s.choose(x, None, lambda i: ("问题", "句子"))[2] < sure
    s.reader = None
    assert 0.0 <= s.choose(x)[2] <= 1.0
    # The reader read only Chinese questions when trained: an English one is
    # decided without it, as the questions it was trained on were.
    s.reader = Reader(0.95)
    x[:, FEATURES.index("q_en")] = 1.0
    assert s.choose(x, None, lambda i: ("What?", "句子"))[2] == s.choose(x)[2] and not s.reader.asked
    # One trained on English questions too (`--english-reader`) reads them, and says so in its file.
    s.reader_english = True
    path.write_text(s.to_json(), encoding="utf-8")
    assert Selector.load(path).reader_english and not again.reader_english
    assert s.choose(x, None, lambda i: ("What?", "句子"))[2] > s.choose(x)[2] and s.reader.asked == [("What?", ["句子"])]


def test_a_reader_with_a_weight_picks_among_the_rankers_best(toy_selector, tmp_path):
    """With a ``reader_weight`` the reader reads the ranker's RERANK best
    allowed candidates and picks the one whose ranking score plus its
    weighted log-odds is highest; the answerability model reads that one's
    row (a negative margin when the ranker put it lower) and score.  A
    selector file without the weight (older ones) leaves the ranker's choice."""
    from docqa.answer.selector import RERANK, reader_pick

    assert reader_pick(np.array([1.0, 0.8]), np.array([0.5, 0.5]), 2.0) == 0  # a tie goes to the ranker's best
    assert reader_pick(np.array([1.0, 0.8]), np.array([0.2, 0.8]), 2.0) == 1
    assert reader_pick(np.array([1.0, 0.8]), np.array([0.2, 0.8]), 0.0) == 0

    class Reader:
        def __init__(self, liked: str):
            self.liked, self.asked = liked, []

        def score(self, question: str, texts: list[str]) -> np.ndarray:
            self.asked.append(texts)
            return np.array([0.95 if t == self.liked else 0.05 for t in texts])

    s = _with_reader(toy_selector.selector)
    x = _examples(1, seed=3).x[:6]
    scores = s.choose(x)[0]
    first, second = np.argsort(-scores)[:2]
    s.reader = Reader(f"句子{second}")
    assert s.choose(x, None, lambda i: ("问题", f"句子{i}"))[1] == first and len(s.reader.asked[0]) == 1
    s.reader_weight = 2.0
    s.reader.asked.clear()
    _, best, _ = s.choose(x, None, lambda i: ("问题", f"句子{i}"))
    assert best == second and s.reader.asked == [[f"句子{first}", f"句子{second}"]] and RERANK == 2
    s.reader.asked.clear()
    assert s.choose(x, None, lambda i: ("问题", "同一句"))[1] == first and s.reader.asked == [["同一句"]]  # read once
    allowed = np.ones(6, bool)
    allowed[second] = False  # not about the entity a follow-up carried: never picked
    assert s.choose(x, allowed, lambda i: ("问题", f"句子{i}"))[1] == first
    path = tmp_path / "s.json"
    path.write_text(s.to_json(), encoding="utf-8")
    assert Selector.load(path).reader_weight == 2.0
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["reader_weight"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Selector.load(path).reader_weight == 0.0


def test_a_missing_or_damaged_reader_file_is_one_clear_error(tmp_path):
    from docqa.answer.reader import AnswerReader

    def no_model():
        raise AssertionError("the file is checked before the model is touched")

    with pytest.raises(DocumentError, match="no answer reader at .*docqa train-selector"):
        AnswerReader(tmp_path / "missing.safetensors", no_model).warmup()
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(DocumentError, match="cannot read the answer reader.*retrain the selector"):
        AnswerReader(tmp_path / "bad.safetensors", no_model).warmup()


def test_negatives_leave_out_the_evidence_and_the_source_document():
    chunks = [
        (1, Chunk("a", "/c/p1.txt", "", (), 0, 9, None, "甲公司成立于1990年。", [])),
        (2, Chunk("b", "/c/p1.txt", "", (), 9, 20, None, "甲公司总部在上海。", [])),
        (3, Chunk("c", "/c/p2.txt", "", (), 0, 9, None, "乙公司成立于 1990 年。", [])),
    ]
    q = EvalQuestion("q1", "甲公司哪年成立？", [["1990年"]], ["成立于1990年"], True, "t")
    ex = Exclusions(chunks)
    assert ex.for_question(q) == frozenset()  # only negatives leave anything out
    neg = q.as_negative()
    assert neg.id == "q1-neg" and not neg.answerable and neg.answers == [] and neg.type == "t_negative"
    assert ex.for_question(neg) == {1, 3}  # evidence compared as the metrics compare text
    sourced = EvalQuestion("q2", "甲公司在哪？", [["上海"]], ["总部在上海"], True, "t", source="p1.txt").as_negative()
    assert ex.for_question(sourced) == {1, 2}


def _scores(conf, right, answerable, refused):
    return [
        Scores("t", a, r, 1.0, exact=bool(g) if a else None, confidence=c, right_if_answered=g)
        for c, g, a, r in zip(conf, right, answerable, refused)
    ]


def test_risk_coverage_and_false_answer_rate():
    s = _scores([0.9, 0.8, 0.3, 0.2], [True, False, True, False], [True, True, True, False], [False, False, True, True])
    rc = risk_coverage(s, points=5)
    assert rc["operating_point"] == {"coverage": 0.5, "accuracy": 0.5}
    assert rc["curve"][0] == {"threshold": 0.2, "coverage": 1.0, "accuracy": 0.5}
    assert rc["curve"][-1]["coverage"] == 0.25 and rc["curve"][-1]["accuracy"] == 1.0
    assert summarise(s)["abstention"]["false_answer_rate"] == 0.5  # one of the two answers given is wrong
    assert risk_coverage(_scores([None], [True], [True], [False])) is None


def test_training_never_sees_a_question_of_the_evaluation_set():
    from docqa.eval.metrics import normalize
    from docqa.train.sets import dev_set, measured_questions

    measured = measured_questions()
    assert len(measured) == 114
    assert not {normalize(q.question) for q in dev_set().questions} & measured


def test_training_with_a_reader_scores_the_half_it_never_saw(tmp_path, monkeypatch):
    """`train-selector --reader`: the reader is trained on half of the
    questions and scores the other half's best sentences; the first half's
    scores are missing, and the threshold and figures are the second half's;
    English questions are neither read nor scored, and are measured."""
    import docqa.answer.reader
    from docqa.train import reader_fit
    from docqa.train.fit import READER_WEIGHT, ReaderTraining

    ex = _examples(60, seed=4)
    for a in ex.askings:
        a["question"] = "有答案" if a["side"] == "answerable" else "无答案"
    english = set(range(0, len(ex.askings), 7))  # English askings: the reader neither reads nor scores them
    ex.x[np.isin(ex.group, list(english)), FEATURES.index("q_en")] = 1.0
    trained, written = [], []
    monkeypatch.setattr(reader_fit, "train", lambda transformer, p, bfloat16, log: trained.append(p) or {})
    monkeypatch.setattr(docqa.answer.reader, "save", lambda path, tensors, scale: written.append(path))

    class Reader:
        def __init__(self, path, transformer, bfloat16=False):
            self.path = path

        def score_pairs(self, questions, texts):
            return np.array([0.9 if q == "有答案" else 0.1 for q in questions])

    monkeypatch.setattr(docqa.answer.reader, "AnswerReader", Reader)
    out = tmp_path / "m.reader.safetensors"
    fitted = fit(ex, 0.1, log=lambda *_: None, reader=ReaderTraining(lambda: None, False, out))
    assert written == [out] and fitted.selector.reader_file == out.name
    seen = {int(i) for i in trained[0].asking}
    assert 0 < len(seen) < len(ex.askings)
    assert len(fitted.table) == len(ex.askings) - len(seen)  # measured on the askings the reader never saw
    assert {t["id"] for t in fitted.table}.isdisjoint({ex.askings[i]["id"] for i in seen})
    assert not seen & english and {ex.askings[i]["id"] for i in english} <= {t["id"] for t in fitted.table}
    assert figures(fitted.table, fitted.selector.threshold)["toy"]["abstention_recall"] >= 0.85
    # when answering, it picks among the ranker's best (the models learn from the ranker's best)
    assert not fitted.selector.reader_english and fitted.selector.reader_weight == READER_WEIGHT
    # --english-reader: it is trained on the seen half's English questions too, and scores the others'.
    trained.clear()
    how = ReaderTraining(lambda: None, False, out, english=True)
    fitted = fit(ex, 0.1, log=lambda *_: None, reader=how)
    seen = {int(i) for i in trained[0].asking}
    assert seen & english and fitted.selector.reader_english
    assert {t["id"] for t in fitted.table} == {a["id"] for i, a in enumerate(ex.askings) if i not in seen}


def test_a_kept_reader_scores_without_training_again(tmp_path, monkeypatch):
    """`train-selector --keep-reader`: the reader file in the target folder
    scores the half it never saw; nothing is trained or written."""
    import docqa.answer.reader
    from docqa.train import reader_fit
    from docqa.train.fit import ReaderTraining

    ex = _examples(40, seed=5)
    for a in ex.askings:
        a["question"] = "问题"
    monkeypatch.setattr(reader_fit, "train", lambda *a: pytest.fail("the kept reader was trained again"))
    monkeypatch.setattr(docqa.answer.reader, "save", lambda *a: pytest.fail("the kept reader was overwritten"))

    class Reader:
        def __init__(self, path, transformer, bfloat16=False):
            pass

        def score_pairs(self, questions, texts):
            return np.full(len(questions), 0.5)

    monkeypatch.setattr(docqa.answer.reader, "AnswerReader", Reader)
    out = tmp_path / "m.reader.safetensors"
    out.write_bytes(b"weights")
    fitted = fit(ex, 0.1, log=lambda *_: None, reader=ReaderTraining(lambda: None, False, out, keep=True))
    assert fitted.selector.reader_file == out.name and 0 < len(fitted.table) < len(ex.askings)


def test_the_reader_learns_near_misses_from_answer_sentences_with_the_answer_taken_out():
    """An answerable asking adds its answer sentence without the answer as a
    negative pair: the clause holding it goes when enough of the sentence is
    left, else only the answer's words; nothing is added when the answer is
    not in the sentence."""
    from docqa.train.reader_fit import erased

    date = [["2023年5月"]]
    assert (
        erased("海洋装备\n2023年5月，“蜘蛛系统”完成海试，标志着能力提升", date)
        == "海洋装备\n“蜘蛛系统”完成海试，标志着能力提升"
    )
    assert erased("“蜘蛛系统”于2023年5月完成海试", date) == "“蜘蛛系统”于完成海试"
    assert erased("上海累计备案新型研发机构36家", [["36家", "36"]]) == "上海累计备案新型研发机构"
    assert erased("他叫张三", [["张三"]]) is None  # too little left
    assert erased("“蜘蛛系统”完成海试", date) is None


def test_reader_pairs_hold_an_erased_negative_per_answerable_asking():
    from docqa.train import reader_fit
    from docqa.train.fit import ranked

    ex = _examples(20, seed=5)
    ex.texts[:] = ["2023年5月，蜘蛛系统完成了海试"]
    for a in ex.askings:
        a["question"] = "蜘蛛系统哪天完成海试？"
    scores, best_rows, _, labels = ranked(ex, np.arange(len(ex.askings)) % 5, log=lambda *_: None)
    plain = reader_fit.pairs(ex, best_rows, labels, scores)
    more = reader_fit.pairs(ex, best_rows, labels, scores, [[["2023年5月"]]] * len(ex.askings))
    added = [t for t, y in zip(more.texts, more.labels) if t not in plain.texts or not y]
    assert len(more.labels) - len(plain.labels) == 20  # one per answerable asking
    assert "蜘蛛系统完成了海试" in added
    firsts = np.r_[True, more.asking[1:] != more.asking[:-1]]
    assert firsts.sum() == len(ex.askings)  # each asking's first pair is still its best sentence
