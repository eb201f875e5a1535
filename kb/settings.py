"""Settings, resolved once at the edge (flags or ``KB_*`` variables) and passed in.

kb never reads the environment itself: the CLI and the API call :func:`resolve` with ``os.environ``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

DEFAULT_MODEL = "intfloat/multilingual-e5-small"


@dataclass(frozen=True)
class ChunkParams:
    min_words: int = 150
    target_words: int = 220
    max_words: int = 300
    overlap_sentences: int = 1


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 100 * 2**20
    max_text_chars: int = 20_000_000  # text extracted from one file
    parse_timeout_s: float = 120.0
    parse_memory_mb: int = 2048
    max_query_chars: int = 2000
    max_k: int = 100
    max_upload_bytes: int = 50 * 2**20
    ocr: str = "auto"  # parser setting: recognise PDF pages without text (auto, when Tesseract is there) or off


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    corpus_dir: Path = Path("corpus")
    model: str = DEFAULT_MODEL
    cache_dir: Path = Path.home() / ".cache" / "kb"
    backend: str = "auto"  # embedding runtime: auto (ONNX Runtime where the model folder has it), onnx, torch
    query_precision: str = "fp32"  # ONNX Runtime: fp32 or int8 (the study in bench/encoder_variants.py)
    passage_precision: str = "fp32"  # recorded in the index: all its passages are encoded alike
    threads: int = 2  # model and FAISS threads for batch work (ingest, eval, in-process search)
    serve_threads: int = 1  # model threads per search in `kb serve`: requests run side by side, a core each
    batch_size: int = 16
    exact_max: int = 50_000  # above this many passages the dense index is HNSW
    chunk: ChunkParams = field(default_factory=ChunkParams)
    limits: Limits = field(default_factory=Limits)
    api_key: str | None = None  # one admin key (KB_API_KEY); scoped keys live in the keys file
    keys_file: Path | None = None  # KB_KEYS_FILE: hashed keys with scopes (kb keys add/list/revoke)
    private: bool = False  # KB_PRIVATE=1: every route but the health check needs a search or admin key
    max_searches: int = 12  # searches admitted at once by `kb serve`; the next gets 429 with Retry-After
    search_threads: int | None = None  # of the admitted searches, how many run at once (None: all of them)
    cors_origins: tuple[str, ...] = ()
    workers: int = 2  # parser processes during ingest
    serve_workers: int = 1  # `kb serve` processes sharing the index's memory-mapped files
    allow_private_urls: bool = False  # fetching URLs of loopback or private addresses (tests, intranets)
    index_backend: str = "local"  # local (SQLite + FAISS + tantivy) or qdrant
    qdrant_url: str | None = None  # a Qdrant server or cluster; None: Qdrant Edge in process, under index_dir
    qdrant_api_key: str | None = None
    qdrant_collection: str = "kb"
    qdrant_shards: int = 1
    qdrant_replicas: int = 1

    def to_json(self) -> str:
        """For the processes of `kb serve --workers N`: the settings resolved once, at the edge."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        d = json.loads(text)
        d["chunk"], d["limits"] = ChunkParams(**d["chunk"]), Limits(**d["limits"])
        d["cors_origins"] = tuple(d["cors_origins"])
        for name in ("index_dir", "corpus_dir", "cache_dir", "keys_file"):
            d[name] = Path(d[name]) if d[name] else None
        return cls(**d)


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


_ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "KB_INDEX": ("index_dir", Path),
    "KB_CORPUS": ("corpus_dir", Path),
    "KB_MODEL": ("model", str),
    "KB_CACHE": ("cache_dir", Path),
    "KB_BACKEND": ("backend", str),
    "KB_QUERY_PRECISION": ("query_precision", str),
    "KB_PASSAGE_PRECISION": ("passage_precision", str),
    "KB_THREADS": ("threads", int),
    "KB_SERVE_THREADS": ("serve_threads", int),
    "KB_BATCH_SIZE": ("batch_size", int),
    "KB_EXACT_MAX": ("exact_max", int),
    "KB_API_KEY": ("api_key", str),
    "KB_KEYS_FILE": ("keys_file", Path),
    "KB_PRIVATE": ("private", _flag),
    "KB_MAX_SEARCHES": ("max_searches", int),
    "KB_SEARCH_THREADS": ("search_threads", int),
    "KB_WORKERS": ("workers", int),
    "KB_SERVE_WORKERS": ("serve_workers", int),
    "KB_BACKEND_INDEX": ("index_backend", str),
    "KB_ALLOW_PRIVATE_URLS": ("allow_private_urls", _flag),
    "KB_QDRANT_URL": ("qdrant_url", str),
    "KB_QDRANT_API_KEY": ("qdrant_api_key", str),
    "KB_QDRANT_COLLECTION": ("qdrant_collection", str),
    "KB_QDRANT_SHARDS": ("qdrant_shards", int),
    "KB_QDRANT_REPLICAS": ("qdrant_replicas", int),
}
_LIMIT_ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "KB_PARSE_TIMEOUT": ("parse_timeout_s", float),
    "KB_PARSE_MEMORY_MB": ("parse_memory_mb", int),
    "KB_MAX_FILE_BYTES": ("max_file_bytes", int),
    "KB_MAX_TEXT_CHARS": ("max_text_chars", int),
    "KB_MAX_UPLOAD_BYTES": ("max_upload_bytes", int),
    "KB_OCR": ("ocr", str),
}


def resolve(env: Mapping[str, str], **overrides: object) -> Settings:
    """Settings from ``KB_*`` variables in ``env``, then explicit overrides (flags; None = not given)."""
    values: dict[str, object] = {}
    for var, (name, conv) in _ENV.items():
        if env.get(var):
            values[name] = conv(env[var])
    if env.get("KB_CORS_ORIGINS"):
        values["cors_origins"] = tuple(o.strip() for o in env["KB_CORS_ORIGINS"].split(",") if o.strip())
    limits = {name: conv(env[var]) for var, (name, conv) in _LIMIT_ENV.items() if env.get(var)}
    known = {f.name for f in fields(Settings)}
    values.update({k: v for k, v in overrides.items() if v is not None and k in known})
    for name in ("index_dir", "corpus_dir", "cache_dir", "keys_file"):
        if name in values:
            values[name] = Path(str(values[name]))
    settings = Settings(**values)  # type: ignore[arg-type]
    if limits:
        settings = replace(settings, limits=replace(settings.limits, **limits))  # type: ignore[arg-type]
    return settings
