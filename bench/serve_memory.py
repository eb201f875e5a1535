"""Memory and start-up of `kb serve` at each corpus size: start it on each index (time to its first answer),
send real queries in every mode (highlights on), read VmHWM and PSS (shared pages split between processes,
the honest total of several workers), stop it. Adds ``serve_rss_mb``, ``serve_peak_rss_mb``, ``serve_pss_mb``
and ``serve_first_answer_s`` to each size of the scale report; ``--index`` measures one index and prints it,
``--workers N`` runs `kb serve --workers N` (RSS and PSS summed over its processes).

    python bench/serve_memory.py [--scale bench/out/scale.json] [--workdir bench/data] [--queries 300]
    python bench/serve_memory.py --index INDEX --workers 2 [--queries 60]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import pss_mb, rss_mb, start_server, tree
from scale import real_queries


def measure(index: Path, queries: list[str], workers: int = 1) -> dict[str, float]:
    proc, url, start = start_server(index, "unused-key", workers)
    try:
        started = rss_mb(proc.pid)[0]
        with httpx.Client(timeout=120) as c:
            for i, q in enumerate(queries):
                mode = ("hybrid", "semantic", "keyword")[i % 3]
                r = c.get(url + "/api/v1/search", params={"q": q, "k": 10, "mode": mode, "highlight": "auto"})
                r.raise_for_status()
        now, peak = rss_mb(proc.pid)
        pss = pss_mb(proc.pid)
        processes = len(tree(proc.pid))
    finally:
        proc.terminate()
        proc.wait(30)
    return {"serve_rss_at_start_mb": round(started), "serve_rss_mb": round(now), "serve_peak_rss_mb": round(peak),
            "serve_pss_mb": round(pss), "serve_first_answer_s": start["first_answer_s"],
            "serve_first_search_ms": start["first_search_ms"], "serve_processes": processes}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="bench/out/scale.json", type=Path)
    ap.add_argument("--workdir", default="bench/data", type=Path)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--sizes", default="", help="only these sizes (comma-separated); default all in the report")
    ap.add_argument("--index", type=Path, help="measure this index only and print the result")
    ap.add_argument("--workers", type=int, default=1, help="kb serve processes")
    args = ap.parse_args()
    queries = real_queries(args.queries)
    if args.index:
        print(
            json.dumps(
                {"index": str(args.index), "workers": args.workers, **measure(args.index, queries, args.workers)}
            )
        )
        return
    report = json.loads(args.scale.read_text())
    only = {int(x) for x in args.sizes.split(",") if x}
    for size in report["sizes"]:
        if only and size["passages"] not in only:
            continue
        index = args.workdir / f"scale-{size['passages']}" / "index"
        size.update(measure(index, queries, args.workers))
        print(size["passages"], {k: v for k, v in size.items() if k.startswith("serve_")}, flush=True)
        args.scale.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
