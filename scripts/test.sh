#!/usr/bin/env bash
# Install DocQA with its test dependencies and run the test suite.
# Browser tests need Debian's chromium and a CJK font; they are installed here
# when missing and this runs as root (as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium and fonts-noto-cjk for the browser tests" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    fi
fi
bash scripts/setup.sh test
. .venv/bin/activate
exec python -m pytest "$@"
