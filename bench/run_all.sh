#!/usr/bin/env bash
# Every benchmark, then the report (bench/out/report.md) and the plots (docs/*.png). Each part runs alone too.
# SIZES=10000,100000 skips the 1M point (its build takes about an hour on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
bash bench/quality.sh
.venv/bin/python bench/ingest_speed.py
.venv/bin/python bench/scale.py --sizes "${SIZES:-10000,100000,1000000}"
.venv/bin/python bench/load.py --index bench/data/scale-100000/index --seconds 20
.venv/bin/python bench/profile_search.py --index bench/data/scale-100000/index
.venv/bin/python bench/serve_memory.py
.venv/bin/python bench/language_calibration.py ../shared/data/europarl-fr-en-excerpt/mixed --limit 600
.venv/bin/python bench/report.py
