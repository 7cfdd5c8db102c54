"""Model profiles: thresholds belong to the embedding model's profile, never
switched on or off by comparing model names."""

from __future__ import annotations

import logging

import pytest

from docqa.answer.abstain import Thresholds
from docqa.answer.profile import load_profile, profile_name
from docqa.errors import DocumentError
from docqa.llm.guard import GuardThresholds
from docqa.settings import DEFAULT_MODEL


def test_the_default_model_has_a_shipped_profile():
    p = load_profile(DEFAULT_MODEL)
    assert p.calibrated and p.source.endswith("multilingual-e5-small.toml")
    assert p.abstain == Thresholds(min_coverage=0.4, min_dense=0.75, min_dense_en=0.68, min_coverage_en=0.4)
    assert GuardThresholds.from_profile(p.guard) == GuardThresholds(semantic=0.92, mixed_semantic=0.86, semantic_en=0.86)


def test_an_unknown_model_warns_and_says_how_to_calibrate(caplog):
    with caplog.at_level(logging.WARNING, logger="docqa"):
        p = load_profile("BAAI/bge-small-zh-v1.5")
    assert not p.calibrated
    assert p.abstain.min_dense is None and p.abstain.min_dense_en is None  # no similarity scale to trust
    assert p.abstain.min_coverage == Thresholds().min_coverage
    assert "python -m docqa.eval.calibrate --write" in caplog.text and "bge-small-zh" in caplog.text
    assert GuardThresholds.from_profile(p.guard) == GuardThresholds()


def test_a_users_profile_comes_first(tmp_path):
    d = tmp_path / "profiles"
    d.mkdir()
    (d / profile_name("BAAI/bge-small-zh-v1.5")).write_text("[abstain]\nmin_dense = 0.5\n", encoding="utf-8")
    p = load_profile("BAAI/bge-small-zh-v1.5", tmp_path)
    assert p.calibrated and p.abstain.min_dense == 0.5 and p.abstain.min_dense_en == Thresholds().min_dense_en
    assert profile_name("BAAI/bge-small-zh-v1.5") == "BAAI__bge-small-zh-v1.5.toml"


@pytest.mark.parametrize(
    "text, message", [("[abstain]\nmin_dens = 0.5\n", "abstain.min_dens"), ("[abstain\n", "cannot read the model profile")]
)
def test_a_broken_profile_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError, match=message):
        load_profile("m", tmp_path)
