"""Build the next index generation from the live one plus a :class:`Change`."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb import generations, typos
from kb.analysis import analyze_passage
from kb.backend import Change
from kb.dense import DenseIndex
from kb.embedding import Embedder
from kb.errors import StorageError
from kb.keyword import KeywordIndex
from kb.settings import Settings
from kb.store import Store
from kb.typos import Vocabulary


def build_generation(settings: Settings, embedder: Embedder, prev: Path | None, change: Change,
                     progress: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Write and publish the next generation; on a write failure the live one stays and StorageError says why."""
    say = progress or (lambda _m: None)
    if prev is not None:
        generations.check_precision(generations.read_manifest(prev), embedder.passage_precision)
    if len(change.vectors) != len(change.docs):
        change.embed(embedder, progress=progress is not None and bool(change.docs))
    new_vectors = np.concatenate(change.vectors) if change.vectors else np.zeros((0, embedder.dim), np.float32)
    index_dir = settings.index_dir
    name = generations.next_name(index_dir)
    staging = index_dir / f"{name}.tmp{os.getpid()}"
    try:
        staging.mkdir(parents=True)
        _write(settings, embedder, prev, change, staging, new_vectors, say)
        final = generations.publish(index_dir, staging, name)
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, StorageError):
            raise
        full = getattr(exc, "errno", None) in (27, 28, 122) or "full" in str(exc)  # EFBIG, ENOSPC, EDQUOT
        why = "disk is full" if full else f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
        raise StorageError(f"could not write the new index ({why}); the previous index is unchanged") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    generations.clean(index_dir)
    return final


def _write(settings: Settings, embedder: Embedder, prev: Path | None, change: Change, staging: Path,
           new_vectors: np.ndarray, say: Callable[[str], None]) -> None:  # fmt: skip
    store = (
        Store(prev / "kb.sqlite", readonly=True).copy_to(staging / "kb.sqlite")
        if prev
        else Store(staging / "kb.sqlite")
    )
    old_vectors = np.load(prev / "vectors.npy") if prev else np.zeros((0, embedder.dim), np.float32)
    store.delete_documents(sorted(change.removed))
    vid = old_vectors.shape[0]
    for doc, chunks in zip(change.docs, change.chunks, strict=True):
        terms = [analyze_passage(c.text, c.language) for c in chunks]
        store.add_document(doc, chunks, terms, vid)
        vid += len(chunks)
    for key, digest in change.sources.items():
        store.set_source(key, digest)
    order = store.compact_vids()
    vectors = np.concatenate([old_vectors, new_vectors.reshape(-1, embedder.dim)])[order] if order else old_vectors[:0]
    store.commit()
    np.save(staging / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    say(f"keyword index over {len(order)} passages")
    rows = store.iter_chunk_rows("vid, terms, language, doc_id")
    KeywordIndex.build(staging / "keyword", ((r[0], r[1], r[2], r[3]) for r in rows))
    Vocabulary.of((r[0], r[1]) for r in store.iter_chunk_rows("text, language")).save(staging / typos.FILE)
    prev_graph = prev / "dense.faiss" if prev else None
    if not change.removed and prev_graph and prev_graph.is_file() and len(order) > settings.exact_max:
        dense = DenseIndex.extend(prev_graph, vectors, settings.threads)  # only additions: no rebuild
    else:
        dense = DenseIndex.build(vectors, settings.exact_max, settings.threads)
    say(f"dense index: {dense.kind}, {dense.size} vectors")
    dense.save(staging / "dense.faiss")
    _store_files(store, prev, change, staging / "files")
    generations.write_manifest(staging, _manifest(settings, embedder, store, dense, staging.name.split(".")[0]))
    store.close()


def _store_files(store: Store, prev: Path | None, change: Change, folder: Path) -> None:
    """Original PDFs, named by content hash, so the web page can open them at a page."""
    folder.mkdir()
    wanted = {r[0] for r in store.conn.execute("SELECT stored_file FROM documents WHERE stored_file IS NOT NULL")}
    for name in wanted:
        old = prev / "files" / name if prev else None
        if old is not None and old.is_file():
            os.link(old, folder / name)
        elif name in change.files:
            shutil.copyfile(change.files[name], folder / name)


def _manifest(settings: Settings, embedder: Embedder, store: Store, dense: DenseIndex, name: str) -> dict[str, object]:
    corpus = hashlib.sha256("\n".join(store.content_hashes()).encode()).hexdigest()
    return {
        "format_version": generations.FORMAT_VERSION,
        "generation": name,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": embedder.name,
        "dimension": embedder.dim,
        "passage_precision": embedder.passage_precision,
        "chunker": asdict(settings.chunk),
        "analysis": "fr+en: fold, elision, stop words, Snowball (PyStemmer)",
        "dense": {"kind": dense.kind, "vectors": dense.size, "exact_max": settings.exact_max},
        "corpus_hash": corpus,
        "counts": {t: store.count(t) for t in ("documents", "pages", "chunks")},
    }
