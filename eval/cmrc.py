"""CMRC 2018 (SQuAD-format Chinese reading comprehension) as an eval corpus and
question set.

Every passage becomes one ``.txt`` file (with a ``.meta.json`` sidecar holding
its article title) in a cache directory under ``$DOCQA_HOME/eval-corpora/``;
all passages form one corpus.  Each question has one fact whose alternatives
are its distinct gold answers, and as evidence the stretch of the passage's
sentence around the first gold answer (at most ``WINDOW`` characters either
side), so a retrieved passage counts only when it is the right one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docqa.errors import DocumentError
from docqa.eval.questions import EvalQuestion
from docqa.settings import Settings
from docqa.text import sentence_spans

NAME = "cmrc2018"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"
WINDOW = 20


@dataclass
class Benchmark:
    name: str
    source: Path
    corpus_dir: Path
    passages: int
    questions: list[EvalQuestion]


def evidence_for(context: str, answer: str, start: int) -> str:
    """The answer with up to ``WINDOW`` characters either side, within its sentence."""
    if context[start : start + len(answer)] != answer:
        start = context.find(answer)
        if start < 0:
            return answer
    end = start + len(answer)
    lo, hi = max(0, start - WINDOW), min(len(context), end + WINDOW)
    spans = sentence_spans(context, start=lo, end=hi)  # sentences end at an end mark or a line break
    s = max((a for a, _ in spans if a <= start), default=start)
    e = min((b for _, b in spans if b >= end), default=end)
    return context[s:e].strip() or answer


def _read(path: Path) -> dict:
    if not path.is_file():
        raise DocumentError(
            f"{path}: CMRC 2018 dev set not found; pass its location with --benchmark-path "
            f"(cmrc2018_dev.json from the ymcui/cmrc2018 repository)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
        for a in articles:
            for p in a["paragraphs"]:
                p["id"], p["context"], p["qas"]  # noqa: B018 - shape check
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DocumentError(f"{path}: not a SQuAD-format CMRC 2018 file ({exc!r})") from exc
    return data


def questions_from(data: dict, kind: str = "cmrc") -> list[EvalQuestion]:
    out = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            context = para["context"]
            for qa in para["qas"]:
                texts = list(dict.fromkeys(a["text"].strip() for a in qa.get("answers", []) if a["text"].strip()))
                if not texts or not qa.get("question", "").strip():
                    continue
                first = qa["answers"][0]
                ev = evidence_for(context, first["text"].strip(), int(first.get("answer_start", -1)))
                out.append(
                    EvalQuestion(
                        id=str(qa["id"]),
                        question=qa["question"].strip(),
                        answers=[texts],
                        evidence=[ev],
                        answerable=True,
                        type=kind,
                        source=_safe_name(str(para["id"])) + ".txt",
                    )
                )
    return out


def _safe_name(pid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", pid)


def write_corpus(data: dict, target: Path) -> int:
    """Write every passage as ``<id>.txt`` + ``<id>.txt.meta.json`` into
    ``target`` (built in a temporary directory, then renamed into place)."""
    if (target / ".complete").exists():
        return sum(1 for _ in target.glob("*.txt"))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    n = 0
    try:
        for article in data["data"]:
            title = str(article.get("title") or "").strip()
            for para in article["paragraphs"]:
                name = _safe_name(str(para["id"])) + ".txt"
                (tmp / name).write_text(para["context"], encoding="utf-8")
                if title:
                    meta = json.dumps({"title": title}, ensure_ascii=False)
                    (tmp / (name + ".meta.json")).write_text(meta, encoding="utf-8")
                n += 1
        (tmp / ".complete").write_text(str(n))
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / ".complete").exists():
                raise
            # another run wrote the same corpus meanwhile: keep theirs
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return n


def load(
    settings: Settings, path: Path | None = None, name: str = NAME, convert: Callable[[str], str] | None = None
) -> Benchmark:
    """Read a SQuAD-format set (CMRC 2018 dev by default), write (or reuse) its
    corpus directory, build the questions.  ``convert`` rewrites every text
    first (e.g. Traditional to Simplified Chinese)."""
    source = Path(path or DEFAULT_PATH).expanduser().resolve()
    data = _read(source)
    if convert is not None:
        data = _converted(data, convert)
    tag = "" if convert is None else getattr(convert, "tag", "converted")
    digest = hashlib.sha256(source.read_bytes() + tag.encode()).hexdigest()[:12]
    corpus_dir = settings.home / "eval-corpora" / f"{name}-{digest}"
    n = write_corpus(data, corpus_dir)
    return Benchmark(name, source, corpus_dir, n, questions_from(data, "cmrc" if name == NAME else name))


def _converted(data, convert: Callable[[str], str]):
    """``data`` with every string value (not its ids) rewritten by ``convert``."""
    if isinstance(data, str):
        return convert(data)
    if isinstance(data, list):
        return [_converted(v, convert) for v in data]
    if isinstance(data, dict):
        return {k: v if k == "id" else _converted(v, convert) for k, v in data.items()}
    return data
