"""The index folder: immutable generations, an atomic ``CURRENT`` pointer and a manifest.

index/
  CURRENT             name of the live generation (replaced atomically)
  LOCK                held by the one writer
  g000007/            manifest.json, kb.sqlite, vectors.npy, dense.faiss (HNSW only), keyword/, files/

A writer builds the next generation in a temporary folder, syncs it, renames it and then swaps
``CURRENT``: a reader, or a process killed at any moment, sees the old generation or the new one whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kb.errors import IndexMismatchError, NoIndexError, StorageError

FORMAT_VERSION = 1
KEEP_GENERATIONS = 2


def current_name(index_dir: Path) -> str:
    """The live generation's name ("" when there is none): one small read, cheap enough for every request."""
    try:
        return (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return ""


def current(index_dir: Path) -> Path | None:
    name = current_name(index_dir)
    path = index_dir / name
    return path if name and path.is_dir() else None


def require_current(index_dir: Path) -> Path:
    gen = current(index_dir)
    if gen is None:
        raise NoIndexError(f"no index in {index_dir}: build one with `kb ingest` first", field="index")
    return gen


def next_name(index_dir: Path) -> str:
    nums = [int(p.name[1:]) for p in index_dir.glob("g[0-9]*") if p.name[1:].isdigit()]
    return f"g{max(nums, default=0) + 1:06d}"


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "LOCK", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _fsync_tree(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: Path, staging: Path, name: str) -> Path:
    """Make ``staging`` the live generation ``name``; on any OS error the old one stays live."""
    final = index_dir / name
    try:
        _fsync_tree(staging)
        os.rename(staging, final)
        tmp = index_dir / f"CURRENT.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, index_dir / "CURRENT")
        _fsync_dir(index_dir)
    except OSError as exc:
        raise StorageError(
            f"could not write the index in {index_dir} ({exc.strerror}); the previous index is unchanged"
        ) from exc
    return final


def clean(index_dir: Path) -> None:
    """Remove staging folders left by killed writers and generations older than the last few."""
    live = current(index_dir)
    for p in index_dir.glob("*.tmp*"):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    gens = sorted(p for p in index_dir.glob("g[0-9]*") if p.is_dir() and p.name[1:].isdigit())
    for p in gens[:-KEEP_GENERATIONS]:
        if p != live:
            shutil.rmtree(p, ignore_errors=True)


def write_manifest(gen: Path, manifest: dict[str, Any]) -> None:
    (gen / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read_manifest(gen: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((gen / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexMismatchError(f"{gen}: unreadable manifest ({exc})") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{gen}: index format {manifest.get('format_version')}, this kb reads {FORMAT_VERSION}; rebuild it"
        )
    return manifest


def check_model(manifest: dict[str, Any], model: str, dim: int | None = None) -> None:
    if manifest.get("model") != model:
        raise IndexMismatchError(
            f"the index was built with model {manifest.get('model')!r} but {model!r} is configured; "
            "use the same model (--model / KB_MODEL) or rebuild the index",
            field="model",
        )
    if dim is not None and manifest.get("dimension") != dim:
        raise IndexMismatchError(f"index vectors have dimension {manifest.get('dimension')}, the model gives {dim}")


def check_precision(manifest: dict[str, Any], precision: str) -> None:
    """Passages added to an index must be encoded like those already in it."""
    built = manifest.get("passage_precision", "fp32")
    if built != precision:
        raise IndexMismatchError(
            f"the index's passages were encoded at {built} but {precision} is configured (KB_PASSAGE_PRECISION); "
            "use the same or rebuild the index",
            field="passage_precision",
        )
