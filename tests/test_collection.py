"""A collection's wording (title, example questions, refusal) comes from its
``collection.toml``, lives in the index manifest, and is neutral without one."""

from __future__ import annotations

import pytest

from docqa.collection import NEUTRAL_REFUSAL, Collection
from docqa.errors import DocumentError
from docqa.factory import make_engine, make_ingestor
from docqa.index import store
from docqa.settings import BUNDLED_CORPUS
from tests.fakes import FakeEmbedder

CONFIG = """title = "示例年报"
examples = ["园区有多少家企业？"]
[refusal]
zh = "年报中没有找到相关信息。"
"""


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("示例园区\n\n园区累计引进企业58家。", encoding="utf-8")
    return d


def test_without_settings_the_wording_is_neutral(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    engine = make_engine(settings, FakeEmbedder())
    assert engine.collection == Collection()
    assert engine.ask("火星上有多少人？").answer == "文档中没有找到相关信息。"
    assert engine.ask("How many people live on Mars?").answer == "The documents do not contain this information."


def test_collection_toml_sets_the_wording_and_is_kept_in_the_manifest(settings, corpus):
    (corpus / "collection.toml").write_text(CONFIG, encoding="utf-8")
    report = make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    assert report.unsupported == []  # the settings file is not a document
    manifest = store.read_manifest(settings.index_path)
    assert manifest["collection"]["title"] == "示例年报"
    engine = make_engine(settings, FakeEmbedder())
    assert engine.collection.examples == ("园区有多少家企业？",)
    assert engine.ask("火星上有多少人？").answer == "年报中没有找到相关信息。"
    # a language the file does not word keeps the neutral text
    assert engine.collection.refusal_for("en") == NEUTRAL_REFUSAL["en"]


def test_changing_only_the_settings_rewrites_the_manifest_without_embedding(settings, corpus):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    (corpus / "collection.toml").write_text(CONFIG, encoding="utf-8")
    again = FakeEmbedder()
    make_ingestor(settings, again).ingest([corpus])
    assert again.passages_embedded == 0
    assert store.read_manifest(settings.index_path)["collection"]["title"] == "示例年报"
    # ingesting one more file (no directory, no settings) keeps them
    extra = corpus.parent / "b.txt"
    extra.write_text("另一份文件。", encoding="utf-8")
    make_ingestor(settings, FakeEmbedder()).ingest([extra])
    assert store.read_manifest(settings.index_path)["collection"]["title"] == "示例年报"


@pytest.mark.parametrize(
    "text, message",
    [
        ('title = "x"\ncolour = "red"\n', "unknown collection setting(s) colour"),
        ("examples = 3\n", "examples must be a list of questions"),
        ('[refusal]\nzh = ""\n', "refusal must be a table of non-empty texts"),
        ("title = \n", "cannot read the collection settings"),
    ],
)
def test_bad_settings_are_one_clear_error_and_change_nothing(settings, corpus, text, message):
    make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    gen = store.live_generation(settings.index_path)
    (corpus / "collection.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_ingestor(settings, FakeEmbedder()).ingest([corpus])
    assert store.live_generation(settings.index_path) == gen


def test_the_bundled_report_keeps_its_own_wording():
    c = Collection.read(BUNDLED_CORPUS / "collection.toml")
    assert c.refusal_for("zh") == "报告中没有找到相关信息。"
    assert c.refusal_for("en") == "The report does not contain this information."
    assert len(c.examples) == 4 and c.title
