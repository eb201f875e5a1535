#!/usr/bin/env bash
# Set up, then lint, type-check and run the whole test suite (real model, index, server and browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  # the browser tests drive Debian's Chromium (nothing is downloaded by Playwright)
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check kb api tests bench
.venv/bin/ruff format --check kb api tests bench
.venv/bin/mypy kb api bench
.venv/bin/python -m pytest "$@"
