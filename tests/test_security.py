"""Security: keys, path traversal, content checks, size limits, headers, no leaks in errors."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.test_api import assert_error

KEY = {"Authorization": "Bearer test-key-123"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/documents/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/documents/%2Fetc%2Fpasswd",
        "/api/v1/documents/%2e%2e%2f%2e%2e%2fkb.sqlite",
        "/api/v1/documents/..%252F..%252Fetc%252Fpasswd/pages/1",
        "/files/..%2F..%2Fkb.sqlite",
        "/files/%2Fetc%2Fpasswd",
        "/documents/..%2F..%2Fmanifest.json",
    ],
)
def test_path_traversal_stays_inside(server: Server, path: str) -> None:
    r = httpx.get(server.url + path, timeout=30)
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert "root:" not in r.text and "SQLite" not in r.text and "format_version" not in r.text


def test_raw_dotdot_paths(server: Server) -> None:
    # clients that do not normalise paths: the server must not either
    with httpx.Client(base_url=server.url) as c:
        for raw in ("/files/../../etc/passwd", "/static/../../kb/settings.py", "/static/%2e%2e/app.py"):
            r = c.send(httpx.Request("GET", server.url + raw))
            assert r.status_code == 404 and "import" not in r.text, raw


def test_upload_names_cannot_escape(server: Server) -> None:
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("../../../../tmp/evil name.txt", b"Un texte sur les vaccins.")},
                   headers=KEY, timeout=300)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["doc_ids"] == ["evil-name"]
    assert httpx.delete(server.url + "/api/v1/documents/evil-name", headers=KEY, timeout=300).status_code == 200


def test_uploads_checked_by_content(server: Server) -> None:
    png_as_txt = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("notes.txt", png_as_txt)}, headers=KEY, timeout=60)
    assert_error(r, 415, "unsupported_type")
    html_as_pdf = b"<html><body>hello</body></html>"
    assert_error(httpx.post(server.url + "/api/v1/documents", files={"file": ("x.pdf", html_as_pdf)}, headers=KEY, timeout=60),
                 422, "broken_file")  # fmt: skip


def test_key_checks(server: Server) -> None:
    files = {"file": ("a.txt", b"texte")}
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "test-key-123"},
    ):
        r = httpx.post(server.url + "/api/v1/documents", files=files, headers=headers, timeout=60)
        assert_error(r, 401, "unauthorized")  # no credential
    for key in ("test-key-12", "test-key-1234", "TEST-KEY-123", "kb_00000000_" + "x" * 32):
        r = httpx.post(
            server.url + "/api/v1/documents", files=files, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        assert_error(r, 403, "forbidden")  # a wrong one


def test_size_limits(server: Server) -> None:
    assert_error(httpx.get(server.url + "/api/v1/search", params={"q": "x" * 10_000}, timeout=30), 414, "uri_too_long")
    assert_error(httpx.post(server.url + "/api/v1/search", json={"q": "x" * 3000}, timeout=30), 400, "bad_query", "q")
    assert_error(
        httpx.post(server.url + "/api/v1/search", json={"q": "stock", "k": 10**9}, timeout=30),
        422,
        "validation_error",
        "k",
    )


def test_headers_on_every_page(server: Server) -> None:
    for path in ("/", "/?q=vaccins", "/documents/penuries?page=1", "/api/v1/health", "/static/app.js"):
        r = httpx.get(server.url + path, timeout=60)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert "script-src 'self'" in r.headers["content-security-policy"], path
    assert "<script>" not in httpx.get(server.url + "/", timeout=30).text.replace(
        '<script src="/static/app.js" defer></script>', ""
    )
