"""`kb serve --workers 2`: forked workers that share the model's memory, switch together after a write, and stop
together."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from tests.conftest import Server, kb_env, run_kb

WORD = "xylophonistes"  # in no document of the served index


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def shared_mb(pid: int) -> float:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[k].split()[0]) for k in ("Shared_Clean", "Shared_Dirty")) / 1024


def hits_with_word(srv: Server, n: int) -> list[int]:
    """How many hits name WORD, for ``n`` searches in a row (spread over the workers by the kernel)."""
    out = []
    with httpx.Client(timeout=60) as c:
        for _ in range(n):
            r = c.get(srv.url + "/api/v1/search", params={"q": WORD, "mode": "keyword", "highlight": "none"})
            assert r.status_code == 200, r.text
            out.append(sum(WORD in h["text"] for h in r.json()["hits"]))
    return out


def test_two_workers_share_the_model_and_switch_together(served_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(served_index, index)
    srv = Server(index, api_key="k", extra_env={"KB_SERVE_WORKERS": "2"})
    try:
        workers = children(srv.proc.pid)
        assert len(workers) == 2
        # the model's weights and the tokenizer were loaded before the fork: each worker shares them
        assert all(shared_mb(w) > 300 for w in workers), [shared_mb(w) for w in workers]
        assert hits_with_word(srv, 10) == [0] * 10
        text = f"Note\n\nLes {WORD} de la fanfare jouent pour la bioproduction en région."
        r = httpx.post(srv.url + "/api/v1/documents", files={"file": ("note.txt", text.encode())},
                       headers={"Authorization": "Bearer k"}, timeout=120)  # fmt: skip
        assert r.status_code == 201, r.text
        (doc,) = r.json()["doc_ids"]
        assert hits_with_word(srv, 20) == [1] * 20  # whichever worker answers, it sees the upload
        r = httpx.delete(srv.url + f"/api/v1/documents/{doc}", headers={"Authorization": "Bearer k"}, timeout=120)
        assert r.status_code == 200, r.text
        assert hits_with_word(srv, 20) == [0] * 20
    finally:
        srv.proc.terminate()
        rc = srv.proc.wait(30)
    assert rc == 0
    assert not any(Path(f"/proc/{w}").exists() for w in workers)


def test_workers_refuse_a_missing_index(tmp_path: Path) -> None:
    r = run_kb("serve", "--workers", "2", env=kb_env(KB_INDEX=str(tmp_path / "none")), timeout=120)
    assert r.returncode != 0 and "no index" in r.stderr and "Traceback" not in r.stderr
