"""What each part of language-neutral ranking is worth: `kb eval` with one part switched off at a time.

Variants: the default; without the lexicon (keyword side matches the query's own words only); without the
per-query language calibration of cosines; without the fading of keyword evidence when one passage stands
out; with a fixed keyword weight of 0.75. Sets: the split benchmarks (test halves), Europarl mixed (first
600 queries) and CNIL (a French-only set, which must not move). Writes bench/out/ranking_ablation.json.

    python bench/ranking_ablation.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kb.fusion
import kb.lexicon
import kb.retrieval
from kb.calibration import Calibration
from kb.evaluate import evaluate
from kb.settings import resolve

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SPLITS = ROOT / "bench" / "data" / "splits"
SETS: list[tuple[str, Path, str | None, int | None]] = [
    ("europarl-split", SPLITS / "europarl-split", "test", None),
    ("tatoeba-split", SPLITS / "tatoeba-split", "test", None),
    ("europarl-mixed", DATA / "europarl-fr-en-excerpt" / "mixed", None, 600),
    ("cnil", DATA / "cnil-faq-piafml" / "beir", None, None),
]


@contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def variants() -> dict[str, Callable[[], Any]]:
    empty = kb.lexicon.Lexicon({}, {})
    return {
        "default": lambda: patched(kb.fusion, "WEIGHT", kb.fusion.WEIGHT),
        "no lexicon (own words only)": lambda: patched(kb.lexicon, "default", lambda: empty),
        "no language calibration": lambda: patched(kb.retrieval, "calibrate", lambda bg, q: Calibration({}, None)),
        "no fading (keyword weight always 0.5)": lambda: patched(kb.fusion, "STANDOUT", float("inf")),
        "keyword weight 0.75": lambda: patched(kb.fusion, "WEIGHT", 0.75),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", default="bench/out/ranking_ablation.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    report: dict[str, Any] = {}
    for name, patch in variants().items():
        report[name] = {}
        with patch():
            for label, folder, split, limit in SETS:
                r = evaluate(folder, settings, modes=["semantic", "hybrid"], split=split, limit=args.limit or limit)
                report[name][label] = r["modes"]
                groups = r["modes"]["hybrid"].get("groups", {})
                cells = " ".join(f"{g} {s['ndcg@10']:.3f}/{s['hit@1']:.3f}" for g, s in groups.items())
                print(f"{name:40} {label:15} hybrid {r['modes']['hybrid']['ndcg@10']:.3f} | {cells}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
