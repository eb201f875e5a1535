"""How much e5 favours a passage for sharing the query's language, and how that grows near the answer.

Europarl gives each passage in two languages with the same content, so the lift can be read off exactly:
for a query q and an aligned pair (French passage f, its English translation e), ``lift = cos(q, same-language
side) − cos(q, other side)`` at equal topical closeness. Pairs are binned by how close they are to the query
(rank by the mean of the two cosines): the answer pair itself, ranks 2–10, 11–100, and the rest (the
background). Passages: 5-sentence blocks of the dev half (even blocks, as bench/make_splits.py); queries: one
sentence of each of the first blocks, in English and in French, encoded with the ``query: `` prompt. Also
reported: the lift left after kb's median calibration (the background median of each language subtracted),
and after the whole calibration (the query's own language also shrunk toward its median by 1 + LIFT, the
queries being whole sentences in one language), per bin. Writes bench/out/language_lift.json.

    python bench/language_lift.py [--blocks 400] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from kb.calibration import LIFT
from kb.embedding import load_embedder
from kb.settings import resolve

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "europarl-fr-en-excerpt" / "original"
BINS = (("answer", 0, 1), ("ranks 2-10", 1, 10), ("ranks 11-100", 10, 100), ("background", 100, None))


def blocks(n: int) -> tuple[list[str], list[str], list[str], list[str]]:
    fr = (DATA / "europarl-v7.fr-en.fr").read_text(encoding="utf-8").splitlines()
    en = (DATA / "europarl-v7.fr-en.en").read_text(encoding="utf-8").splitlines()
    fr_p, en_p, fr_q, en_q = [], [], [], []
    for b in range(0, min(len(fr), len(en)) // 5, 2):  # dev half: even blocks
        f, e = fr[5 * b : 5 * b + 5], en[5 * b : 5 * b + 5]
        if not all(s.strip() for s in f + e):
            continue
        fr_p.append(" ".join(f))
        en_p.append(" ".join(e))
        i = max(range(5), key=lambda k: len(e[k]))  # the block's longest sentence is its query
        fr_q.append(f[i])
        en_q.append(e[i])
        if len(fr_p) == n:
            break
    return fr_p, en_p, fr_q, en_q


def lifts(q: np.ndarray, same: np.ndarray, other: np.ndarray, nq: int) -> dict[str, dict[str, float]]:
    cs, co = q @ same.T, q @ other.T  # (queries, pairs)
    ms, mo = np.median(cs, axis=1, keepdims=True), np.median(co, axis=1, keepdims=True)
    calibrated = (cs - ms) - (co - mo)
    shrunk = (cs - ms) / (1 + LIFT) - (co - mo)
    out = {}
    for name, lo, hi in BINS:
        raw, cal, shr = [], [], []
        for i in range(nq):
            order = np.argsort(-(cs[i] + co[i]))  # closeness of the pair to the query
            if order[0] != i:
                order = np.concatenate([[i], order[order != i]])  # the answer pair first
            sel = order[lo:hi]
            raw += list(cs[i, sel] - co[i, sel])
            cal += list(calibrated[i, sel])
            shr += list(shrunk[i, sel])
        out[name] = {"median_lift": round(float(np.median(raw)), 4), "median_lift_after_calibration":
                     round(float(np.median(cal)), 4), "median_lift_after_shrink": round(float(np.median(shr)), 4),
                     "pairs": len(raw)}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", type=int, default=400)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", default="bench/out/language_lift.json")
    args = ap.parse_args()
    emb = load_embedder(resolve(os.environ))
    fr_p, en_p, fr_q, en_q = blocks(args.blocks)
    fr_v, en_v = emb.encode_passages(fr_p), emb.encode_passages(en_p)
    nq = min(args.queries, len(fr_q))
    report = {"model": emb.name, "pairs": len(fr_p), "queries": nq, "lift": LIFT,
              "english queries": lifts(emb.encode_queries(en_q[:nq]), en_v, fr_v, nq),
              "french queries": lifts(emb.encode_queries(fr_q[:nq]), fr_v, en_v, nq)}  # fmt: skip
    for who in ("english queries", "french queries"):
        for name, v in report[who].items():  # type: ignore[union-attr]
            print(
                f"{who:16} {name:13} lift {v['median_lift']:+.4f}  after the median {v['median_lift_after_calibration']:+.4f}"
                f"  after the shrink too {v['median_lift_after_shrink']:+.4f}"
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
