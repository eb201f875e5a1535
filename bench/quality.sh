#!/usr/bin/env bash
# `kb eval` on every shared benchmark, every mode; JSON reports in bench/out/. LIMIT=N caps the queries.
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/data
L=${LIMIT:+--limit $LIMIT}
kb=.venv/bin/kb
$kb eval $D/cnil-faq-piafml/beir $L --out bench/out/eval-cnil.json
$kb eval $D/service-public-dila-piafml/beir $L --out bench/out/eval-service-public.json
$kb eval $D/piaf/beir ${L:---limit 1500} --out bench/out/eval-piaf.json
$kb eval $D/europarl-fr-en-excerpt/fr2en $L --out bench/out/eval-europarl-fr2en.json
$kb eval $D/europarl-fr-en-excerpt/en2fr $L --out bench/out/eval-europarl-en2fr.json
$kb eval $D/europarl-fr-en-excerpt/mixed ${L:---limit 600} --modes semantic,hybrid,keyword --out bench/out/eval-europarl-mixed.json
$kb eval $D/crpa-faq-piafml/beir --out bench/out/eval-crpa.json
