"""Fuzz the API against its own OpenAPI schema (in process, real model and index): no 5xx, and every
response matches the schema."""

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
from kb.settings import Settings

# the schema cannot say that a query of only spaces is refused (400), so "positive data acceptance" is left out
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture(scope="module")
def app(served_index: Path, base_settings: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import shutil

    index = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(served_index, index)
    # writes enabled with a key the fuzzer does not know: write endpoints must answer 401, never 5xx
    return create_app(replace(base_settings, index_dir=index, api_key="secret-not-given"), embedder)


def test_api_conforms_to_its_schema(app) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    checked = []
    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        check()
        checked.append(f"{op.method.upper()} {op.path}")
    assert "GET /api/v1/search" in checked and "POST /api/v1/documents" in checked
