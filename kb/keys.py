"""API keys with scopes: ``search`` (read) or ``admin`` (read and write), kept hashed in a keys file.

A key reads ``kb_<id>_<secret>``: the id finds its entry, the secret is checked against a scrypt hash
(hashlib, OpenSSL's scrypt; never stored in clear). A check that fails costs one scrypt whatever was tried —
an unknown id is checked against a decoy hash — and comparisons are constant time. A key that passed is
remembered (by its SHA-256) until the file changes, so a search with a key does not pay scrypt each time.
The file is JSON (``{"keys": [...]}``), written atomically with mode 0600; the server re-reads it when it
changes, so added and revoked keys apply without a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from kb.errors import AuthError, InputError

SCOPES = ("search", "admin")
N, R, P = 2**14, 8, 1  # scrypt cost: about 50 ms and 16 MB a check
_KEY = re.compile(r"^kb_([0-9a-f]{8})_([A-Za-z0-9_-]{20,64})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DECOY = {"salt": base64.b64encode(b"0" * 16).decode(), "hash": base64.b64encode(b"0" * 32).decode()}


@dataclass
class Key:
    name: str
    id: str
    scope: str
    salt: str
    hash: str
    created: str
    expires: str | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return bool(self.expires) and (now or datetime.now(UTC)) >= datetime.fromisoformat(str(self.expires))


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a key's name and scope."""

    name: str
    scope: str

    def may(self, scope: str) -> bool:
        return scope == "search" or self.scope == "admin"


def _digest(secret: str, salt: str) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=N, r=R, p=P, dklen=32, maxmem=64 * 2**20)


class KeyFile:
    """The keys of one file (and, optionally, the one admin key of ``KB_API_KEY``)."""

    def __init__(self, path: Path | None, legacy_admin_key: str | None = None) -> None:
        self.path, self.legacy = path, legacy_admin_key or None
        self._keys: dict[str, Key] = {}
        self._stamp: tuple[int, int] | None = None
        self._passed: dict[str, str] = {}  # sha256 of a key that passed → its entry's id
        self._lock = threading.Lock()

    # the file --------------------------------------------------------------------------------------
    def _load(self) -> None:
        if self.path is None:
            return
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._keys, self._stamp, self._passed = {}, None, {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            self._keys = {k["id"]: Key(**k) for k in data.get("keys", [])}
            self._stamp, self._passed = stamp, {}

    def _save(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"keys": [asdict(k) for k in self._keys.values()]}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._stamp = None

    def entries(self) -> list[Key]:
        with self._lock:
            self._load()
            return sorted(self._keys.values(), key=lambda k: k.name)

    def add(self, name: str, scope: str, expires: str | None = None) -> str:
        """A new key; returns it (the only time it is shown)."""
        if self.path is None:
            raise InputError("no keys file: set KB_KEYS_FILE (or --keys)", field="keys")
        if not _NAME.match(name):
            raise InputError("a key name is 1–64 letters, digits, '.', '_' or '-'", field="name")
        if scope not in SCOPES:
            raise InputError(f"scope must be one of {', '.join(SCOPES)}", field="scope")
        when = datetime.fromisoformat(expires).astimezone(UTC).isoformat() if expires else None
        with self._lock:
            self._load()
            if any(k.name == name for k in self._keys.values()):
                raise InputError(f"a key named {name!r} exists; revoke it first", field="name")
            kid, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
            salt = base64.b64encode(secrets.token_bytes(16)).decode()
            self._keys[kid] = Key(name, kid, scope, salt, base64.b64encode(_digest(secret, salt)).decode(),
                                  datetime.now(UTC).isoformat(timespec="seconds"), when)  # fmt: skip
            self._save()
        return f"kb_{kid}_{secret}"

    def revoke(self, name: str) -> Key:
        with self._lock:
            self._load()
            found = next((k for k in self._keys.values() if k.name == name), None)
            if found is None:
                raise InputError(f"no key named {name!r}", field="name")
            del self._keys[found.id]
            self._save()
        return found

    # checking ----------------------------------------------------------------------------------------
    def check(self, given: str) -> Caller:
        """The caller a key belongs to; AuthError (403) for any wrong, expired or revoked key."""
        if self.legacy and hmac.compare_digest(given.encode(), self.legacy.encode()):
            return Caller("KB_API_KEY", "admin")
        m = _KEY.match(given)
        with self._lock:
            self._load()
            key = self._keys.get(m.group(1)) if m else None
            fingerprint = hashlib.sha256(given.encode()).hexdigest()
            known = key is not None and self._passed.get(fingerprint) == key.id
        if not known:
            ref = key if key is not None else None
            salt, stored = (ref.salt, ref.hash) if ref else (_DECOY["salt"], _DECOY["hash"])
            ok = hmac.compare_digest(_digest(m.group(2) if m else given[:64] or "x", salt), base64.b64decode(stored))
            if not (ok and key is not None):
                raise _denied()
            with self._lock:
                self._passed[fingerprint] = key.id
        assert key is not None
        if key.expired():
            raise _denied("this API key has expired")
        return Caller(key.name, key.scope)

    def enabled(self) -> bool:
        return bool(self.legacy) or self.path is not None


def _denied(why: str = "this API key is not valid") -> AuthError:
    err = AuthError(why, field="Authorization")
    err.status, err.code = 403, "forbidden"
    return err
