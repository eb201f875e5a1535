"""An ingest killed at any moment (SIGKILL) leaves the previous index whole; the next ingest completes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kb import generations
from kb.embedding import Embedder
from kb.engine import load, search
from tests.conftest import FIXTURES, ROOT, kb_env, run_kb


def snapshot(index: Path) -> tuple[str, dict[str, int]]:
    gen = generations.current(index)
    assert gen is not None
    return gen.name, json.loads((gen / "manifest.json").read_text())["counts"]


def test_sigkill_midway_keeps_previous_index(tmp_path: Path, embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "bilingual", docs)
    index = tmp_path / "index"
    assert run_kb("ingest", str(docs), "--index", str(index)).returncode == 0
    before = snapshot(index)
    more = docs / "more"
    more.mkdir()
    for i in range(40):  # enough passages that the kill lands while the new generation is being made
        (more / f"doc{i}.txt").write_text(
            f"Document {i}\n\n" + " ".join(f"Phrase {j} du document {i} sur les vaccins." for j in range(150))
        )
    for delay in (3.0, 9.0):
        proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", str(docs), "--index", str(index)],
                                cwd=ROOT, env=kb_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        assert proc.poll() is None, "ingest finished before the kill: give it more work"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert snapshot(index) == before
        idx = load(index, embedder)
        assert idx.info().passages == before[1]["chunks"] == np.load(idx.path / "vectors.npy").shape[0]
        assert search(idx, "stock de sécurité", k=1).hits[0].doc_id == "penuries"
    done = run_kb("ingest", str(docs), "--index", str(index))
    assert done.returncode == 0, done.stderr[-2000:]
    name, counts = snapshot(index)
    assert name != before[0] and counts["documents"] == before[1]["documents"] + 40
    assert not list(index.glob("*.tmp*")), "staging folders of killed runs are cleaned"
