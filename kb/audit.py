"""The audit log of writes: one JSON line per upload, replace, delete and key change, appended to
``audit.jsonl`` beside the index (never served over HTTP).

Each line is written with one ``write`` on a file opened for appending and synced before the call returns,
so a process killed at any moment loses at most the line being written; a torn last line is skipped when
reading.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE = "audit.jsonl"
_LOCK = threading.Lock()


def path_for(index_dir: Path) -> Path:
    return index_dir / FILE


def record(index_dir: Path, action: str, *, key: str, client: str = "", doc_id: str | None = None,
           content_hash: str | None = None, outcome: str = "ok", detail: str | None = None) -> None:  # fmt: skip
    """Append one line: time, action, key name, client address, document, content hash, outcome."""
    entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "action": action, "key": key,
             "client": client, "doc_id": doc_id, "content_hash": content_hash, "outcome": outcome}  # fmt: skip
    if detail:
        entry["detail"] = detail[:300]
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    index_dir.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fd = os.open(path_for(index_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read(index_dir: Path, since: str | None = None) -> Iterator[dict[str, Any]]:
    """The entries (from ``since``, an ISO date or time, on); a torn last line is skipped."""
    path = path_for(index_dir)
    if not path.is_file():
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if since is None or str(entry.get("time", "")) >= since:
                yield entry
