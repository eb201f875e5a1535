"""Who may do what, decided before anything of the request is read, and searches shed under overload.

One pure ASGI middleware in front of every route: it finds the scope a route needs (:func:`needed`) — writes
need ``admin``; with ``KB_PRIVATE=1`` everything but the health check, the login page and the static files
needs ``search`` — and the caller's scope from ``Authorization: Bearer <key>`` or the login cookie, and
answers 401 (no credential) or 403 (wrong, expired, revoked or insufficient) in the one error shape before the
body is read or validated. Then it admits at most ``max_searches`` searches at once; the next one gets 429
with ``Retry-After`` at once instead of making everybody wait. Of the admitted searches at most ``running``
(``KB_SEARCH_THREADS``; by default all of them) run at once; the others wait their turn on the event loop,
holding no thread. Measured in the README ("Speed"): two at a time on two cores halves the p99 at 64 clients
but costs the 8-client page a fifth of its throughput in one run, so it is not the default.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kb.errors import KBError
from kb.keys import Caller, KeyFile

COOKIE = "kb_session"
SESSION_S = 12 * 3600
OPEN_PATHS = re.compile(r"^/(api/v1/health|login|logout|static/.*|favicon\.ico)$")
SEARCH_PATHS = {("GET", "/"), ("GET", "/api/v1/search"), ("POST", "/api/v1/search")}
Scope = dict[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def needed(method: str, path: str, private: bool) -> str | None:
    """The scope a request needs: admin (writes), search (anything, in a private deployment) or None."""
    if method in ("POST", "DELETE") and path.startswith("/api/v1/documents"):
        return "admin"
    if private and not OPEN_PATHS.match(path):
        return "search"
    return None


class Sessions:
    """Login cookies: the key's id, name and scope with an expiry, signed (HMAC-SHA256) by a secret kept in a
    0600 file beside the index, so that every process of the server accepts them. No key is ever put in it."""

    def __init__(self, secret_file: Path) -> None:
        if not secret_file.is_file():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        self.secret = secret_file.read_text().strip().encode()

    def make(self, caller: Caller, key_id: str) -> str:
        payload = {"n": caller.name, "s": caller.scope, "i": key_id, "e": int(time.time()) + SESSION_S}
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")  # nothing to quote
        return body + "." + hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()

    def read(self, cookie: str) -> tuple[Caller, str] | None:
        body, _, sig = cookie.partition(".")
        good = hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig.encode(), good.encode()):
            return None
        try:
            d = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return (Caller(d["n"], d["s"]), d["i"]) if d.get("e", 0) > time.time() else None


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


def _cookie(scope: Scope, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v.strip('"')
    return ""


class Guard:
    """The middleware (see the module's docstring)."""

    def __init__(self, app: ASGI, keys: KeyFile, sessions: Sessions, private: bool, max_searches: int,
                 error: Callable[[int, str, str, str | None, dict[str, str] | None], Any],
                 running: int | None = None) -> None:  # fmt: skip
        self.app, self.keys, self.sessions, self.private = app, keys, sessions, private
        self.max_searches, self.error, self.searching = max_searches, error, 0
        self.running = asyncio.Semaphore(max(1, running or max_searches))

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:  # fmt: skip
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        want = needed(method, path, self.private)
        try:
            if want == "admin" and not self.keys.enabled():
                raise _no("write access is disabled: the server has no API key (KB_API_KEY or KB_KEYS_FILE)", 403,
                          "writes_disabled")  # fmt: skip
            caller = await self.caller(scope)
            if want is not None:
                self.allow(caller, want)
        except KBError as exc:
            if exc.status == 401 and self.private and method == "GET" and _page(path):
                return await self.error(303, "login", "", None, {"location": "/login?next=" + _safe_next(scope)})(
                    scope, receive, send)  # fmt: skip
            return await self.error(exc.status, exc.code, exc.message, exc.field, None)(scope, receive, send)
        scope.setdefault("state", {})["caller"] = caller
        if (method, path) not in SEARCH_PATHS:
            return await self.app(scope, receive, send)
        if self.searching >= self.max_searches:
            msg = f"{self.max_searches} searches are running: try again in a second"
            return await self.error(429, "overloaded", msg, None, {"retry-after": "1"})(scope, receive, send)
        self.searching += 1
        try:
            async with self.running:
                await self.app(scope, receive, send)
        finally:
            self.searching -= 1

    async def caller(self, scope: Scope) -> Caller | None:
        import anyio.to_thread

        auth = _header(scope, b"authorization")
        if auth:
            kind, _, given = auth.partition(" ")
            if kind.lower() != "bearer" or not given.strip():
                raise _no("send 'Authorization: Bearer <key>'", 401)
            return await anyio.to_thread.run_sync(self.keys.check, given.strip())  # scrypt: off the event loop
        cookie = _cookie(scope, COOKIE)
        if cookie:
            found = self.sessions.read(cookie)
            legacy = found is not None and found[1] == "legacy" and self.keys.legacy is not None
            if found and (legacy or found[1] in {k.id for k in self.keys.entries()}):
                return found[0]
        return None

    def allow(self, caller: Caller | None, want: str) -> None:
        if caller is None:
            raise _no(f"a key with the {want} scope is required: send 'Authorization: Bearer <key>'", 401)
        if not caller.may(want):
            raise _no(
                f"the key {caller.name!r} has the {caller.scope} scope; this needs {want}", 403, "insufficient_scope"
            )


def _page(path: str) -> bool:
    """A page a person opens in a browser (sent to the login form), not an API route (answered in JSON)."""
    return not path.startswith("/api/") and path != "/openapi.json"


def _no(message: str, status: int, code: str | None = None) -> KBError:
    from kb.errors import AuthError

    err = AuthError(message, field="Authorization")
    err.status, err.code = status, code or ("unauthorized" if status == 401 else "forbidden")
    return err


def _safe_next(scope: Scope) -> str:
    from urllib.parse import quote

    qs = scope.get("query_string", b"").decode("latin-1")
    return quote(scope["path"] + (f"?{qs}" if qs else ""), safe="")
