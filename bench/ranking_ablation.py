"""What each part of language-neutral ranking is worth: `kb eval` with one part switched off at a time.

Variants: the default; without the lexicon (keyword side matches the query's own words only); without the
per-query language calibration of cosines; without its shrinking toward the background (LIFT 0); without the
fading of keyword evidence when one passage stands out; without the sooner fading of short queries (SHORT 0);
without the exemption of passages in another language that match most of a short query's words; with a keyword
weight of 0.75; and two alternatives tried: BM25 normalised per passage language, and
keyword evidence re-ordering only the passages the dense side finds close. Sets: the split benchmarks (test halves), Europarl mixed (first
600 queries) and CNIL (a French-only set, which must not move). Writes bench/out/ranking_ablation.json.

    python bench/ranking_ablation.py [--limit N] [--only NAME,NAME]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kb.calibration
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


def fuse_per_language(cands: list[kb.fusion.Candidate], floor: float | None, n_words: int | None = None) -> Any:
    """The default fusion, but BM25 divided by the best BM25 *of the passage's language* (alternative tried)."""
    _ranked, weight = _FUSE(cands, floor, n_words)
    best: dict[str, float] = {}
    for c in cands:
        best[c.language] = max(best.get(c.language, 0.0), c.keyword)
    for c in cands:
        c.keyword_norm = c.keyword / best[c.language] if best[c.language] > 0 else 0.0
        c.score = c.dense_norm + c.weight * c.keyword_norm
    return sorted(cands, key=lambda c: -c.score), weight


def fuse_gated(cands: list[kb.fusion.Candidate], floor: float | None, n_words: int | None = None) -> Any:
    """Keyword evidence re-orders only the passages the dense side finds close (dense_norm ≥ 0.8)."""
    _ranked, weight = _FUSE(cands, floor, n_words)
    for c in cands:
        c.score = c.dense_norm + (c.weight * c.keyword_norm if c.dense_norm >= 0.8 else 0.0)
    return sorted(cands, key=lambda c: -c.score), weight


_FUSE = kb.fusion.fuse


def variants() -> dict[str, Callable[[], Any]]:
    empty = kb.lexicon.Lexicon({}, {})
    return {
        "default": lambda: patched(kb.fusion, "WEIGHT", kb.fusion.WEIGHT),
        "no lexicon (own words only)": lambda: patched(kb.lexicon, "default", lambda: empty),
        "no language calibration": lambda: patched(
            kb.retrieval, "calibrate", lambda bg, q, probs=None: Calibration({}, None)
        ),
        "no fading (keyword weight always 0.5)": lambda: patched(kb.fusion, "STANDOUT", float("inf")),
        "no shrinking toward the background (LIFT 0)": lambda: patched(kb.calibration, "LIFT", 0.0),
        "short queries fade no sooner (SHORT 0)": lambda: patched(kb.fusion, "SHORT", 0),
        "no cover exemption (COVER above 1)": lambda: patched(kb.fusion, "COVER", 1.01),
        "keyword weight 0.75": lambda: patched(kb.fusion, "WEIGHT", 0.75),
        "BM25 normalised per passage language": lambda: patched(kb.retrieval, "fuse", fuse_per_language),
        "keyword re-orders only dense-close passages": lambda: patched(kb.retrieval, "fuse", fuse_gated),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int)
    ap.add_argument("--only", help="comma-separated variant names (default: all); results merge into --out")
    ap.add_argument("--sets", help="comma-separated set names (default: all)")
    ap.add_argument("--out", default="bench/out/ranking_ablation.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    out = Path(args.out)
    report: dict[str, Any] = json.loads(out.read_text()) if args.only and out.is_file() else {}
    chosen = args.only.split(",") if args.only else list(variants())
    for name, patch in variants().items():
        if name not in chosen:
            continue
        report[name] = {}
        with patch():
            for label, folder, split, limit in SETS:
                if args.sets and label not in args.sets.split(","):
                    continue
                r = evaluate(folder, settings, modes=["hybrid"], split=split, limit=args.limit or limit)
                report[name][label] = r["modes"]
                groups = r["modes"]["hybrid"].get("groups", {})
                cells = " ".join(f"{g} {s['ndcg@10']:.3f}/{s['hit@1']:.3f}" for g, s in groups.items())
                print(f"{name:40} {label:15} hybrid {r['modes']['hybrid']['ndcg@10']:.3f} | {cells}", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)  # after each variant, so a failure keeps what was run
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
