"""The language data files, entry by entry: every pattern finds its examples
(and captures what they say it finds) and none of its non-examples."""

from __future__ import annotations

import re

import pytest

from docqa import lang


def _cases(kind: str):
    for code in lang.CODES:
        data = lang.load(code)
        for table in ("kinds", "patterns"):
            for rule in getattr(data, table).values():
                for example in rule.examples if kind == "examples" else rule.non_examples:
                    text = example.text if kind == "examples" else example
                    yield pytest.param(rule, example, id=f"{code}-{table}.{rule.name}-{text}")


def _rules():
    for code in lang.CODES:
        data = lang.load(code)
        for table in ("kinds", "patterns"):
            for rule in getattr(data, table).values():
                yield pytest.param(rule, id=f"{code}-{table}.{rule.name}")


@pytest.mark.parametrize("rule,example", _cases("examples"))
def test_rule_finds_its_example(rule, example):
    m = rule.pattern.search(example.text)
    assert m, f"{rule.name} ({rule.about}) does not find {example.text!r}"
    if example.finds is not None:
        assert m.group(1 if m.re.groups else 0) == example.finds


@pytest.mark.parametrize("rule,text", _cases("non_examples"))
def test_rule_misses_its_non_example(rule, text):
    m = rule.pattern.search(text)
    assert m is None, f"{rule.name} ({rule.about}) finds {m.group()!r} in {text!r}"


@pytest.mark.parametrize("rule", _rules())
def test_every_rule_is_explained_and_has_examples(rule):
    assert rule.about.strip()
    assert rule.examples


@pytest.mark.parametrize("code", lang.CODES)
def test_word_lists_hold_each_word_once(code):
    for name, words in lang.load(code).words.items():
        assert words, name
        assert len(set(words)) == len(words), f"{code}.toml: {name} repeats a word"


def test_both_languages_list_the_answer_kinds_in_one_order():
    """Kinds are recognised first match wins, across both languages."""
    assert list(lang.load("zh").kinds) == list(lang.load("en").kinds)
    assert list(lang.load("zh").kinds) == ["task", "duration", "time", "list", "number", "org", "person", "place", "why", "how"]


def test_placeholders_expand_to_word_lists_and_character_classes():
    zh = lang.load("zh")
    assert zh.pattern("org_title").pattern == "(?:" + "|".join(zh.words["org_suffixes"]) + ")$"
    assert zh.pattern("place_name").pattern.startswith("[\u4e00-\u9fff]{1,6}(?:省|市|")
    assert lang.load("en").pattern("focus").flags & re.IGNORECASE
    assert not zh.pattern("org_title").flags & re.IGNORECASE


def test_load_is_cached_and_frozen():
    zh = lang.load("zh")
    assert lang.load("zh") is zh
    with pytest.raises(TypeError):
        zh.words["stopwords"] = ()  # type: ignore[index]
    assert zh.numerals["两"] == 2 and zh.numerals["十"] == 10


def test_an_unknown_language_is_named():
    with pytest.raises(LookupError, match="'fr'.*zh, en"):
        lang.load("fr")


def test_detect():
    assert lang.detect("第二批创新联合体有多少家？") == "zh"
    assert lang.detect("How many innovation consortia were set up?") == "en"
    assert lang.detect("Qi Zhi 研究院在哪") == "zh"


def test_a_pattern_naming_an_unknown_list_is_refused():
    with pytest.raises(ValueError, match=r"zh.toml: pattern 'r' uses \$\{nope\}"):
        lang._rule("zh", "r", {"pattern": "${nope}年", "about": "a"}, {}, 0)


@pytest.mark.parametrize("path", ["docqa/text.py", "docqa/lang/__init__.py"])
def test_the_core_layer_imports_only_the_standard_library(path):
    """docqa.text and docqa.lang sit below ingest, index, question, answer, llm, web and eval."""
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parent.parent / path).read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    core = ("docqa.text", "docqa.lang", "docqa.errors")
    outside = [m for m in names if m.split(".")[0] not in sys.stdlib_module_names and not m.startswith(core)]
    assert not outside, f"{path} imports {outside}"


def test_a_pinyin_name_finds_the_characters_it_spells():
    """English questions name Chinese places and institutes in pinyin; a
    spelling several syllable splits fit (jingan: jin-gan, jing-an) finds the
    characters the text holds, an apostrophe or not."""
    from docqa.crosslingual import PinyinFinder

    finder = PinyinFinder(["静安区发布链主企业创新伙伴计划", "上海期智研究院", "梧桐岛"])
    assert finder.find(["Jing'an"]) == finder.find(["jingan"]) == ["静安"]
    assert finder.find(["Qi", "Zhi"]) == ["期智"] and finder.find(["Wutong"]) == ["梧桐"]
    assert finder.find(["qi"]) == [] and finder.find(["Beijing"]) == [] and finder.find(["R&D"]) == []


def test_the_index_vocabulary_by_pinyin_finds_the_words_capitalised_names_spell():
    """Before anything is retrieved, a name written in pinyin is looked up in
    the index's words: runs of up to three capitalised words, split at
    stopwords, a possessive's ending dropped; an ambiguous spelling stands for
    its most frequent words."""
    from docqa.crosslingual import PinyinVocabulary

    vocab = PinyinVocabulary({"袁彭年": 1, "河茂": 3, "静安": 5, "上海": 9, "研究": 40, "烟酒": 2, "A股": 1, "年": 7})
    assert vocab.find("What did Yuan Pengnian study?") == ["袁彭年"]
    assert vocab.find("Where is Hemao Town in Jing'an's west?") == ["河茂", "静安"]
    assert vocab.find("How big is Shanghai") == ["上海"]
    assert vocab.find("yanjiu of Yanjiu") == ["研究", "烟酒"]  # lower case is not a name; both spellings kept
    assert vocab.find("What Is The Nian") == [] and vocab.find("no names here") == []
