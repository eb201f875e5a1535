#!/usr/bin/env bash
# Every benchmark, then the report (bench/out/report.md) and the plots (docs/*.png). Each part runs alone too.
# SIZES=10000,100000 skips the 1M points (local and Qdrant; each build takes about half an hour on 2 cores).
# Quality first (no timing), then the timed parts on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
.venv/bin/python -m pip -q install -e ".[bench]"   # matplotlib, for the plots
SIZES=${SIZES:-10000,100000,1000000}
mkdir -p bench/out
bash bench/quality.sh                                           # every benchmark, every mode, typo sets
KB_BACKEND_INDEX=qdrant OUT=bench/out/qdrant bash bench/quality.sh  # the same on Qdrant Edge
$PY bench/before_splits.py                                       # the previous round's code on the split sets (before)
$PY bench/ranking_ablation.py                                   # what each part of the ranking is worth
$PY bench/language_lift.py                                      # e5's same-language lift by closeness
$PY bench/encoder_variants.py                                   # fp32 / int8 quality tables and speed
$PY bench/highlight_quality.py                                  # the cheap best-sentence rule
$PY bench/reading_order.py                                      # multi-column PDFs: sentences whole
$PY bench/ocr_quality.py                                        # OCR pages/s and CER
$PY bench/ingest_speed.py
$PY bench/scale.py --sizes "$SIZES" --writes
$PY bench/scale.py --sizes "$SIZES" --writes --backend qdrant
$PY bench/profile_search.py --index bench/data/scale-100000/index
$PY bench/serve_memory.py --sizes "$SIZES"
$PY bench/load.py --index bench/data/scale-100000/index --seconds 20
$PY bench/load.py --index bench/data/scale-100000/index --seconds 20 --workers 2 --no-writes --clients 1,8,32 \
  --out bench/out/load-workers2.json
$PY bench/report.py
