"""Model profiles: what DocQA's decisions were trained and calibrated on, for
one embedding model, kept in data files beside it.

A profile (``<model>.toml``) names the model's answer selector (a file in the
same folder, see ``selector.py``) and the LLM grounding guard's similarity
thresholds.  It is looked up by the model id the index was built with: first
in ``$DOCQA_HOME/profiles/`` (where ``docqa train-selector --profile`` and
``docqa calibrate-check --profile`` write), then among the profiles shipped in
``docqa/answer/profiles/``; a profile of your own whose selector file is not
beside it uses the shipped selector of that name.  A model with
no profile of its own borrows the default model's, with a warning: its
similarities are on another scale, so its refusals are less reliable until a
selector is trained for it.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from docqa.answer.selector import Selector
from docqa.errors import DocumentError

log = logging.getLogger("docqa")
SECTIONS = ("selector", "guard", "check")
DEFAULT_PROFILE_MODEL = "multilingual-e5-small"


def profile_name(model_id: str) -> str:
    """The file name of a model's profile (``BAAI/bge-m3`` -> ``BAAI__bge-m3.toml``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model_id.replace("/", "__")).strip(".") + ".toml"


def bundled_dir() -> Path:
    return Path(str(resources.files("docqa.answer") / "profiles"))


@dataclass(frozen=True)
class Profile:
    model_id: str
    selector_file: Path
    guard: dict = field(default_factory=dict)  # GuardThresholds fields (docqa/llm/support.py)
    source: str | None = None  # the profile file; None: borrowed from the default model
    check: dict = field(default_factory=dict)  # SecondOpinion fields (docqa/answer/second_opinion.py)

    @property
    def calibrated(self) -> bool:
        return self.source is not None

    def selector(self, transformer: Callable | None = None, bfloat16: bool = False) -> Selector:
        """The selector; ``transformer`` (the embedding model's transformer and
        tokenizer) lets it use its answer reader, trained for this model only;
        ``bfloat16``: the reader's arithmetic, as the embedding model's."""
        return Selector.load(self.selector_file, transformer if self.calibrated else None, bfloat16)


def _read(path: Path, model_id: str) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DocumentError(f"{path}: cannot read the model profile ({exc}); fix or delete it") from exc
    unknown = sorted(set(data) - set(SECTIONS)) + sorted(f"selector.{k}" for k in set(data.get("selector", {})) - {"file"})
    if unknown:
        raise DocumentError(f"{path}: unknown profile setting(s) {', '.join(unknown)}; see docqa/answer/profiles/")
    file = data.get("selector", {}).get("file")
    if not isinstance(file, str) or not file.strip():
        raise DocumentError(f"{path}: [selector] file must name the selector file beside the profile; got {file!r}")
    selector = path.parent / file
    if not selector.is_file() and (bundled_dir() / file).is_file():
        selector = bundled_dir() / file  # a profile of your own that only changes [guard] or [check]
    return Profile(model_id, selector, dict(data.get("guard", {})), str(path), dict(data.get("check", {})))


def load_profile(model_id: str, home: Path | None = None) -> Profile:
    """The profile for ``model_id`` (the user's own first), or the default
    model's, borrowed with a warning."""
    name = profile_name(model_id)
    if home is not None and (home / "profiles" / name).is_file():
        return _read(home / "profiles" / name, model_id)
    if (bundled_dir() / name).is_file():
        return _read(bundled_dir() / name, model_id)
    log.warning(
        "no profile for embedding model %r: its answers and refusals use the selector trained for %s, whose "
        "similarity scale differs; train one for it with `docqa train-selector --profile` (see docs/selector.md)",
        model_id,
        DEFAULT_PROFILE_MODEL,
    )
    borrowed = _read(bundled_dir() / profile_name(DEFAULT_PROFILE_MODEL), model_id)
    return Profile(model_id, borrowed.selector_file, {}, None)
