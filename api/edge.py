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

from api.auth import ASGI, Scope

ErrorResponse = Callable[..., Any]
MULTIPART_SLACK = 65536  # what a multipart body may add around an upload of the largest allowed size

log = logging.getLogger("kb.access")


class Edge:
    """Refuses over-long URLs (414) and over-large bodies by their Content-Length (413), adds the security
    headers to every answer and logs each request with its status and time."""

    def __init__(self, app: ASGI, error: ErrorResponse, max_url: int, max_upload_bytes: int, csp: str,
                 docs_csp: str) -> None:  # fmt: skip
        self.app, self.error, self.max_url = app, error, max_url
        self.max_body, self.max_upload_mb = max_upload_bytes + MULTIPART_SLACK, max_upload_bytes // 2**20
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        self.headers = [(b"content-security-policy", csp.encode()), *common]
        self.docs_headers = [(b"content-security-policy", docs_csp.encode()), *common]

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:  # fmt: skip
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0, status = time.perf_counter(), [0]
        extra = self.docs_headers if scope["path"] in ("/docs", "/redoc") else self.headers

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
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
