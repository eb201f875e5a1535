"""Learn the French–English keyword lexicon (kb/data/lexicon-fr-en.tsv) from aligned sentence pairs.

Classic dictionary-based cross-language retrieval: the keyword side of a search translates the query's terms
into the other language with this lexicon. It is learned with IBM Model 1 (EM over word alignments, both
directions) on the *dev* pairs of the split benchmarks only (bench/make_splits.py: even Europarl passages,
even Tatoeba lines), so that no test query or its answer was seen. Terms are kb's own analysed forms (folded
Snowball stems, stop words removed), the forms the keyword index stores. A pair is kept when both directions
agree (t(f|e)·t(e|f) high enough) and it was seen at least twice; identical stems (cognates such as
"bioproduct") are left out since the keyword side matches them anyway.

Usage: python bench/build_lexicon.py [--data ../shared/data] [--out kb/data/lexicon-fr-en.tsv]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from make_splits import DATA, dev_pairs  # noqa: E402

from kb.analysis import terms  # noqa: E402

ITERATIONS = 8
MIN_COUNT = 2
MIN_SCORE = 0.02  # t(f|e) · t(e|f)
MAX_PER_TERM = 3
NULL = ""


def model1(pairs: list[tuple[list[str], list[str]]], iterations: int) -> dict[tuple[str, str], float]:
    """t(target | source) by IBM Model 1 (with a NULL source word), EM from uniform."""
    t: dict[tuple[str, str], float] = defaultdict(lambda: 1.0)
    for _ in range(iterations):
        count: dict[tuple[str, str], float] = defaultdict(float)
        total: dict[str, float] = defaultdict(float)
        for src, tgt in pairs:
            src_n = [NULL, *src]
            for f in tgt:
                z = sum(t[(e, f)] for e in src_n)
                for e in src_n:
                    c = t[(e, f)] / z
                    count[(e, f)] += c
                    total[e] += c
        t = defaultdict(float, {(e, f): c / total[e] for (e, f), c in count.items()})
    return dict(t)


def learn(raw: list[tuple[str, str]]) -> list[tuple[str, str, float, float, int]]:
    analysed = [(terms(f, "fr"), terms(e, "en")) for f, e in raw]
    pairs = [(fr, en) for fr, en in analysed if fr and en]
    cooc: Counter[tuple[str, str]] = Counter()
    for fr, en in pairs:
        cooc.update((e, f) for e in set(en) for f in set(fr))
    t_fe = model1([(en, fr) for fr, en in pairs], ITERATIONS)  # t(f | e)
    t_ef = model1(pairs, ITERATIONS)  # t(e | f)
    rows = []
    for (e, f), n in cooc.items():
        if n < MIN_COUNT or e == f:
            continue
        p_fe, p_ef = t_fe.get((e, f), 0.0), t_ef.get((f, e), 0.0)
        if p_fe * p_ef >= MIN_SCORE:
            rows.append((e, f, p_fe, p_ef, n))
    return _top(rows)


def _top(rows: list[tuple[str, str, float, float, int]]) -> list[tuple[str, str, float, float, int]]:
    """At most MAX_PER_TERM translations per term, in either direction."""
    rows.sort(key=lambda r: -r[2] * r[3])
    per_e: Counter[str] = Counter()
    per_f: Counter[str] = Counter()
    kept = []
    for r in rows:
        if per_e[r[0]] < MAX_PER_TERM and per_f[r[1]] < MAX_PER_TERM:
            per_e[r[0]] += 1
            per_f[r[1]] += 1
            kept.append(r)
    return sorted(kept)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "kb" / "data" / "lexicon-fr-en.tsv")
    args = ap.parse_args()
    raw = list(dev_pairs(args.data))
    rows = learn(raw)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(
            f"# kb French-English keyword lexicon: {len(rows)} pairs learned by bench/build_lexicon.py (IBM Model 1)\n"
        )
        f.write(f"# from {len(raw)} dev sentence pairs of Europarl v7 (Koehn 2005) and Tatoeba (CC BY 2.0 FR)\n")
        f.write("# en_term\tfr_term\tp(fr|en)\tp(en|fr)\tpairs seen\n")
        f.writelines(f"{e}\t{fr}\t{a:.3f}\t{b:.3f}\t{n}\n" for e, fr, a, b, n in rows)
    print(f"{args.out}: {len(rows)} pairs from {len(raw)} sentence pairs")


if __name__ == "__main__":
    main()
