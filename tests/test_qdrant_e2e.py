"""`kb ingest`, `kb search` and `kb serve` on the qdrant backend (Qdrant Edge under the index folder), end to
end through the real commands and the real model: what a user with `--backend qdrant` gets."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server, kb_env, run_kb

pytest.importorskip("qdrant_edge", reason="the qdrant extra is not installed (pip install -e '.[qdrant]')")

QUESTION = "Which countries overtook France in pharmaceutical bioproduction?"


def test_ingest_search_serve_on_qdrant_edge(tmp_path: Path) -> None:
    index = tmp_path / "index"
    done = run_kb("ingest", str(ROOT / "corpus"), "--index", str(index), "--backend", "qdrant")
    assert done.returncode == 0, done.stderr
    found = run_kb("search", QUESTION, "--index", str(index), "--backend", "qdrant", "--json", "--k", "3")
    assert found.returncode == 0, found.stderr
    top = json.loads(found.stdout)["hits"][0]
    assert top["doc_id"] == "france2030-biotherapies" and "voisins européens" in top["text"]
    # the same index through kb serve, chosen by the KB_BACKEND_INDEX variable
    srv = Server(index, extra_env={"KB_BACKEND_INDEX": "qdrant"})
    try:
        health = httpx.get(srv.url + "/api/v1/health").json()
        assert health["backend"] == "qdrant" and health["documents"] == 2 and health["chunks"] > 0
        r = httpx.get(srv.url + "/api/v1/search", params={"q": QUESTION, "k": 3}).json()
        hit = r["hits"][0]
        assert hit["doc_id"] == "france2030-biotherapies"
        c = hit["citation"]
        page = httpx.get(srv.url + f"/api/v1/documents/{c['doc_id']}/pages/{c['page'] or 1}").json()
        assert page["text"][c["start"] : c["end"]] == hit["text"]  # the citation is exact on this backend too
        assert httpx.get(srv.url + "/", params={"q": QUESTION}).status_code == 200
    finally:
        srv.stop()


def test_qdrant_edge_refuses_several_workers(tmp_path: Path) -> None:
    env = kb_env(KB_INDEX=str(tmp_path / "index"), KB_BACKEND_INDEX="qdrant")
    r = run_kb("serve", "--workers", "2", env=env, timeout=120)
    assert r.returncode != 0 and "workers" in r.stderr
