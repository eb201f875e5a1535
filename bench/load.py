"""HTTP load on `kb serve` (127.0.0.1 only): throughput and latency at 1, 8 and 32 concurrent clients,
then a write under load: while searches run, a document is uploaded and another deleted, and every answer
must come whole from one index generation (before or after each change).

Queries are the 1,000 real ones of the scale benchmark (PIAF questions, Europarl sentences) when
../shared/data is there, else ten questions about the shipped corpus. The load generator (httpx, asyncio)
runs on the same cores as the server; the CPU each side used is recorded per level, so the server's CPU
cost per search is known.

    python bench/load.py --index INDEX [--seconds 20] [--clients 1,8,32] [--out bench/out/load.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    "Quels sont les objectifs de France Biolead pour 2030 ?", "How many founding members does France Biolead have?",
    "stratégie d'accélération biothérapies", "bioproduction capacity in France", "pénuries de médicaments",
    "What is the ambition of the strategy for innovative therapies?", "coûts de production des biomédicaments",
    "jobs in bioproduction", "souveraineté sanitaire", "medical device shortages roadmap",
]  # fmt: skip


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(index: Path, key: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "KB_INDEX": str(index), "KB_API_KEY": key}
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not start")


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def queries() -> list[str]:
    try:
        from scale import real_queries

        return real_queries(1000)
    except OSError:
        return QUERIES


def cpu_s(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default)."""
    if pid is None:
        return time.process_time()
    ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")


async def client(c: httpx.AsyncClient, url: str, until: float, lat: list[float], errors: list[str],
                 answers: list[dict[str, object]], params: dict[str, str]) -> None:  # fmt: skip
    rng = random.Random()
    pool = queries()
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            r = await c.get(url + "/api/v1/search", params={"q": rng.choice(pool), "k": "10", **params})
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:100]}")
            else:
                body = r.json()
                answers.append({"generation": body["generation"], "docs": [h["doc_id"] for h in body["hits"]]})
        except httpx.HTTPError as exc:
            errors.append(repr(exc))
        lat.append((time.perf_counter() - t0) * 1000)


async def level(url: str, clients: int, seconds: float, params: dict[str, str],
                server_pid: int | None = None) -> dict[str, object]:  # fmt: skip
    lat: list[float] = []
    errors: list[str] = []
    answers: list[dict[str, object]] = []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as c:
        until = time.perf_counter() + seconds
        t0, me0, srv0 = time.perf_counter(), cpu_s(), cpu_s(server_pid) if server_pid else 0.0
        await asyncio.gather(*(client(c, url, until, lat, errors, answers, params) for _ in range(clients)))
        wall, me, srv = time.perf_counter() - t0, cpu_s() - me0, cpu_s(server_pid) - srv0 if server_pid else 0.0
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    return {"clients": clients, "requests": len(lat), "errors": len(errors), "error_samples": errors[:3],
            "throughput_rps": round(len(lat) / wall, 1), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1), "server_cpu_ms_per_search": round(srv * 1000 / max(1, len(lat)), 1),
            "server_cores_busy": round(srv / wall, 2), "load_generator_cores_busy": round(me / wall, 2),
            "_answers": answers}  # fmt: skip


async def writes_under_load(url: str, key: str, seconds: float) -> dict[str, object]:
    """Upload a document then delete it while 8 clients search; check each answer against its generation."""
    headers = {"Authorization": f"Bearer {key}"}
    text = "Usine pilote de Grenoble\n\n" + " ".join(
        f"La plateforme grenobloise de bioproduction {i} fabrique des lots cliniques." for i in range(60)
    )
    timeline: list[tuple[str, str]] = []
    async with httpx.AsyncClient(timeout=600) as c:
        gen0 = (await c.get(url + "/api/v1/health")).json()["generation"]
        load_task = asyncio.create_task(level(url, 8, seconds, {"highlight": "terms"}))
        await asyncio.sleep(seconds / 4)
        t0 = time.perf_counter()
        r = await c.post(url + "/api/v1/documents", files={"file": ("grenoble.txt", text.encode())},
                         data={"doc_id": "load-grenoble"}, headers=headers)  # fmt: skip
        upload_s = time.perf_counter() - t0
        timeline.append(("upload", r.json().get("generation", f"error {r.status_code}")))
        t0 = time.perf_counter()
        r = await c.delete(url + "/api/v1/documents/load-grenoble", headers=headers)
        delete_s = time.perf_counter() - t0
        timeline.append(("delete", r.json().get("generation", f"error {r.status_code}")))
        result = await load_task
    gens = {gen0: False, timeline[0][1]: True, timeline[1][1]: False}  # does this generation hold the document?
    answers: list[dict[str, Any]] = result.pop("_answers")  # type: ignore[assignment]
    unknown = [a for a in answers if a["generation"] not in gens]
    mixed = [a for a in answers if "load-grenoble" in a["docs"] and not gens.get(a["generation"], False)]
    return {**result, "upload_s": round(upload_s, 1), "delete_s": round(delete_s, 1), "generations": list(gens),
            "answers_checked": len(answers), "answers_from_unknown_generation": len(unknown),
            "answers_inconsistent_with_generation": len(mixed)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, type=Path)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--highlight", default="terms", choices=["auto", "terms", "none"])
    ap.add_argument("--out", default="bench/out/load.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-load-")) / "index"
    shutil.copytree(args.index, work)  # the write test must not change the caller's index
    key = "bench-key"
    proc, url = start_server(work, key)
    try:
        levels: list[dict[str, object]] = []
        report: dict[str, object] = {"index": str(args.index), "highlight": args.highlight, "levels": levels}
        for n in (int(x) for x in args.clients.split(",")):
            res = asyncio.run(level(url, n, args.seconds, {"highlight": args.highlight}, proc.pid))
            res.pop("_answers")
            levels.append(res)
            print(json.dumps(res), flush=True)
        report["rss_mb"], report["peak_rss_mb"] = rss_mb(proc.pid)
        report["writes_under_load"] = asyncio.run(writes_under_load(url, key, max(args.seconds, 30)))
        print(json.dumps(report["writes_under_load"]), flush=True)
        report["peak_rss_mb_after_writes"] = rss_mb(proc.pid)[1]
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work.parent, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
