"""Documents, pages and chunks in SQLite: the stored truth of one index generation (no pickle)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kb.types import Chunk, Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, publisher TEXT NOT NULL, source_url TEXT NOT NULL,
    date TEXT, language TEXT NOT NULL, kind TEXT NOT NULL, paginated INTEGER NOT NULL,
    source_key TEXT NOT NULL, content_hash TEXT NOT NULL, stored_file TEXT,
    n_pages INTEGER NOT NULL, n_chunks INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source_key);
CREATE TABLE IF NOT EXISTS pages (
    doc_id TEXT NOT NULL, n INTEGER NOT NULL, text TEXT NOT NULL, ocr INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (doc_id, n)
);
CREATE TABLE IF NOT EXISTS chunks (
    vid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, seq INTEGER NOT NULL,
    page INTEGER NOT NULL, start INTEGER NOT NULL, end_ INTEGER NOT NULL, section TEXT NOT NULL,
    language TEXT NOT NULL, text TEXT NOT NULL, terms TEXT NOT NULL, text_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(text_hash);
CREATE TABLE IF NOT EXISTS sources (source_key TEXT PRIMARY KEY, content_hash TEXT NOT NULL);
"""

DOC_COLUMNS = (
    "doc_id", "title", "publisher", "source_url", "date", "language", "kind", "paginated",
    "source_key", "content_hash", "stored_file", "n_pages", "n_chunks",
)  # fmt: skip


def text_hash(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).lower().encode()).hexdigest()[:16]


class Store:
    """One SQLite file. Writers use it from one thread; readers get a connection per thread."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._local = threading.local()
        if not readonly:
            self.conn.executescript(SCHEMA)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("PRAGMA synchronous=FULL")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def copy_to(self, path: Path) -> Store:
        dest = sqlite3.connect(path)
        with dest:
            self.conn.backup(dest)
        dest.close()
        return Store(path)

    # ---- writes ----------------------------------------------------------------------------------
    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        ids = [(d,) for d in doc_ids]
        c = self.conn
        c.executemany("DELETE FROM chunks WHERE doc_id = ?", ids)
        c.executemany("DELETE FROM pages WHERE doc_id = ?", ids)
        c.executemany("DELETE FROM documents WHERE doc_id = ?", ids)

    def add_document(self, doc: Document, chunks: list[Chunk], terms: list[str], first_vid: int) -> None:
        c = self.conn
        row = doc.meta() | {"n_pages": len(doc.pages), "n_chunks": len(chunks), "paginated": int(doc.paginated)}
        c.execute(
            f"INSERT INTO documents ({','.join(DOC_COLUMNS)}) VALUES ({','.join('?' * len(DOC_COLUMNS))})",
            [row[k] for k in DOC_COLUMNS],
        )
        c.executemany("INSERT INTO pages (doc_id, n, text, ocr) VALUES (?,?,?,?)",
                      [(doc.doc_id, p.n, p.text, int(p.ocr)) for p in doc.pages])  # fmt: skip
        c.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (first_vid + i, ch.chunk_id, ch.doc_id, ch.seq, ch.page, ch.start, ch.end, ch.section,
                 ch.language, ch.text, terms[i], text_hash(ch.text))
                for i, ch in enumerate(chunks)
            ],
        )  # fmt: skip

    def set_source(self, key: str, content_hash: str | None) -> None:
        if content_hash is None:
            self.conn.execute("DELETE FROM sources WHERE source_key = ?", (key,))
        else:
            self.conn.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (key, content_hash))

    def compact_vids(self) -> list[int]:
        """Renumber vids 0..n-1 in their current order; returns the old vids in the new order."""
        c = self.conn
        old = [r[0] for r in c.execute("SELECT vid FROM chunks ORDER BY vid")]
        if old != list(range(len(old))):
            offset = (max(old) + 1) if old else 0
            c.execute("UPDATE chunks SET vid = vid + ?", (offset,))
            c.executemany("UPDATE chunks SET vid = ? WHERE vid = ?", [(i, v + offset) for i, v in enumerate(old)])
        return old

    def commit(self) -> None:
        self.conn.commit()

    # ---- reads -----------------------------------------------------------------------------------
    def sources(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT source_key, content_hash FROM sources")}

    def docs_of_source(self, key: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT doc_id FROM documents WHERE source_key = ?", (key,))]

    def document(self, doc_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return dict(row) if row else None

    def documents(self, offset: int = 0, limit: int = -1) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM documents ORDER BY doc_id LIMIT ? OFFSET ?", (limit, offset))
        return [dict(r) for r in rows]

    def ocr_pages(self, doc_id: str) -> set[int]:
        """Pages whose text was recognised (none in an index written before OCR)."""
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(pages)")}
        if "ocr" not in columns:
            return set()
        return {r[0] for r in self.conn.execute("SELECT n FROM pages WHERE doc_id = ? AND ocr = 1", (doc_id,))}

    def page(self, doc_id: str, n: int) -> str | None:
        row = self.conn.execute("SELECT text FROM pages WHERE doc_id = ? AND n = ?", (doc_id, n)).fetchone()
        return row[0] if row else None

    def pages(self, doc_id: str) -> list[tuple[int, str]]:
        return [
            (r[0], r[1]) for r in self.conn.execute("SELECT n, text FROM pages WHERE doc_id = ? ORDER BY n", (doc_id,))
        ]

    def chunks_by_vid(self, vids: list[int]) -> dict[int, dict[str, Any]]:
        if not vids:
            return {}
        q = f"SELECT * FROM chunks WHERE vid IN ({','.join('?' * len(vids))})"
        return {r["vid"]: dict(r) for r in self.conn.execute(q, vids)}

    def chunks_of(self, doc_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM chunks WHERE doc_id = ? ORDER BY seq", (doc_id,))]

    def same_text(self, hashes: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if not hashes:
            return out
        q = f"SELECT * FROM chunks WHERE text_hash IN ({','.join('?' * len(hashes))}) ORDER BY vid"
        for r in self.conn.execute(q, hashes):
            out.setdefault(r["text_hash"], []).append(dict(r))
        return out

    def iter_chunk_rows(self, columns: str) -> Iterator[sqlite3.Row]:
        yield from self.conn.execute(f"SELECT {columns} FROM chunks ORDER BY vid")

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def languages(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT language, COUNT(*) FROM chunks GROUP BY language")
        return {r[0] or "?": r[1] for r in rows}

    def content_hashes(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT content_hash FROM sources ORDER BY source_key")]
