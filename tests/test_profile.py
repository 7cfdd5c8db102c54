"""Model profiles: what a model's decisions were trained on lives in data
files beside it, never switched on or off by comparing model names."""

from __future__ import annotations

import logging

import pytest

from docqa.answer.profile import bundled_dir, load_profile, profile_name
from docqa.errors import DocumentError
from docqa.llm.guard import GuardThresholds
from docqa.settings import DEFAULT_MODEL


def test_the_default_model_has_a_shipped_profile_and_selector():
    p = load_profile(DEFAULT_MODEL)
    assert p.calibrated and p.source.endswith("multilingual-e5-small.toml")
    assert p.selector_file == bundled_dir() / "multilingual-e5-small.selector.json"
    selector = p.selector()
    assert 0.0 < selector.threshold < 1.0 and selector.card["model"] == DEFAULT_MODEL
    assert GuardThresholds.from_profile(p.guard) == GuardThresholds(semantic=0.92, mixed_semantic=0.86, semantic_en=0.86)


def test_an_unknown_model_borrows_the_default_selector_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="docqa"):
        p = load_profile("BAAI/bge-small-zh-v1.5")
    assert not p.calibrated and p.selector_file == load_profile(DEFAULT_MODEL).selector_file
    assert "docqa train-selector --profile" in caplog.text and "bge-small-zh" in caplog.text
    assert GuardThresholds.from_profile(p.guard) == GuardThresholds()  # lexical overlap only


def test_a_users_profile_comes_first(tmp_path):
    d = tmp_path / "profiles"
    d.mkdir()
    shipped = load_profile(DEFAULT_MODEL).selector_file
    (d / "mine.selector.json").write_bytes(shipped.read_bytes())
    (d / profile_name("BAAI/bge-small-zh-v1.5")).write_text('[selector]\nfile = "mine.selector.json"\n', encoding="utf-8")
    p = load_profile("BAAI/bge-small-zh-v1.5", tmp_path)
    assert p.calibrated and p.selector_file == d / "mine.selector.json"
    assert profile_name("BAAI/bge-small-zh-v1.5") == "BAAI__bge-small-zh-v1.5.toml"


@pytest.mark.parametrize(
    "text, message",
    [
        ('[selector]\nfile = "s.json"\ncolour = 1\n', "selector.colour"),
        ("[abstain]\nmin_dense = 0.5\n", "unknown profile setting"),
        ("[selector\n", "cannot read the model profile"),
        ("[guard]\n", "must name the selector file"),
    ],
)
def test_a_broken_profile_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError, match=message):
        load_profile("m", tmp_path)


def test_a_profile_naming_a_missing_selector_fails_when_it_is_loaded(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "m.toml").write_text('[selector]\nfile = "gone.json"\n', encoding="utf-8")
    with pytest.raises(DocumentError, match="no answer selector at .*gone.json; retrain it with `docqa train-selector`"):
        load_profile("m", tmp_path).selector()
