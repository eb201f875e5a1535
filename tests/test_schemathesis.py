"""Fuzz the API against its own OpenAPI schema (in process, real model and index, a private deployment, with
a search key and with an admin key): no 5xx, and every response matches the schema."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from kb.embedding import Embedder
from kb.keys import KeyFile
from kb.settings import Settings

# the schema cannot say that a query of only spaces is refused (400), so "positive data acceptance" is left out
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture(scope="module")
def keyed(served_index: Path, base_settings: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A private deployment (every route needs a key) with a search key and an admin key."""
    import shutil

    where = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(served_index, where / "index")
    kf = KeyFile(where / "keys.json")
    keys = {"search": kf.add("fuzz-search", "search"), "admin": kf.add("fuzz-admin", "admin")}
    settings = replace(base_settings, index_dir=where / "index", keys_file=where / "keys.json", private=True)
    return create_app(settings, embedder), keys


@pytest.mark.parametrize("scope", ["search", "admin"])
def test_api_conforms_to_its_schema(keyed, scope: str) -> None:  # type: ignore[no-untyped-def]
    app, keys = keyed
    auth = {"Authorization": f"Bearer {keys[scope]}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    checked = []
    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=auth)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        check()
        checked.append(f"{op.method.upper()} {op.path}")
    assert "GET /api/v1/search" in checked and "POST /api/v1/documents" in checked
