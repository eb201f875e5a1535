"""Faults: the server killed during an upload, a disk that fills up during ingest."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from kb import generations
from tests.conftest import FIXTURES, ROOT, Server, kb_env, run_kb


def state(index: Path) -> tuple[str, int]:
    gen = generations.current(index)
    assert gen is not None
    return gen.name, json.loads((gen / "manifest.json").read_text())["counts"]["documents"]


def test_server_sigkill_during_upload_then_restart(served_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(served_index, index)
    before = state(index)
    srv = Server(index, api_key="k")
    big = "Rapport\n\n" + " ".join(f"Phrase {i} sur la production de vaccins en France." for i in range(6000))
    result: list[object] = []

    def upload() -> None:
        try:
            result.append(httpx.post(srv.url + "/api/v1/documents", files={"file": ("big.txt", big.encode())},
                                     headers={"Authorization": "Bearer k"}, timeout=120))  # fmt: skip
        except httpx.HTTPError as exc:
            result.append(exc)

    t = threading.Thread(target=upload)
    t.start()
    time.sleep(4)  # the upload is being embedded
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    t.join()
    assert isinstance(result[0], httpx.HTTPError)
    after_kill = state(index)
    assert after_kill == before or after_kill[1] == before[1] + 1  # the index before the upload, or after it
    srv2 = Server(index, api_key="k")
    try:
        h = httpx.get(srv2.url + "/api/v1/health", timeout=10).json()
        assert h["generation"] == after_kill[0] and h["documents"] == after_kill[1]
        r = httpx.get(srv2.url + "/api/v1/search", params={"q": "stock de sécurité"}, timeout=60)
        assert r.status_code == 200 and r.json()["hits"]
    finally:
        srv2.stop()


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))


def test_full_disk_during_ingest_keeps_previous_index(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run_kb("ingest", str(ROOT / "corpus"), "--index", str(index)).returncode == 0
    before = state(index)
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(FIXTURES / "bilingual"), "--index", str(index)],
                          cwd=ROOT, env=kb_env(), capture_output=True, text=True, timeout=600,
                          preexec_fn=_limit_file_size)  # fmt: skip
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "could not write the new index" in proc.stderr and "previous index is unchanged" in proc.stderr
    assert "disk is full" in proc.stderr or "disk I/O error" in proc.stderr  # EFBIG reaches SQLite as an I/O error
    assert "Traceback" not in proc.stderr
    assert state(index) == before
    assert not list(index.glob("*.tmp*"))
    again = run_kb("ingest", str(FIXTURES / "bilingual"), "--index", str(index))
    assert again.returncode == 0 and state(index)[1] == before[1] + 6
