"""Prompt templates: files in ``prompts/`` rendered with explicit variables.

A template is ``string.Template`` text (``${question}``; ``$$`` for a dollar
sign).  Rendering is strict both ways: a variable the template uses but the
caller did not give, or one the caller gave that the template does not use,
is a ``TemplateError`` — a renamed variable cannot silently drop a passage
block from the prompt.  Values are inserted as they are (never re-parsed), so
``$`` or ``{`` inside document text is harmless.

Files are looked up as ``<name>.<lang>.txt`` then ``<name>.txt``, in a
directory the user chose (``DOCQA_LLM_PROMPTS_DIR``) before the bundled one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from docqa.errors import TemplateError


def bundled_dir() -> Path:
    from docqa import prompts

    return Path(prompts.__file__).resolve().parent


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    source: str = ""

    @property
    def variables(self) -> set[str]:
        names = set()
        for m in Template.pattern.finditer(self.text):
            if m.group("invalid") is not None:
                line = self.text[: m.start()].count("\n") + 1
                raise TemplateError(
                    f"prompt {self.source or self.name}: invalid '$' on line {line}; write $$ for a dollar sign"
                )
            name = m.group("named") or m.group("braced")
            if name:
                names.add(name)
        return names

    def render(self, **values: object) -> str:
        expected = self.variables
        missing = sorted(expected - values.keys())
        if missing:
            raise TemplateError(f"prompt {self.source or self.name} needs the variable(s) {', '.join(missing)}")
        unused = sorted(values.keys() - expected)
        if unused:
            raise TemplateError(
                f"prompt {self.source or self.name} has no variable(s) {', '.join(unused)}; "
                f"it uses {', '.join(sorted(expected)) or 'none'}"
            )
        return Template(self.text).substitute({k: str(v) for k, v in values.items()})


def load_prompt(name: str, lang: str | None = None, directory: Path | None = None) -> PromptTemplate:
    """The template ``name`` (in ``lang`` when a translation exists)."""
    dirs = [d for d in (directory, bundled_dir()) if d is not None]
    files = [f"{name}.{lang}.txt", f"{name}.txt"] if lang else [f"{name}.txt"]
    for d in dirs:
        for f in files:
            path = Path(d) / f
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise TemplateError(f"cannot read prompt {path}: {exc}") from exc
                template = PromptTemplate(name, text.removesuffix("\n"), str(path))
                template.variables  # noqa: B018 -- fail on a malformed template now, not mid-answer
                return template
    looked = ", ".join(str(Path(d) / f) for d in dirs for f in files)
    raise TemplateError(f"no prompt {name!r}{f' for language {lang}' if lang else ''}; looked for {looked}")


@dataclass(frozen=True)
class AnswerPrompts:
    """The templates of one language that make an answer request."""

    system: PromptTemplate
    user: PromptTemplate
    passage: PromptTemplate

    @classmethod
    def load(cls, lang: str, directory: Path | None = None) -> AnswerPrompts:
        return cls(
            load_prompt("answer_system", lang, directory),
            load_prompt("answer_user", lang, directory),
            load_prompt("passage", lang, directory),
        )
