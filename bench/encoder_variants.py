"""The encoder study: every benchmark, every mode that uses the model, for each encoder variant beside fp32.

Variants (ONNX Runtime, the default model): ``fp32``; ``query-int8`` (queries through the dynamic int8 model,
passages fp32 — the index is unchanged); ``int8`` (queries and passages int8 — every index rebuilt). For each:
`bench/quality.sh` (MODES=semantic,hybrid; keyword search does not use the model) into
bench/out/encoders/<variant>/, and the encode speed (a real query on one thread as `kb serve` runs it,
passages on the ingest's threads). A variant is adoptable for queries, or for passages, only where every
benchmark stays within 0.005 nDCG@10 of fp32; bench/out/encoders/summary.json says which.

    python bench/encoder_variants.py [--variants fp32,query-int8,int8] [--skip-quality]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from kb.embedding import load_embedder
from kb.settings import resolve

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out" / "encoders"
VARIANTS = {"fp32": ("fp32", "fp32"), "query-int8": ("int8", "fp32"), "int8": ("int8", "int8")}
TOLERANCE = 0.005


def texts(path: Path, n: int) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f][:n]


def speed(query_precision: str, passage_precision: str) -> dict[str, float]:
    base = resolve(os.environ)
    qs = texts(DATA / "piaf/beir/queries.jsonl", 150) + texts(DATA / "europarl-fr-en-excerpt/en2fr/queries.jsonl", 150)
    ps = texts(DATA / "cnil-faq-piafml/beir/corpus.jsonl", 200)
    one = load_embedder(replace(base, threads=base.serve_threads, query_precision=query_precision,
                                passage_precision=passage_precision))  # fmt: skip
    for q in qs[:20]:
        one.encode_queries([q])
    cpu, wall = time.process_time(), time.perf_counter()
    for q in qs:
        one.encode_queries([q])
    query = {"query_cpu_ms": (time.process_time() - cpu) / len(qs) * 1000,
             "query_wall_ms": (time.perf_counter() - wall) / len(qs) * 1000}  # fmt: skip
    many = load_embedder(replace(base, query_precision=query_precision, passage_precision=passage_precision))
    t = time.perf_counter()
    many.encode_passages(ps)
    return {k: round(v, 2) for k, v in query.items()} | {
        "passages_per_s": round(len(ps) / (time.perf_counter() - t), 2)
    }


def table(folder: Path) -> dict[str, dict[str, float]]:
    out = {}
    for f in sorted(folder.glob("eval-*.json")):
        r = json.loads(f.read_text())
        out[f.stem[5:]] = {m: s["ndcg@10"] for m, s in r["modes"].items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--skip-quality", action="store_true", help="speed only (reuse the quality tables there)")
    args = ap.parse_args()
    summary: dict[str, Any] = {}
    for name in args.variants.split(","):
        qp, pp = VARIANTS[name]
        env = {**os.environ, "KB_QUERY_PRECISION": qp, "KB_PASSAGE_PRECISION": pp, "MODES": "semantic,hybrid",
               "OUT": str(OUT / name)}  # fmt: skip
        if not args.skip_quality:
            subprocess.run(["bash", str(ROOT / "bench" / "quality.sh")], env=env, check=True, cwd=ROOT)
        summary[name] = {"query_precision": qp, "passage_precision": pp, "speed": speed(qp, pp),
                         "ndcg@10": table(OUT / name)}  # fmt: skip
        print(name, json.dumps(summary[name]["speed"]), flush=True)
    base = summary.get("fp32", {}).get("ndcg@10", {})
    for s in summary.values():
        worst = [(b, m, round(v - base[b][m], 4)) for b, ms in s["ndcg@10"].items() for m, v in ms.items()
                 if b in base and m in base[b]]  # fmt: skip
        s["largest_drop"] = min(worst, key=lambda x: x[2]) if worst else None
        s["within_tolerance"] = all(d >= -TOLERANCE for _, _, d in worst)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: (v["within_tolerance"], v["largest_drop"]) for k, v in summary.items()}))


if __name__ == "__main__":
    main()
