"""HTTP load on `kb serve` (127.0.0.1 only): what users get, at 1, 8 and 32 concurrent clients.

Five requests, each measured alone at every level: ``page`` — the web page with a query (``/?q=…``, what
a person waits for before seeing results: best sentences by matched words), ``page-sentences`` — the
request its script sends next for the model's best sentences (``/?q=…&highlight=auto``, no facets),
``visit`` — both in turn for the same question, as a browser with the script sends them (latency: the page's,
and the follow-up's apart; throughput and CPU per visit), ``api`` — the API's default search (``/api/v1/search?q=…``, highlight=auto), and ``api-terms`` — the API
with highlight=terms. Before any load: the time from starting `kb serve` to its first
answer. After: a write under load — while 8 clients search, a document is uploaded and deleted, and every
answer must come whole from one index generation (before or after each change).

Queries: every distinct real question of ../shared/data (PIAF, Europarl both ways, CNIL, service-public;
about 14,000) when it is there, else ten questions about the shipped corpus. Each is asked once in a whole
run (``Deck``), since the server remembers query vectors and sentence vectors: a benchmark that repeats its
questions measures those memories, not users with new questions. A visit's follow-up repeats its page's
question, as the page's script does; ``repeated_questions`` per level counts any other repeat. The load generator (aiohttp, asyncio;
it spends about half the CPU per request that httpx did)
runs on the same cores as the server; the CPU each side used is recorded per level (the server's over all
its processes), so the server's CPU per search is known. Memory: RSS and PSS (shared pages split between the
processes that map them: the honest total of `kb serve --workers N`) summed over the server's processes.

    python bench/load.py --index INDEX [--seconds 20] [--clients 1,8,32]
                         [--requests page,page-sentences,visit,api,api-terms]
                         [--workers 1] [--out bench/out/load.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
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


REQUESTS = {"page": ("/", {}), "page-sentences": ("/", {"highlight": "auto"}), "api": ("/api/v1/search", {"k": "10"}),
            "api-terms": ("/api/v1/search", {"k": "10", "highlight": "terms"})}  # fmt: skip
# what a browser with the page's script does: the page, then at once its follow-up for the same question
VISIT = (REQUESTS["page"], REQUESTS["page-sentences"])


def start_server(index: Path, key: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str, dict[str, float]]:
    """`kb serve` on a free port; also how long until it answered its first search, and that search's time."""
    port = free_port()
    env = {**os.environ, "KB_INDEX": str(index), "KB_API_KEY": key, "KB_SERVE_WORKERS": str(workers)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(6000):
        try:
            t = time.perf_counter()
            r = httpx.get(url + "/api/v1/search", params={"q": "Quels sont les objectifs pour 2030 ?"}, timeout=60)
            if r.status_code == 200:
                end = time.perf_counter()
                return proc, url, {"first_answer_s": round(end - t0, 2), "first_search_ms": round((end - t) * 1000)}
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def tree(pid: int) -> list[int]:
    """A process and its descendants (the workers of `kb serve --workers N`)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss_mb(pid: int) -> tuple[float, float]:
    """RSS now and at its peak, summed over the process tree (shared pages counted in each process)."""
    now = peak = 0.0
    for p in tree(pid):
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines() if ":" in line)
        now += int(fields["VmRSS"].split()[0]) / 1024
        peak += int(fields["VmHWM"].split()[0]) / 1024
    return now, peak


def pss_mb(pid: int) -> float:
    """Proportional set size summed over the process tree: shared pages split between their processes."""
    total = 0.0
    for p in tree(pid):
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) / 1024
    return total


QUESTION_SETS = ("piaf/beir/queries.jsonl", "europarl-fr-en-excerpt/en2fr/queries.jsonl",
                 "europarl-fr-en-excerpt/fr2en/queries.jsonl", "cnil-faq-piafml/beir/queries.jsonl",
                 "service-public-dila-piafml/beir/queries.jsonl")  # fmt: skip


def queries() -> list[str]:
    """Every distinct real question of ../shared/data (about 14,000), else the ten about the shipped corpus."""
    from scale import DATA

    seen: dict[str, None] = {}
    try:
        for rel in QUESTION_SETS:
            with open(DATA / rel, encoding="utf-8") as f:
                seen.update((json.loads(line)["text"], None) for line in f)
    except OSError:
        return QUERIES
    return list(seen)


class Deck:
    """The questions of a whole run, each drawn once (shuffled), as distinct users ask distinct questions:
    the server's query memory and sentence cache then answer only what a real follow-up repeats. When the
    deck runs out it is shuffled again and ``repeats`` counts the questions asked a second time."""

    def __init__(self) -> None:
        self.pool: list[str] = []
        self.left: list[str] = []
        self.repeats = 0
        self.rounds = 0

    def draw(self) -> str:
        if not self.left:
            self.pool = self.pool or queries()
            self.left = random.sample(self.pool, len(self.pool))
            self.rounds += 1
        if self.rounds > 1:
            self.repeats += 1
        return self.left.pop()


DECK = Deck()


def cpu_s(pid: int | None = None) -> float:
    """User + system CPU seconds of a process and its descendants (this process alone by default)."""
    if pid is None:
        return time.process_time()
    total = 0
    for p in tree(pid):
        ticks = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(ticks[11]) + int(ticks[12])
    return total / os.sysconf("SC_CLK_TCK")


async def client(c: aiohttp.ClientSession, url: str, until: float, lat: list[float], errors: list[str],
                 answers: list[dict[str, object]], request: str, rejected: list[float],
                 follow: list[float]) -> None:  # fmt: skip
    """One user: a search, then the next as soon as it is answered; after a 429, waits as Retry-After says.
    A ``visit`` is the page then its follow-up: ``lat`` gets the page's time, ``follow`` the follow-up's."""
    steps = VISIT if request == "visit" else (REQUESTS[request],)
    while time.perf_counter() < until:
        q = DECK.draw()
        for n, (path, params) in enumerate(steps):
            t0 = time.perf_counter()
            try:
                async with c.get(url + path, params={"q": q, **params}) as r:
                    body = await r.read()
                if r.status == 429:
                    rejected.append((time.perf_counter() - t0) * 1000)
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                    break
                if r.status != 200:
                    errors.append(f"{r.status} {body[:100]!r}")
                elif request.startswith("api"):
                    doc = json.loads(body)
                    answers.append({"generation": doc["generation"], "docs": [h["doc_id"] for h in doc["hits"]]})
            except aiohttp.ClientError as exc:
                errors.append(repr(exc))
            (follow if n else lat).append((time.perf_counter() - t0) * 1000)


async def level(url: str, clients: int, seconds: float, request: str,
                server_pid: int | None = None) -> dict[str, object]:  # fmt: skip
    lat: list[float] = []
    errors: list[str] = []
    answers: list[dict[str, object]] = []
    rejected: list[float] = []
    follow: list[float] = []
    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=60)) as c:
        until = time.perf_counter() + seconds
        t0, me0, srv0 = time.perf_counter(), cpu_s(), cpu_s(server_pid) if server_pid else 0.0
        repeats0 = DECK.repeats
        await asyncio.gather(
            *(client(c, url, until, lat, errors, answers, request, rejected, follow) for _ in range(clients))
        )
        wall, me, srv = time.perf_counter() - t0, cpu_s() - me0, cpu_s(server_pid) - srv0 if server_pid else 0.0
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    rq = statistics.quantiles(rejected, n=100) if len(rejected) > 1 else rejected * 99 or [0.0] * 99
    out = {"request": request, "clients": clients, "requests": len(lat), "errors": len(errors), "error_samples": errors[:3],
            "throughput_rps": round(len(lat) / wall, 1), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1), "server_cpu_ms_per_search": round(srv * 1000 / max(1, len(lat)), 1),
            "server_cores_busy": round(srv / wall, 2), "load_generator_cores_busy": round(me / wall, 2),
            "rejected_429": len(rejected), "rejected_p99_ms": round(rq[98], 1), "_answers": answers,
            "repeated_questions": DECK.repeats - repeats0}  # fmt: skip
    if follow:  # a visit: throughput and CPU are per visit (the page and its follow-up)
        fq = statistics.quantiles(follow, n=100) if len(follow) > 1 else follow * 99
        out |= {"followup_p50_ms": round(fq[49], 1), "followup_p99_ms": round(fq[98], 1)}
    return out


async def writes_under_load(url: str, key: str, seconds: float) -> dict[str, object]:
    """Upload a document then delete it while 8 clients search; check each answer against its generation."""
    headers = {"Authorization": f"Bearer {key}"}
    text = "Usine pilote de Grenoble\n\n" + " ".join(
        f"La plateforme grenobloise de bioproduction {i} fabrique des lots cliniques." for i in range(60)
    )
    timeline: list[tuple[str, str]] = []
    async with httpx.AsyncClient(timeout=600) as c:
        gen0 = (await c.get(url + "/api/v1/health")).json()["generation"]
        load_task = asyncio.create_task(level(url, 8, seconds, "api"))
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
    ap.add_argument("--clients", default="1,8,32,64")
    ap.add_argument("--requests", default="page,page-sentences,visit,api,api-terms")
    ap.add_argument("--workers", type=int, default=1, help="kb serve processes")
    ap.add_argument("--no-writes", action="store_true", help="skip the write under load")
    ap.add_argument("--out", default="bench/out/load.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kb-load-")) / "index"
    shutil.copytree(args.index, work)  # the write test must not change the caller's index
    key = "bench-key"
    proc, url, start = start_server(work, key, args.workers)
    print(json.dumps(start), flush=True)
    try:
        levels: list[dict[str, object]] = []
        report: dict[str, object] = {"index": str(args.index), "workers": args.workers, "start": start,
                                     "levels": levels, "pss_mb_after_start": round(pss_mb(proc.pid))}  # fmt: skip
        for request in args.requests.split(","):
            for n in (int(x) for x in args.clients.split(",")):
                res = asyncio.run(level(url, n, args.seconds, request, proc.pid))
                res.pop("_answers")
                levels.append(res)
                print(json.dumps(res), flush=True)
        report["rss_mb"], report["peak_rss_mb"] = rss_mb(proc.pid)
        report["pss_mb"] = round(pss_mb(proc.pid))
        if not args.no_writes:
            report["writes_under_load"] = asyncio.run(writes_under_load(url, key, max(args.seconds, 30)))
            print(json.dumps(report["writes_under_load"]), flush=True)
            report["peak_rss_mb_after_writes"] = rss_mb(proc.pid)[1]
            report["pss_mb_after_writes"] = round(pss_mb(proc.pid))
    finally:
        for p in reversed(tree(proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGTERM)
        proc.wait(20)
        shutil.rmtree(work.parent, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
