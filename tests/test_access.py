"""Access control through a real `kb serve` in private mode: scoped keys on every route, the credential checked
before the body, login cookies, the audit log (also after a SIGKILL), and load shedding."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kb.keys import KeyFile
from tests.conftest import Server, run_kb
from tests.test_api import assert_error


@dataclass
class Private:
    srv: Server
    index: Path
    keys: dict[str, str]


@pytest.fixture(scope="module")
def private(served_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Private]:
    where = tmp_path_factory.mktemp("private")
    index = where / "index"
    shutil.copytree(served_index, index)
    kf = KeyFile(where / "keys.json")
    keys = {"admin": kf.add("ops", "admin"), "search": kf.add("reader", "search"),
            "expired": kf.add("old", "search", "2020-01-01T00:00:00+00:00"), "revoked": kf.add("gone", "admin")}  # fmt: skip
    kf.revoke("gone")
    srv = Server(index, extra_env={"KB_KEYS_FILE": str(where / "keys.json"), "KB_PRIVATE": "1"})
    yield Private(srv, index, keys)
    srv.stop()


ROUTES = [("GET", "/api/v1/search?q=stock", "search"), ("POST", "/api/v1/search", "search"),
          ("GET", "/api/v1/documents", "search"), ("GET", "/api/v1/documents/penuries", "search"),
          ("GET", "/api/v1/documents/penuries/pages/1", "search"), ("GET", "/openapi.json", "search"),
          ("POST", "/api/v1/documents", "admin"), ("DELETE", "/api/v1/documents/nope", "admin")]  # fmt: skip


def call(p: Private, method: str, path: str, key: str | None = None, **kw: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"json": {"q": "stock"}} if (method, path) == ("POST", "/api/v1/search") else {}
    return httpx.request(method, p.srv.url + path, headers=headers, timeout=60, follow_redirects=False, **body, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
def test_every_route_checks_its_key(private: Private, method: str, path: str, scope: str) -> None:
    assert_error(call(private, method, path), 401, "unauthorized")
    for bad in ("kb_00000000_" + "x" * 32, private.keys["expired"], private.keys["revoked"], "not-a-key"):
        assert_error(call(private, method, path, bad), 403, "forbidden")
    search = call(private, method, path, private.keys["search"])
    if scope == "admin":
        assert_error(search, 403, "insufficient_scope")
    else:
        assert search.status_code == 200, search.text
    assert call(private, method, path, private.keys["admin"]).status_code < 500


def test_health_stays_open_and_pages_ask_to_log_in(private: Private) -> None:
    assert httpx.get(private.srv.url + "/api/v1/health", timeout=10).status_code == 200
    for path in ("/", "/?q=stock", "/documents/penuries?page=1", "/files/penuries"):
        r = httpx.get(private.srv.url + path, timeout=10, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert httpx.get(private.srv.url + "/login", timeout=10).status_code == 200


def test_body_is_not_read_before_the_caller_is_known(private: Private) -> None:
    for body in (b"not multipart at all", b"\x00" * 2048, b""):
        r = httpx.post(private.srv.url + "/api/v1/documents", content=body, headers={"content-type": "text/plain"},
                       timeout=30)  # fmt: skip
        err = assert_error(r, 401, "unauthorized")
        assert "file" not in str(err["message"]) and "Field required" not in r.text
    r = httpx.post(private.srv.url + "/api/v1/documents", content=b"{", timeout=30,
                   headers={"Authorization": f"Bearer {private.keys['search']}", "content-type": "application/json"})  # fmt: skip
    assert_error(r, 403, "insufficient_scope")


def test_login_cookie_logout(private: Private) -> None:
    url = private.srv.url
    r = httpx.post(url + "/login", data={"key": "kb_00000000_" + "y" * 32, "next": "/"}, timeout=30)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = httpx.post(url + "/login", data={"key": private.keys["search"], "next": "//evil.example/"}, timeout=30)
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Secure" not in cookie
    assert private.keys["search"] not in cookie
    jar = httpx.Cookies({"kb_session": r.cookies["kb_session"]})
    with httpx.Client(base_url=url, cookies=jar, timeout=30) as c:
        assert c.get("/?q=stock").status_code == 200 and "Se déconnecter" in c.get("/?q=stock").text
        assert c.get("/api/v1/search", params={"q": "stock"}).status_code == 200
        assert_error(c.post("/api/v1/documents", files={"file": ("a.txt", b"texte")}), 403, "insufficient_scope")
        out = c.post("/logout", follow_redirects=False)
        assert (
            out.status_code == 303
            and "kb_session=" in out.headers["set-cookie"]
            and "Max-Age=0" in out.headers["set-cookie"]
        )
    secure = httpx.post(url + "/login", data={"key": private.keys["search"]}, headers={"X-Forwarded-Proto": "https"},
                        timeout=30)  # fmt: skip
    assert "Secure" in secure.headers["set-cookie"]


def test_openapi_says_which_scope(private: Private) -> None:
    schema = call(private, "GET", "/openapi.json", private.keys["search"]).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/documents"]["post"]["x-scope"] == "admin"
    assert schema["paths"]["/api/v1/search"]["get"]["x-scope"] == "search"
    assert "x-scope" not in schema["paths"]["/api/v1/health"]["get"]


def test_keys_change_without_restart_and_audit(private: Private) -> None:
    kf = KeyFile(private.index.parent / "keys.json")
    new = kf.add("late", "admin")
    files = {"file": ("late.txt", "Note tardive sur la production de vaccins à Lyon.".encode())}
    r = call(private, "POST", "/api/v1/documents", new, files=files, data={"doc_id": "late-note"})
    assert r.status_code == 201, r.text
    kf.revoke("late")
    assert_error(call(private, "DELETE", "/api/v1/documents/late-note", new), 403, "forbidden")
    assert call(private, "DELETE", "/api/v1/documents/late-note", private.keys["admin"]).status_code == 200
    out = run_kb("audit", "--json", "--index", str(private.index))
    entries = [json.loads(x) for x in out.stdout.splitlines()]
    upload = next(e for e in entries if e["action"] == "upload" and e["doc_id"] == "late-note")
    assert upload["key"] == "late" and upload["client"] == "127.0.0.1" and len(upload["content_hash"]) == 64
    assert any(e["action"] == "delete" and e["key"] == "ops" and e["outcome"] == "deleted" for e in entries)
    assert httpx.get(private.srv.url + "/audit.jsonl", timeout=10, follow_redirects=False).status_code in (303, 404)


def test_audit_survives_sigkill_during_upload(served_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(served_index, index)
    srv = Server(index, api_key="k")
    text = "Usine de Grenoble\n\n" + "La plateforme grenobloise fabrique des lots cliniques de vaccins. " * 800
    done = threading.Event()

    def upload(i: int) -> None:
        try:
            httpx.post(srv.url + "/api/v1/documents", files={"file": (f"g{i}.txt", text.encode())},
                       data={"doc_id": f"g{i}"}, headers={"Authorization": "Bearer k"}, timeout=120)  # fmt: skip
        except httpx.HTTPError:
            pass
        done.set()

    threading.Thread(target=upload, args=(0,)).start()
    done.wait(120)
    threading.Thread(target=upload, args=(1,)).start()
    time.sleep(1.5)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)
    lines = (index / "audit.jsonl").read_bytes().split(b"\n")
    whole = [json.loads(x) for x in lines[:-1]]  # every complete line parses; at most the last is torn
    assert whole and whole[0]["doc_id"] == "g0" and whole[0]["outcome"] == "added"
    out = run_kb("audit", "--json", "--index", str(index))
    assert out.returncode == 0 and json.loads(out.stdout.splitlines()[0])["doc_id"] == "g0"


def test_overload_answers_429_at_once(served_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(served_index, index)
    srv = Server(index, extra_env={"KB_MAX_SEARCHES": "1"})

    async def burst() -> list[tuple[int, float, str]]:
        async with httpx.AsyncClient(timeout=60) as c:

            async def one(i: int) -> tuple[int, float, str]:
                t0 = time.perf_counter()
                r = await c.get(srv.url + "/api/v1/search", params={"q": f"production de vaccins {i}"})
                return r.status_code, (time.perf_counter() - t0) * 1000, r.headers.get("retry-after", "")

            return await asyncio.gather(*(one(i) for i in range(12)))

    try:
        results = asyncio.run(burst())
    finally:
        srv.stop()
    codes = [c for c, _, _ in results]
    assert set(codes) <= {200, 429} and 200 in codes and 429 in codes
    rejected = [(ms, ra) for c, ms, ra in results if c == 429]
    assert all(ra == "1" for _, ra in rejected)
