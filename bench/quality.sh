#!/usr/bin/env bash
# `kb eval` on every shared benchmark and the split bilingual sets, every mode; JSON reports in $OUT
# (default bench/out/). LIMIT=N caps the queries, MODES=semantic,hybrid picks the modes. The split sets and the held-out Europarl queries are
# built first (bench/make_splits.py); they are reported on their test halves.
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/data
S=bench/data/splits
O=${OUT:-bench/out}
L="${LIMIT:+--limit $LIMIT} ${MODES:+--modes $MODES}"
kb=${KB:-.venv/bin/kb}
mkdir -p "$O"
${PY:-.venv/bin/python} bench/make_splits.py >/dev/null
${PY:-.venv/bin/python} bench/make_typos.py >/dev/null
$kb eval $D/cnil-faq-piafml/beir $L --out $O/eval-cnil.json
$kb eval $D/service-public-dila-piafml/beir $L --out $O/eval-service-public.json
$kb eval $D/piaf/beir ${LIMIT:---limit 1500} ${MODES:+--modes $MODES} --out $O/eval-piaf.json
$kb eval $D/europarl-fr-en-excerpt/fr2en $L --out $O/eval-europarl-fr2en.json
$kb eval $D/europarl-fr-en-excerpt/en2fr $L --out $O/eval-europarl-en2fr.json
$kb eval $D/europarl-fr-en-excerpt/mixed ${LIMIT:---limit 600} ${MODES:+--modes $MODES} --out $O/eval-europarl-mixed.json
$kb eval $D/crpa-faq-piafml/beir ${MODES:+--modes $MODES} --out $O/eval-crpa.json
# the lexicon learned from Europarl's dev half: the shipped Europarl sets again on their test-half queries only
for s in fr2en en2fr mixed; do
  $kb eval $D/europarl-fr-en-excerpt/$s --queries $S/europarl-$s-test-queries.jsonl $L --out $O/eval-europarl-$s-test.json
done
$kb eval $S/europarl-split --split test $L --out $O/eval-europarl-split.json
$kb eval $S/tatoeba-split --split test $L --out $O/eval-tatoeba-split.json
# typo tolerance: the same queries with one typo each, and clean, with tolerance on (default) and off
T=bench/data/typos
for s in cnil:cnil-faq-piafml/beir service-public:service-public-dila-piafml/beir; do
  n=${s%%:*}; d=$D/${s#*:}
  for v in clean typos; do
    $kb eval $d --queries $T/$n-$v.jsonl $L --out $O/eval-$n-$v.json
    $kb eval $d --queries $T/$n-$v.jsonl --no-typos $L --out $O/eval-$n-$v-off.json
  done
done
