"""Memory of `kb serve --workers N` on an index: start it, send 30 page and 30 API searches, print the first
answer's time, the processes, PSS (shared pages split between processes) and RSS summed over them.

    python bench/worker_memory.py INDEX WORKERS
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import pss_mb, rss_mb, start_server, tree

QUERIES = ["Quels sont les objectifs pour 2030 ?", "How many months of safety stock?", "biothérapies bioproduction"]


def main() -> None:
    index, workers = sys.argv[1], int(sys.argv[2])
    proc, url, start = start_server(Path(index), "unused-key", workers=workers)
    try:
        time.sleep(2)
        with httpx.Client(timeout=60) as c:
            for q in QUERIES * 10:
                for path in ("/", "/api/v1/search"):
                    c.get(url + path, params={"q": q}).raise_for_status()
        print(workers, start, "processes", len(tree(proc.pid)), "pss_mb", round(pss_mb(proc.pid)),
              "rss_mb (now, peak)", [round(x) for x in rss_mb(proc.pid)])  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
