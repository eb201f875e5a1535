"""The service's state: settings, the model, and the live index, swapped whole after each write.

Every request takes the live generation once (:meth:`State.live`) and answers from it. With
``kb serve --workers N`` each process holds its own State over the same index folder: a write made by one
process publishes a new generation (``CURRENT``), and each other process loads it before its next request,
so an upload is searchable everywhere once its call has returned.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from api.auth import Sessions
from kb.backend import IndexBackend, IndexReader, backend_for
from kb.embedding import Embedder
from kb.engine import search
from kb.keys import KeyFile
from kb.settings import Settings

log = logging.getLogger("kb.api")
WARM_UP_QUERIES = ("Quelle est l'ambition de la stratégie ?", "What does the strategy aim for?")


@dataclass
class State:
    settings: Settings
    embedder: Embedder
    backend: IndexBackend
    index: IndexReader
    keys: KeyFile
    sessions: Sessions
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> State:
        backend = backend_for(settings)
        keys = KeyFile(settings.keys_file, settings.api_key)
        sessions = Sessions(
            (settings.keys_file.parent if settings.keys_file else settings.index_dir) / ".kb-session-secret"
        )
        return cls(settings, embedder, backend, backend.open(embedder), keys, sessions)

    def live(self) -> IndexReader:
        """The live generation, loaded first if another process (or a write) published a newer one."""
        name = self.backend.current()
        if name and name != self.index.generation:
            with self._reload_lock:
                if name != self.index.generation:
                    self.reload()
        return self.index

    def reload(self) -> None:
        """Load the new live generation; searches already running finish on the old one."""
        self.index = self.backend.open(self.embedder)

    def warm_up(self) -> float:
        """Run a search in each language once, highlights included, so the first user does not pay for
        loading the lexicon, the language profiles, the model's memory arena and the index's first pages."""
        t0 = time.perf_counter()
        for q in WARM_UP_QUERIES:
            search(self.index, q, k=10, highlight="auto")
        return time.perf_counter() - t0
