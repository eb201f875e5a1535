"""Choose the fusion's constants on the dev halves of the split sets (never on their test halves).

For each combination of ``kb.calibration.LIFT`` (how much a query's own language is shrunk toward its
background), ``kb.fusion.SHORT`` (under how many content words keyword evidence fades sooner) and
``kb.fusion.STANDOUT`` (how far the dense top-1 must stand out for keyword evidence to fade out entirely when
the candidates mix languages): semantic and hybrid nDCG@10 / hit@1 per query language → answer language on
the dev halves of the Europarl and Tatoeba split sets. Writes bench/out/tune_fusion.json.

    python bench/tune_fusion.py [--lifts 0,0.2] [--shorts 0,8,14] [--values 0.6]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from pathlib import Path
from typing import Any

import kb.calibration
import kb.fusion
from kb.evaluate import evaluate
from kb.settings import resolve

SPLITS = Path(__file__).resolve().parents[1] / "bench" / "data" / "splits"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--values", default="0.6", help="STANDOUT values")
    ap.add_argument("--shorts", default=str(kb.fusion.SHORT), help="SHORT values (0: never sooner)")
    ap.add_argument("--lifts", default=str(kb.calibration.LIFT), help="LIFT values (0: median only)")
    ap.add_argument("--sets", default="europarl-split,tatoeba-split")
    ap.add_argument("--out", default="bench/out/tune_fusion.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    report: dict[str, Any] = {}
    default = kb.fusion.STANDOUT, kb.fusion.SHORT, kb.calibration.LIFT
    grid = itertools.product(*(map(float, a.split(",")) for a in (args.lifts, args.shorts, args.values)))
    for lift, short, value in grid:
        kb.calibration.LIFT, kb.fusion.SHORT, kb.fusion.STANDOUT = lift, int(short), value
        key = f"LIFT {lift} SHORT {int(short)} STANDOUT {value}"
        for name in args.sets.split(","):
            r = evaluate(SPLITS / name, settings, modes=["semantic", "hybrid"], split="dev")
            report.setdefault(key, {})[name] = r["modes"]
            for mode in ("semantic", "hybrid"):
                g = r["modes"][mode]["groups"]
                cells = " ".join(f"{k} {s['ndcg@10']:.3f}/{s['hit@1']:.3f}" for k, s in g.items())
                print(f"{key} {name:15} {mode:8} {r['modes'][mode]['ndcg@10']:.3f} | {cells}", flush=True)
    kb.fusion.STANDOUT, kb.fusion.SHORT, kb.calibration.LIFT = default
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
