"""Language knowledge as data: word lists, numerals, answer kinds and named
patterns for each language, read from ``<code>.toml`` beside this module
(the format is described at the top of ``zh.toml``).

``load("zh")`` reads a file once and returns a frozen ``Language`` with its
patterns compiled; ``detect(text)`` says which language a text is in."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from docqa.text import HAN, HAN_CHAR, LATIN_CHAR

CODES = ("zh", "en")
_CLASSES = {"han": HAN}  # ${han} in a pattern: a character-class body
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Example:
    text: str
    finds: str | None = None  # what the first match captures (group 1, or the whole match)


@dataclass(frozen=True)
class Rule:
    """A named pattern with what it is for and the examples that pin it."""

    name: str
    pattern: re.Pattern[str]
    about: str
    examples: tuple[Example, ...]
    non_examples: tuple[str, ...]


@dataclass(frozen=True)
class Language:
    code: str
    words: Mapping[str, tuple[str, ...]]
    numerals: Mapping[str, int]
    kinds: Mapping[str, Rule]  # answer kinds, in recognition order
    patterns: Mapping[str, Rule]

    def wordset(self, name: str) -> frozenset[str]:
        return frozenset(self.words[name])

    def pattern(self, name: str) -> re.Pattern[str]:
        return self.patterns[name].pattern


@functools.cache
def load(code: str) -> Language:
    """The language data for ``code`` ("zh", "en"), read and compiled once."""
    if code not in CODES:
        raise LookupError(f"no language data for {code!r}; available: {', '.join(CODES)}")
    data = tomllib.loads((resources.files(__name__) / f"{code}.toml").read_text(encoding="utf-8"))
    words = {name: tuple(value.split()) for name, value in data.get("words", {}).items()}
    flags = re.IGNORECASE if data.get("ignore_case") else 0

    def rules(table: str) -> Mapping[str, Rule]:
        return MappingProxyType({name: _rule(code, name, entry, words, flags) for name, entry in data.get(table, {}).items()})

    return Language(
        code=code,
        words=MappingProxyType(words),
        numerals=MappingProxyType(dict(data.get("numerals", {}))),
        kinds=rules("kinds"),
        patterns=rules("patterns"),
    )


def _rule(code: str, name: str, entry: dict, words: dict[str, tuple[str, ...]], flags: int) -> Rule:
    def expand(m: re.Match) -> str:
        key = m.group(1)
        if key in _CLASSES:
            return _CLASSES[key]
        if key in words:
            return "(?:" + "|".join(re.escape(w) for w in words[key]) + ")"
        raise ValueError(f"{code}.toml: pattern {name!r} uses ${{{key}}}, which names no word list or character class")

    examples = tuple(
        Example(e) if isinstance(e, str) else Example(e["text"], e.get("finds")) for e in entry.get("examples", ())
    )
    return Rule(
        name=name,
        pattern=re.compile(_PLACEHOLDER.sub(expand, entry["pattern"]), flags),
        about=entry["about"],
        examples=examples,
        non_examples=tuple(entry.get("non_examples", ())),
    )


def detect(text: str) -> str:
    """ "en" when Latin letters outnumber Han characters more than twice, else "zh"."""
    cjk = len(HAN_CHAR.findall(text))
    latin = len(LATIN_CHAR.findall(text))
    return "en" if latin > 2 * cjk else "zh"
