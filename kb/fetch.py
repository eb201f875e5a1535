"""Web pages (and PDF, Word or OpenDocument files) by URL, fetched with care.

``http`` and ``https`` only; the host's addresses must all be public — no loopback, private, link-local,
multicast or reserved address (server-side request forgery) unless ``allow_private`` — and the address actually
connected to is checked again (DNS rebinding); at most ``MAX_REDIRECTS`` redirects, each checked the same way;
a connect and read timeout; the body stops at the size limit; the content type must be one kb reads.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from kb.errors import DocumentError, InputError, LimitError, UnsupportedTypeError

MAX_REDIRECTS = 5
TIMEOUT_S = 20.0
TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt", "text/markdown": ".md",
         "application/pdf": ".pdf",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
         "application/vnd.oasis.opendocument.text": ".odt"}  # fmt: skip


@dataclass
class Fetched:
    url: str  # after redirects
    name: str  # a file name with the extension of its content type
    data: bytes


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _check_address(host: str, ip: str, allow_private: bool, url: str) -> None:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if not allow_private and not addr.is_global:
        raise InputError(f"{url}: {host} is a private or local address ({addr}); refused "
                         "(KB_ALLOW_PRIVATE_URLS=1 allows it)", field="url")  # fmt: skip


def _resolve(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url[:200]}: only http:// and https:// URLs can be fetched", field="url")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise DocumentError(f"{url}: cannot resolve {parts.hostname} ({exc.strerror})", field="url") from exc
    for info in infos:
        _check_address(parts.hostname, str(info[4][0]), allow_private, url)


def fetch(url: str, max_bytes: int, allow_private: bool = False) -> Fetched:
    """The body of ``url`` (following checked redirects); kb errors name the URL."""
    import httpx

    with httpx.Client(follow_redirects=False, timeout=httpx.Timeout(TIMEOUT_S)) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _resolve(url, allow_private)
            try:
                with client.stream("GET", url, headers={"User-Agent": "kb/0.1 (document ingest)"}) as r:
                    peer = r.extensions["network_stream"].get_extra_info("server_addr")
                    if peer:
                        _check_address(urlsplit(url).hostname or "", str(peer[0]), allow_private, url)
                    if r.is_redirect:
                        url = urljoin(url, r.headers.get("location", ""))
                        continue
                    if r.status_code != 200:
                        raise DocumentError(f"{url}: the server answered {r.status_code}", field="url")
                    return Fetched(str(r.url), _name(url, r.headers.get("content-type", "")), _body(r, url, max_bytes))
            except httpx.HTTPError as exc:
                raise DocumentError(f"{url}: cannot fetch ({type(exc).__name__})", field="url") from exc
    raise DocumentError(f"{url}: more than {MAX_REDIRECTS} redirects", field="url")


def _body(r: object, url: str, max_bytes: int) -> bytes:
    chunks, size = [], 0
    for chunk in r.iter_bytes():  # type: ignore[attr-defined]
        size += len(chunk)
        if size > max_bytes:
            raise LimitError(f"{url}: over the {max_bytes // 2**20} MB limit", field="url")
        chunks.append(chunk)
    return b"".join(chunks)


def _name(url: str, content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in TYPES:
        raise UnsupportedTypeError(f"{url}: content type {kind or 'missing'!r} is not one kb reads "
                                   "(HTML, text, Markdown, PDF, Word, OpenDocument)", field="url")  # fmt: skip
    stem = PurePosixPath(urlsplit(url).path).stem or urlsplit(url).hostname or "page"
    return f"{stem[:80]}{TYPES[kind]}"
