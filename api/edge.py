"""The outermost middleware, plain ASGI: request-size limits, security headers and the access log.

Plain ASGI rather than Starlette's ``@app.middleware("http")`` (BaseHTTPMiddleware), which runs each request
through a task group and memory streams on the event loop: under load the loop shares the GIL with the
searches running in threads, so every step it takes on the loop is paid many times over, a 429 included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorResponse = Callable[..., Any]

log = logging.getLogger("kb.access")


class Edge:
    """Refuses over-long URLs (414) and over-large bodies by their Content-Length (413), adds the security
    headers to every answer and logs each request with its status and time."""

    def __init__(self, app: ASGI, error: ErrorResponse, max_url: int, max_body: int, csp: str, docs_csp: str,
                 max_upload_mb: int) -> None:  # fmt: skip
        self.app, self.error, self.max_url, self.max_body = app, error, max_url, max_body
        self.csp, self.docs_csp, self.max_upload_mb = csp, docs_csp, max_upload_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0, status = time.perf_counter(), [0]
        csp = (self.docs_csp if scope["path"] in ("/docs", "/redoc") else self.csp).encode()

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                extra = [(b"content-security-policy", csp), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"same-origin")]  # fmt: skip
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
        client = scope.get("client")
        log.info('%s "%s %s" %d %.1f ms', client[0] if client else "-", scope["method"], scope["path"], status[0],
                 (time.perf_counter() - t0) * 1000)  # fmt: skip

    def refusal(self, scope: Scope) -> Any:
        """The error answer for a request refused before routing, if it is."""
        headers = dict(scope.get("headers", []))
        query = scope.get("query_string", b"")
        url_len = (
            len(scope.get("scheme", "http"))
            + 3
            + len(headers.get(b"host", b""))
            + len(scope.get("root_path", ""))
            + len(scope["path"])
            + (len(query) + 1 if query else 0)
        )  # len(str(request.url)), about
        if url_len > self.max_url:
            return self.error(414, "uri_too_long", f"request URL over {self.max_url} characters")
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            return self.error(413, "too_large", f"request body over the {self.max_upload_mb} MB limit", "file")
        return None
