#!/usr/bin/env bash
# Install DocQA with its test dependencies and run the test suite.
# Browser tests need Debian's chromium and a CJK font (the scan tests render Chinese
# pages with it too), and OCR's OpenCV needs libGL and GLib; they are installed here
# when missing and this runs as root (as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto.*cjk" \
    || ! ldconfig -p 2>/dev/null | grep -q "libGL.so.1"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium, fonts-noto-cjk and libgl1 for the browser and OCR tests" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk libgl1 libglib2.0-0 >/dev/null
    fi
fi
bash scripts/setup.sh test
. .venv/bin/activate
exec python -m pytest "$@"
