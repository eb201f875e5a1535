"""Choose the fusion's fading constant on the dev halves of the split sets (never on their test halves).

For each value of ``kb.fusion.STANDOUT`` (how far the dense top-1 must stand out for keyword evidence to
fade out entirely when the best candidates mix languages), hybrid nDCG@10 / hit@1 per query language →
answer language on the dev halves of the Europarl and Tatoeba split sets. Writes bench/out/tune_fusion.json.

    python bench/tune_fusion.py [--values 0.15,0.2,0.3,0.4,0.6]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ranking_ablation import short_queries_fade_sooner

import kb.fusion
from kb.evaluate import evaluate
from kb.settings import resolve

SPLITS = Path(__file__).resolve().parents[1] / "bench" / "data" / "splits"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--values", default="0.15,0.2,0.3,0.4,0.6")
    ap.add_argument("--short", type=int, default=0, help="fade sooner under this many content words (0: off)")
    ap.add_argument("--out", default="bench/out/tune_fusion.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    report: dict[str, Any] = {}
    default = kb.fusion.STANDOUT
    for value in (float(v) for v in args.values.split(",")):
        kb.fusion.STANDOUT = value
        for name in ("europarl-split", "tatoeba-split"):
            with short_queries_fade_sooner(args.short) if args.short else contextlib.nullcontext():
                r = evaluate(SPLITS / name, settings, modes=["semantic", "hybrid"], split="dev")
            report.setdefault(str(value), {})[name] = r["modes"]
            for mode in ("semantic", "hybrid"):
                g = r["modes"][mode]["groups"]
                cells = " ".join(f"{k} {s['ndcg@10']:.3f}/{s['hit@1']:.3f}" for k, s in g.items())
                print(f"STANDOUT {value:<5} {name:15} {mode:8} {r['modes'][mode]['ndcg@10']:.3f} | {cells}", flush=True)
    kb.fusion.STANDOUT = default
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
