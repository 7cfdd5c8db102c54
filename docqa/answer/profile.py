"""Model profiles: the thresholds DocQA's decisions use, calibrated for one
embedding model and kept in a data file beside it.

A profile is looked up by the model id the index was built with: first in
``$DOCQA_HOME/profiles/`` (written by ``python -m docqa.eval.calibrate
--write``), then among the profiles shipped in ``docqa/answer/profiles/``.  A
model without one still works: its refusals rest on term coverage and answer
kind only, and a warning says how to calibrate it.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path

from docqa.answer.abstain import Thresholds
from docqa.errors import DocumentError

log = logging.getLogger("docqa")
SECTIONS = ("abstain", "guard")


def profile_name(model_id: str) -> str:
    """The file name of a model's profile (``BAAI/bge-m3`` -> ``BAAI__bge-m3.toml``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model_id.replace("/", "__")).strip(".") + ".toml"


@dataclass(frozen=True)
class Profile:
    model_id: str
    abstain: Thresholds = field(default_factory=Thresholds)
    guard: dict = field(default_factory=dict)  # GuardThresholds fields (docqa/llm/guard.py)
    source: str | None = None  # the file it came from; None: not calibrated

    @property
    def calibrated(self) -> bool:
        return self.source is not None


def _read(path: Path, model_id: str) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DocumentError(f"{path}: cannot read the model profile ({exc}); fix or delete it") from exc
    unknown = sorted(set(data) - set(SECTIONS))
    allowed = {f.name for f in fields(Thresholds)}
    unknown += sorted(f"abstain.{k}" for k in set(data.get("abstain", {})) - allowed)
    if unknown:
        raise DocumentError(f"{path}: unknown profile setting(s) {', '.join(unknown)}; see docqa/answer/profiles/")
    return Profile(model_id, Thresholds(**data.get("abstain", {})), dict(data.get("guard", {})), str(path))


def load_profile(model_id: str, home: Path | None = None) -> Profile:
    """The profile for ``model_id`` (the user's own first), or an uncalibrated one."""
    name = profile_name(model_id)
    if home is not None and (home / "profiles" / name).is_file():
        return _read(home / "profiles" / name, model_id)
    bundled = resources.files("docqa.answer") / "profiles" / name
    if bundled.is_file():
        with resources.as_file(bundled) as path:
            return _read(path, model_id)
    log.warning(
        "no calibration for embedding model %r: refusals rest on term coverage and answer kind only, without "
        "similarity checks; calibrate it on your own questions with `python -m docqa.eval.calibrate --write` "
        "(see docs/eval.md)",
        model_id,
    )
    return Profile(model_id, Thresholds(min_dense=None, min_dense_en=None), {}, None)
