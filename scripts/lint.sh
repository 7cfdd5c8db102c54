#!/usr/bin/env bash
# Lint, format check, import contracts and type check (run by .ci/run).
# The import contracts and the type check read the package as it installs
# (a wheel unpacked into build/lint): the repository's top-level stage folders
# become docqa.ingest, docqa.index, … only there.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
ruff check .
ruff format --check .
rm -rf build/lint build/lib build/bdist.*  # stale copies would be packed into the wheel
pip wheel --quiet --no-deps --no-build-isolation -w build/lint/wheel . >/dev/null
pip install --quiet --no-deps --target build/lint/site build/lint/wheel/*.whl
cd build/lint/site
lint-imports ../../../pyproject.toml
mypy --config-file ../../../pyproject.toml -p docqa
