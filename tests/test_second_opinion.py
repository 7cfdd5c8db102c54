"""The LLM's second opinion on the refusal decision (DOCQA_CHECK=llm): how it
combines with the selector's confidence, when it is asked, what it reads of
the server's reply, and its settings (no real model needed)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from docqa.answer.extractive import ExtractiveAnswerer
from docqa.answer.profile import _read
from docqa.answer.second_opinion import SecondOpinion
from docqa.answer.selector import Selector
from docqa.errors import DocQAError, DocumentError, LLMError
from docqa.llm.check import LLMChecker, yes_share
from tests.fake_llm_server import Reply
from tests.llm_support import llm_server  # noqa: F401  (fixture)
from tests.test_selector import SENTENCE, _hit, _question

TABLE = {"confidence_weight": 0.5, "opinion_weight": 1.5, "cut": 2.0, "floor": 0.01}


class FakeSelector(Selector):
    """Puts the whole sentence first with a set confidence; threshold 0.4."""

    threshold = 0.4
    reader = None

    def __init__(self, confidence: float):  # noqa: D107 -- no boosters: choose() is faked
        self.confidence = confidence
        self.pairs: list[tuple[str, str]] = []

    def choose(self, x, allowed=None, pair=None):
        self.pairs.append(pair(0))
        return np.zeros(len(x)), 0, self.confidence


def _extract(confidence: float, opinion: float | None, question: str = "纽西兰鸡毛松有多高？", lang: str = "zh", **kw):
    asked: list[tuple[str, str]] = []

    def ask(q: str, passage: str) -> float | None:
        asked.append((q, passage))
        return opinion

    q = _question(question)
    q.lang = lang
    answerer = ExtractiveAnswerer(FakeSelector(confidence), second_opinion=SecondOpinion.from_table(ask, TABLE, "t"))
    return answerer.extract(q, [_hit(SENTENCE)], **kw), asked


def test_a_near_miss_the_llm_vouches_for_is_answered_and_one_it_doubts_is_refused():
    ex, asked = _extract(0.2, 0.99)
    assert not ex.refused and ex.confidence == 0.2 and ex.opinion == 0.99
    assert len(asked) == 1 and asked[0][0] == "纽西兰鸡毛松有多高？" and "树高可达55米" in asked[0][1]  # the reader's reading
    ex, _ = _extract(0.2, 0.6)
    assert ex.refused and "second opinion 0.60" in ex.reason
    # a confident answer the LLM says does not answer is refused too
    ex, _ = _extract(0.9, 0.3)
    assert ex.refused


def test_the_llm_is_not_asked_below_the_floor_nor_for_english_nor_under_an_explicit_threshold():
    ex, asked = _extract(0.005, 1.0)
    assert ex.refused and asked == [] and ex.opinion is None
    ex, asked = _extract(0.2, 1.0, "How tall is it?", lang="en")
    assert ex.refused and asked == []
    ex, asked = _extract(0.2, 1.0, min_confidence=0.1)
    assert not ex.refused and asked == []


def test_without_an_opinion_the_selectors_threshold_decides():
    assert _extract(0.2, None)[0].refused
    ex, asked = _extract(0.5, None)
    assert not ex.refused and len(asked) == 1 and ex.opinion is None


def test_the_rule_is_a_line_in_log_odds():
    second = SecondOpinion.from_table(lambda q, p: None, TABLE, "t")
    for conf, opinion in [(0.2, 0.95), (0.6, 0.7), (0.02, 0.999)]:
        z = 0.5 * math.log(conf / (1 - conf)) + 1.5 * math.log(opinion / (1 - opinion))
        assert second.answers(conf, opinion) == (z >= 2.0)
    assert second.answers(0.0, 1.0) in (True, False)  # no log of zero


@pytest.mark.parametrize(
    "table, message",
    [
        ({**TABLE, "weight": 1}, "unknown [check] setting(s) weight"),
        ({k: v for k, v in TABLE.items() if k != "cut"}, "[check] needs cut"),
        ({**TABLE, "cut": "high"}, "must be numbers"),
        ({**TABLE, "opinion_weight": 0}, "opinion_weight > 0"),
    ],
)
def test_a_bad_check_table_is_one_clear_error(table, message):
    with pytest.raises(DocumentError, match=re.escape(message)):
        SecondOpinion.from_table(lambda q, p: None, table, "profile.toml")


def test_the_bundled_profile_carries_a_check_calibration():
    from docqa.answer.profile import bundled_dir

    profile = _read(bundled_dir() / "multilingual-e5-small.toml", "multilingual-e5-small")
    second = SecondOpinion.from_table(lambda q, p: None, profile.check, profile.source or "")
    assert second.opinion_weight > 0 and 0 < second.floor < 0.382


def test_yes_share_reads_the_first_tokens_log_probabilities():
    assert yes_share("是", {"是": math.log(0.9), "否": math.log(0.1), "不": math.log(0.01)}) == pytest.approx(0.9)
    assert yes_share("否", {" 否": math.log(0.5)}) == 0.0  # yes never weighed
    assert yes_share("是的", {}) == 1.0 and yes_share("否。", {}) == 0.0  # a server that sends no log-probabilities
    assert yes_share("也许", {}) is None


def test_the_checker_asks_the_server_for_one_token_and_its_log_probabilities(llm_server):
    from docqa.llm.client import ChatClient

    llm_server.script(Reply("是"))
    checker = LLMChecker(ChatClient(llm_server.url, "fake-model", retries=0))
    assert checker.check("纽西兰鸡毛松有多高？", SENTENCE) == 1.0
    body = llm_server.requests[-1]
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] == 20
    assert SENTENCE in body["messages"][1]["content"] and "纽西兰鸡毛松有多高？" in body["messages"][1]["content"]


def test_an_unreachable_llm_gives_no_opinion(caplog):
    class Down:
        def first_token(self, messages, top=20):
            raise LLMError("cannot reach the LLM at http://127.0.0.1:9/v1")

    assert LLMChecker(Down()).check("问？", "答。") is None  # type: ignore[arg-type]
    assert "the selector's threshold decides" in caplog.text


def test_check_llm_without_an_llm_is_one_clear_error(tmp_path):
    from docqa.answer.profile import load_profile
    from docqa.factory import make_second_opinion
    from docqa.settings import Settings

    profile = load_profile("multilingual-e5-small")
    settings = Settings(home=tmp_path, check="llm")
    with pytest.raises(DocQAError, match="DOCQA_CHECK=llm needs an LLM; set DOCQA_LLM_BASE_URL"):
        make_second_opinion(settings, profile, None)
    assert make_second_opinion(Settings(home=tmp_path), profile, None) is None


def test_another_llm_than_the_calibrated_one_is_warned_about(tmp_path, caplog):
    from docqa.answer.profile import load_profile
    from docqa.factory import make_chat_client, make_second_opinion
    from docqa.settings import Settings

    profile = load_profile("multilingual-e5-small")
    settings = Settings(home=tmp_path, check="llm", llm_base_url="http://127.0.0.1:9/v1", llm_model="gpt-4o-mini")
    second = make_second_opinion(settings, profile, make_chat_client(settings))
    assert (
        second is not None and "calibrated with the LLM 'qwen2.5-coder-1.5b-instruct-q4_k_m', not 'gpt-4o-mini'" in caplog.text
    )
    caplog.clear()
    settings = settings.model_copy(update={"llm_model": second.llm})
    make_second_opinion(settings, profile, make_chat_client(settings))
    assert "calibrated with" not in caplog.text
