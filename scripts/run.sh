#!/usr/bin/env bash
# The main job: install, build the embedding model (first run only), ingest the
# bundled report if there is no index yet, then start the chat UI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
exec docqa serve "$@"
