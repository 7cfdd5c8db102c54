"""The wheel installs one import name, ``docqa``: the repository's top-level
stage folders (ingest/, index/, eval/, prompts/) go inside it with their data
files, and the installed package imports without the repository on the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
OFFLINE = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

pytestmark = pytest.mark.timeout(120)

EXPECTED_FILES = [
    "docqa/ingest/chunker.py",
    "docqa/index/store.py",
    "docqa/eval/metrics.py",
    "docqa/eval/data/report_questions.jsonl",
    "docqa/eval/thresholds.toml",
    "docqa/prompts/answer_system.zh.txt",
    "docqa/lang/zh.toml",
    "docqa/answer/profiles/multilingual-e5-small.toml",
    "docqa/web/static/widget.js",
]


def _pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], cwd=cwd, env=OFFLINE, capture_output=True, text=True, timeout=100
    )


def _offline_build_problem() -> str | None:
    """Why pip cannot build the wheel offline here (without build isolation it
    uses this environment's setuptools, and fetches nothing), or None."""
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed"
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    if major < 68:
        return f"setuptools {setuptools.__version__} is older than the 68 the project needs"
    if (major, minor) < (70, 1):  # bdist_wheel came into setuptools in 70.1
        try:
            import wheel  # noqa: F401
        except ImportError:
            return f"setuptools {setuptools.__version__} needs the wheel package, which is not installed"
    return None


@pytest.fixture(scope="module")
def wheel_file(tmp_path_factory) -> Path:
    """The project built as a wheel, offline, with the environment's setuptools."""
    problem = _offline_build_problem()
    if problem:
        pytest.skip(f"pip cannot build the wheel offline (--no-build-isolation): {problem}")
    out = tmp_path_factory.mktemp("wheel")
    build = _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO))
    assert build.returncode == 0, build.stderr
    (whl,) = out.glob("docqa-*.whl")
    return whl


def _names(whl: Path) -> list[str]:
    with zipfile.ZipFile(whl) as z:
        return z.namelist()


def test_the_wheel_installs_only_the_docqa_namespace(wheel_file):
    assert {n.split("/", 1)[0] for n in _names(wheel_file)} == {"docqa", f"docqa-{VERSION}.dist-info"}


@pytest.mark.parametrize("path", EXPECTED_FILES)
def test_the_wheel_holds_the_stage_packages_and_their_data(wheel_file, path):
    assert path in _names(wheel_file)


def test_the_installed_wheel_imports_without_the_repository(wheel_file, tmp_path):
    site = tmp_path / "site"
    install = _pip("install", "--no-deps", "--target", str(site), str(wheel_file))
    assert install.returncode == 0, install.stderr
    code = (
        "import json, docqa.ingest.chunker, docqa.eval.metrics, docqa.lang\n"
        "zh = docqa.lang.load('zh')\n"
        "print(json.dumps({'files': [docqa.ingest.chunker.__file__, docqa.eval.metrics.__file__, docqa.lang.__file__],"
        " 'zh_words': len(zh.words)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", code], cwd=site, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    for f in out["files"]:
        assert Path(f).resolve().is_relative_to(site.resolve()), f"{f} was imported from outside the installed wheel"
    assert out["zh_words"] > 0  # the language data (package data) is read from the install
    for name in ("ingest", "index", "eval", "prompts", "app"):
        assert not (site / name).exists(), f"the wheel installed a top-level {name!r}"
