"""What a collection of documents says about itself: its title, the example
questions shown in the chat window and widget, and how a refusal is worded.

It comes from a ``collection.toml`` at the top of an ingested directory::

    title = "上海科技创新报告（节选）"
    examples = ["上海累计备案了多少家新型研发机构？"]
    [refusal]
    zh = "报告中没有找到相关信息。"
    en = "The report does not contain this information."

and is kept in the index manifest, so the server, CLI and eval word things
for the documents actually indexed.  Without one, the wording is neutral.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from docqa.errors import DocumentError

CONFIG_NAME = "collection.toml"
NEUTRAL_REFUSAL = {"zh": "文档中没有找到相关信息。", "en": "The documents do not contain this information."}
MAX_EXAMPLES = 8
MAX_TEXT = 200


@dataclass(frozen=True)
class Collection:
    title: str = ""
    examples: tuple[str, ...] = ()
    refusal: dict[str, str] = field(default_factory=lambda: dict(NEUTRAL_REFUSAL))

    def refusal_for(self, lang: str) -> str:
        """The refusal in the question's language (Chinese when there is none for it)."""
        return self.refusal.get(lang) or self.refusal.get("zh") or NEUTRAL_REFUSAL["zh"]

    def to_dict(self) -> dict:
        return {"title": self.title, "examples": list(self.examples), "refusal": dict(self.refusal)}

    @classmethod
    def from_dict(cls, d: dict | None, where: str = "the index manifest") -> Collection:
        """Checked: a wrong shape raises ``DocumentError`` saying what to fix."""
        d = d or {}
        unknown = sorted(set(d) - {"title", "examples", "refusal"})
        if unknown:
            raise DocumentError(f"{where}: unknown collection setting(s) {', '.join(unknown)}; use title, examples, refusal")
        title, examples, refusal = d.get("title", ""), d.get("examples", []), d.get("refusal", {})
        if not isinstance(title, str) or len(title) > MAX_TEXT:
            raise DocumentError(f"{where}: title must be a string of at most {MAX_TEXT} characters")
        if not isinstance(examples, list) or not all(isinstance(e, str) and 0 < len(e.strip()) <= MAX_TEXT for e in examples):
            raise DocumentError(f"{where}: examples must be a list of questions (strings of 1-{MAX_TEXT} characters)")
        if len(examples) > MAX_EXAMPLES:
            raise DocumentError(f"{where}: {len(examples)} example questions; give at most {MAX_EXAMPLES}")
        if not isinstance(refusal, dict) or not all(isinstance(v, str) and v.strip() for v in refusal.values()):
            raise DocumentError(f'{where}: refusal must be a table of non-empty texts by language, e.g. zh = "…", en = "…"')
        return cls(title.strip(), tuple(e.strip() for e in examples), {**NEUTRAL_REFUSAL, **refusal})

    @classmethod
    def read(cls, path: Path) -> Collection:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DocumentError(f"{path}: cannot read the collection settings ({exc}); fix or remove the file") from exc
        return cls.from_dict(data, str(path))
