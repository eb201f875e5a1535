"""Hostile files through `kb ingest` and through the upload endpoint: a clear error or a bounded result
each, within the per-file time and memory limits; the run goes on; nothing already indexed changes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from kb import generations
from kb.store import Store
from tests.conftest import FIXTURES, Server, kb_env, run_kb
from tests.hostile import generate


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    folder = tmp_path_factory.mktemp("hostile") / "files"
    return folder, generate(folder)


def docs_state(index: Path) -> dict[str, tuple[int, str]]:
    store = Store(generations.current(index) / "kb.sqlite", readonly=True)
    return {d["doc_id"]: (d["n_chunks"], d["content_hash"]) for d in store.documents()}


def test_hostile_files_through_kb_ingest(hostile: tuple[Path, dict[str, set[str]]], tmp_path: Path) -> None:
    folder, expected = hostile
    index = tmp_path / "index"
    assert run_kb("ingest", str(FIXTURES / "bilingual"), "--index", str(index)).returncode == 0
    before = docs_state(index)
    env = kb_env(KB_PARSE_TIMEOUT="30", KB_PARSE_MEMORY_MB="1024", KB_MAX_FILE_BYTES=str(100 * 2**20))
    t0 = time.monotonic()
    out = run_kb("ingest", str(folder), "--index", str(index), "--json", "--keep-deleted", env=env, timeout=900)
    elapsed = time.monotonic() - t0
    assert out.returncode == 0, out.stderr[-3000:]
    outcomes = {o["path"]: o for o in json.loads(out.stdout)["outcomes"]}
    for name, ok in expected.items():
        o = outcomes[name]
        got = o["status"] if o["status"] == "added" else o["error_code"]
        assert got in ok, (name, o)
        if o["status"] == "failed":
            assert name in o["message"], o  # the file is named
    mixed = outcomes["mixed.jsonl"]
    assert (
        mixed["doc_ids"] == ["ok-1", "ok-2"]
        and "mixed.jsonl:2:" in mixed["message"]
        and "mixed.jsonl:5:" in mixed["message"]
    )
    after = docs_state(index)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing already indexed changed
    assert elapsed < 600


def test_hostile_files_through_upload(
    hostile: tuple[Path, dict[str, set[str]]], served_index: Path, tmp_path: Path
) -> None:
    import shutil

    folder, expected = hostile
    index = tmp_path / "index"
    shutil.copytree(served_index, index)
    before = docs_state(index)
    srv = Server(index, api_key="k", extra_env={"KB_PARSE_TIMEOUT": "30", "KB_PARSE_MEMORY_MB": "1024"})
    try:
        for name, ok in expected.items():
            data = (folder / name).read_bytes()
            r = httpx.post(
                srv.url + "/api/v1/documents",
                files={"file": (name, data)},
                headers={"Authorization": "Bearer k"},
                timeout=300,
            )
            assert r.status_code < 500, (name, r.text)
            if r.status_code == 201:
                assert "added" in ok, (name, r.text)
            else:
                err = r.json()["error"]
                assert err["code"] in ok | {"too_large"}, (name, err)
        assert httpx.get(srv.url + "/api/v1/health", timeout=10).status_code == 200
    finally:
        srv.stop()
    after = docs_state(index)
    assert {k: v for k, v in after.items() if k in before} == before
