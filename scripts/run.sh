#!/usr/bin/env bash
# The main job: set up, ingest the shipped corpus into index/, and serve search on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/kb ingest
exec .venv/bin/kb serve --host "${KB_HOST:-127.0.0.1}" --port "${KB_PORT:-8000}"
