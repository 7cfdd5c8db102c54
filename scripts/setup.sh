#!/usr/bin/env bash
# Create .venv (if needed) and install DocQA into it. Sourced by run.sh and test.sh.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The CPU build of torch must come first: it is found on local disk; anything
# else would pull a multi-GB CUDA build.
pip install --quiet torch==2.13.0
if [ -n "$extras" ]; then
    pip install --quiet -e ".[$extras]"
else
    pip install --quiet -e .
fi
