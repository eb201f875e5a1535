"""The one JSON error shape, pinned (in process, fake embedder: part of the fast subset).

Every error of the API, from any route and any cause, is {"error": {"status", "code", "message", "field"}},
with no stack trace and no file-system path.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.ingest import ingest
from kb.settings import Settings
from tests.conftest import FIXTURES
from tests.fakes import HashEmbedder

KEYS = {"status", "code", "message", "field"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    where = tmp_path_factory.mktemp("shape")
    shutil.copytree(FIXTURES / "bilingual", where / "docs")
    settings = Settings(index_dir=where / "index", workers=1, api_key="k")
    ingest([where / "docs"], settings, HashEmbedder())
    with TestClient(create_app(settings, HashEmbedder()), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("method", "path", "params", "status", "code", "field"), [
    ("get", "/api/v1/search", {"q": "?!"}, 400, "bad_query", "q"),
    ("get", "/api/v1/search", {}, 422, "validation_error", "q"),
    ("get", "/api/v1/search", {"q": "stock", "k": 500}, 422, "validation_error", "k"),
    ("get", "/api/v1/search", {"q": "stock", "lang": "french"}, 422, "validation_error", "lang"),
    ("get", "/api/v1/search", {"q": "stock", "date_from": "hier"}, 400, "bad_query", "date_from"),
    ("get", "/api/v1/search", {"q": "stock", "doc": "nope"}, 404, "not_found", "doc"),
    ("get", "/api/v1/documents/nope", {}, 404, "not_found", "doc_id"),
    ("get", "/api/v1/documents/penuries/pages/9", {}, 404, "not_found", "n"),
    ("get", "/api/v1/nothing-here", {}, 404, "not_found", None),
    ("delete", "/api/v1/documents/penuries", {}, 401, "unauthorized", "Authorization"),
    ("put", "/api/v1/search", {}, 405, "method_not_allowed", None),
])  # fmt: skip
def test_error_shape(client: TestClient, method: str, path: str, params: dict[str, object], status: int, code: str,
                     field: str | None) -> None:  # fmt: skip
    r = client.request(method.upper(), path, params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == KEYS
    assert body["error"]["status"] == status and body["error"]["code"] == code and body["error"]["message"]
    assert body["error"]["field"] == field
    assert "Traceback" not in r.text and "/tmp" not in r.text and str(Path.home()) not in r.text


def test_search_answers_in_process(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"q": "How many months of safety stock?", "mode": "keyword"}).json()
    assert body["hits"][0]["doc_id"] == "penuries" and body["hits"][0]["citation"]["links"]["context"]
