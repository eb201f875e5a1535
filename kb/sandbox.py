"""Parse files in child processes with a time and a memory limit.

A parser that hangs or balloons (a decompression bomb, a page-tree loop) is killed and reported as
:class:`~kb.errors.LimitError`; the run goes on. Results cross the process boundary as JSON.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kb.errors import DocumentError, LimitError, document_error
from kb.loaders import Parsed, parse
from kb.settings import Limits
from kb.types import Document, Page, Section


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(conn: Connection, name: str, path: str, memory_mb: int, max_chars: int, ocr: str) -> None:
    try:
        limit = _address_space() + memory_mb * 2**20  # relative: the child inherits the parent's mappings
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        data = Path(path).read_bytes()
        parsed = parse(name, data, ocr)
        chars = sum(len(p.text) for d in parsed.documents for p in d.pages)
        if chars > max_chars:
            raise LimitError(f"{name}: {chars:,} characters of text, over the {max_chars:,} limit", field=name)
        payload = {"documents": [asdict(d) for d in parsed.documents], "warnings": parsed.warnings}
    except DocumentError as exc:
        payload = {"error": exc.code, "message": exc.message}
    except MemoryError:
        payload = {"error": "limit_exceeded", "message": f"{name}: parser went over its {memory_mb} MB memory limit"}
    except RecursionError:
        payload = {"error": "broken_file", "message": f"{name}: structure nested too deeply to parse"}
    except Exception as exc:  # any other parser failure is this file's problem, not the run's
        payload = {"error": "broken_file", "message": f"{name}: cannot parse ({type(exc).__name__}: {str(exc)[:160]})"}
    try:
        conn.send_bytes(json.dumps(payload).encode())
    except MemoryError:
        conn.send_bytes(b'{"error": "limit_exceeded", "message": "result too large"}')
    conn.close()


def _documents(payload: dict[str, Any]) -> Parsed:
    docs = []
    for d in payload["documents"]:
        pages = [Page(n=p["n"], text=p["text"], sections=[Section(**s) for s in p["sections"]], ocr=p.get("ocr", False))
                 for p in d["pages"]]  # fmt: skip
        docs.append(Document(**{**d, "pages": pages}))
    return Parsed(docs, payload.get("warnings", []))


class _Job:
    def __init__(self, name: str, path: Path, limits: Limits) -> None:
        ctx = mp.get_context("fork")
        self.name, self.limits = name, limits
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(
            target=_child,
            args=(send, name, str(path), limits.parse_memory_mb, limits.max_text_chars, limits.ocr),
            daemon=True,
        )
        self.proc.start()
        send.close()
        self.started = time.monotonic()

    def poll(self) -> Parsed | DocumentError | None:
        """The result when the child is done, a LimitError when it ran out of time, else None."""
        if self.recv.poll():
            try:
                payload = json.loads(self.recv.recv_bytes())
            except (EOFError, OSError, ValueError):
                payload = {"error": "limit_exceeded", "message": f"{self.name}: parser died (memory limit?)"}
            self.finish()
            if "error" in payload:
                return document_error(payload["error"], payload["message"], self.name)
            return _documents(payload)
        if not self.proc.is_alive() and not self.recv.poll():
            self.finish()
            return LimitError(f"{self.name}: parser died (exit {self.proc.exitcode}; memory limit?)", field=self.name)
        if time.monotonic() - self.started > self.limits.parse_timeout_s:
            self.finish()
            return LimitError(
                f"{self.name}: parsing took over {self.limits.parse_timeout_s:g} s, stopped", field=self.name
            )
        return None

    def finish(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.recv.close()


def parse_files(
    files: list[tuple[str, Path]], limits: Limits, workers: int
) -> Iterator[tuple[int, Parsed | DocumentError]]:
    """Parse (name, path) pairs, ``workers`` at a time; yields (index, result) as each finishes."""
    pending = list(enumerate(files))[::-1]
    running: dict[int, _Job] = {}
    while pending or running:
        while pending and len(running) < max(1, workers):
            i, (name, path) = pending.pop()
            running[i] = _Job(name, path, limits)
        done = [(i, r) for i, job in running.items() if (r := job.poll()) is not None]
        for i, result in done:
            del running[i]
            yield i, result
        if not done:
            time.sleep(0.005)
