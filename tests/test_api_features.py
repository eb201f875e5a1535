"""API features through the app in process (fake embedder, fast subset): facets, several values per filter,
snippets, CSV and RIS export. The same app through a real server and the real model is in test_api.py."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.ingest import ingest
from kb.settings import Settings
from tests.conftest import FIXTURES
from tests.fakes import HashEmbedder

Q = {"q": "production de médicaments et de vaccins", "mode": "keyword"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    where = tmp_path_factory.mktemp("features")
    shutil.copytree(FIXTURES / "bilingual", where / "docs")
    settings = Settings(index_dir=where / "index", workers=1)
    ingest([where / "docs"], settings, HashEmbedder())
    with TestClient(create_app(settings, HashEmbedder())) as c:
        yield c


def test_facets_count_the_passages_considered(client: TestClient) -> None:
    body = client.get("/api/v1/search", params=Q | {"facets": "document,publisher,year,language", "k": 50}).json()
    f = body["facets"]
    assert set(f) == {"document", "publisher", "year", "language"}
    assert sum(f["document"].values()) == sum(f["language"].values()) >= len(body["hits"])
    assert "Ministère de la Santé" in f["publisher"] and "2024" in f["year"] and set(f["language"]) <= {"fr", "en"}
    assert list(f["document"].values()) == sorted(f["document"].values(), reverse=True)


def test_facet_selection_filters_and_keeps_other_values(client: TestClient) -> None:
    sel = Q | {"facets": "year,language", "year": ["2024", "2021"], "lang": "fr", "k": 50}
    body = client.get("/api/v1/search", params=sel).json()
    assert body["hits"] and {h["citation"]["date"][:4] for h in body["hits"]} <= {"2024", "2021"}
    assert {h["citation"]["language"] for h in body["hits"]} == {"fr"}
    assert len(body["facets"]["year"]) > 2  # counted without its own selection: other years can be added
    post = client.post(
        "/api/v1/search", json=Q | {"year": ["2024"], "doc": ["penuries"], "facets": ["document"]}
    ).json()
    assert {h["doc_id"] for h in post["hits"]} == {"penuries"} and "penuries" in post["facets"]["document"]


def test_snippet_is_a_span_of_the_text_around_the_best_sentence(client: TestClient) -> None:
    for h in client.get("/api/v1/search", params=Q).json()["hits"]:
        s = h["snippet"]
        assert 0 <= s["start"] < s["end"] <= len(h["text"]) and s["end"] - s["start"] <= 420
        best = next((x for x in h["highlights"] if x["kind"] == "sentence"), None)
        if best:
            assert s["start"] <= best["start"] < s["end"]


def test_export_csv_and_ris(client: TestClient) -> None:
    r = client.get("/api/v1/search", params=Q | {"format": "csv", "k": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert (
        len(rows) == 3 and rows[0]["reference"] and rows[0]["context_link"].startswith("http://testserver/documents/")
    )
    r = client.get("/api/v1/search", params=Q | {"format": "ris", "k": 3})
    assert r.headers["content-type"].startswith("application/x-research-info-systems")
    entries = [e for e in r.text.split("ER  - ") if e.strip()]
    assert len(entries) == 3 and all("TY  - " in e and "TI  - " in e and "UR  - " in e for e in entries)
    assert client.get("/api/v1/search", params=Q | {"format": "xml"}).status_code == 422
