"""Effect of the per-query language calibration (kb.engine.language_offsets) on bilingual retrieval.

Runs `kb eval`'s machinery on a BEIR folder twice, with and without the calibration, and prints both
tables. Usage: python bench/language_calibration.py ../shared/data/europarl-fr-en-excerpt/mixed [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import kb.engine
from kb.evaluate import evaluate, format_table
from kb.settings import resolve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", default="bench/out/language_calibration.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    on = evaluate(Path(args.dir), settings, modes=["semantic", "hybrid"], limit=args.limit)
    original = kb.engine.language_offsets
    kb.engine.language_offsets = lambda index, qvec: {}  # type: ignore[assignment]
    off = evaluate(Path(args.dir), settings, modes=["semantic", "hybrid"], limit=args.limit)
    kb.engine.language_offsets = original
    print("with calibration\n" + format_table(on) + "\n\nwithout\n" + format_table(off))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"with": on, "without": off}, indent=2) + "\n")


if __name__ == "__main__":
    main()
