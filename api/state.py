"""The service's state: settings, the model, and the live index, swapped whole after each write."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field

from kb.embedding import Embedder
from kb.engine import Index, load
from kb.errors import AuthError
from kb.settings import Settings


@dataclass
class State:
    settings: Settings
    embedder: Embedder
    index: Index
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> State:
        return cls(settings, embedder, load(settings.index_dir, embedder, settings.threads))

    def reload(self) -> None:
        """Load the new live generation; searches already running finish on the old one."""
        self.index = load(self.settings.index_dir, self.embedder, self.settings.threads)

    def check_key(self, authorization: str | None) -> None:
        key = self.settings.api_key or ""
        if not key:
            err = AuthError("write access is disabled: the server was started without an API key (KB_API_KEY)")
            err.status, err.code = 403, "writes_disabled"
            raise err
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
            raise AuthError("a valid API key is required: send 'Authorization: Bearer <key>'", field="Authorization")
