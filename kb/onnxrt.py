"""The same embedder run by ONNX Runtime: identical vectors, 2–2.5× faster per query on CPU.

A sentence-transformers folder whose modules are a transformer, mean pooling and (optionally) normalisation
can be exported once (:func:`export`) to ``onnx/model.onnx`` beside its weights; :class:`OnnxEmbedder` then
tokenises with the folder's ``tokenizer.json`` (the same fast tokenizer sentence-transformers uses) and pools
in numpy. On the default model its vectors match sentence-transformers at cosine ≥ 0.99999; a short query
encodes in about 10 ms instead of 25 on two cores, because ONNX Runtime fuses the graph and skips PyTorch's
per-operator overhead. Other folders (other pooling, other inputs) stay on sentence-transformers.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from kb.embedding import prompts
from kb.errors import ModelError

ONNX_FILE = "onnx/model.onnx"
INT8_FILE = "onnx/model-int8.onnx"
PRECISIONS = {"fp32": ONNX_FILE, "int8": INT8_FILE}


def supported(folder: Path) -> str | None:
    """Why this folder cannot run on ONNX Runtime, or None if it can."""
    if not (folder / ONNX_FILE).is_file():
        return f"no {ONNX_FILE}"
    if not (folder / "tokenizer.json").is_file():
        return "no tokenizer.json"
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return f"modules {kinds}"
    pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        return f"pooling {modes}"
    return None


def export(folder: Path) -> Path:
    """Write ``onnx/model.onnx`` (transformer only: ids and mask in, last hidden state out)."""
    import warnings

    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    out = folder / ONNX_FILE
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".tmp")
    ids = torch.tensor([[0, 1000, 2000, 2]])
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():  # tracer notes about shape-dependent branches: the axes are dynamic
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Hidden(), (ids, torch.ones_like(ids)), str(tmp), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        )  # fmt: skip
    tmp.replace(out)
    return out


def quantize(folder: Path) -> Path:
    """Write ``onnx/model-int8.onnx``: dynamic int8 quantisation of the weights, per output channel.

    On e5-small its vectors stay at cosine ≥ 0.993 to fp32 (0.997 on average) and a short query encodes
    about twice as fast on these CPUs; bench/encoder_variants.py measures every benchmark with it."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = folder / INT8_FILE
    tmp = out.with_suffix(".tmp")
    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process first does not apply here
    quantize_dynamic(str(folder / ONNX_FILE), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    tmp.replace(out)
    return out


class OnnxEmbedder:
    """Implements :class:`kb.embedding.Embedder`; safe to call from many threads at once (with more than one
    thread per run, runs take turns; single-threaded runs go side by side)."""

    def __init__(self, name: str, folder: Path, threads: int, batch_size: int, query_precision: str = "fp32",
                 passage_precision: str = "fp32") -> None:  # fmt: skip
        from tokenizers import Tokenizer

        for p in (query_precision, passage_precision):
            if p not in PRECISIONS:
                raise ModelError(f"precision must be one of {', '.join(PRECISIONS)}, not {p!r}")
        self.folder, self.threads = folder, threads
        self.query_precision, self.passage_precision = query_precision, passage_precision
        self._sessions: dict[str, Any] = {}
        self._sessions_lock = threading.Lock()
        try:
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:
            raise ModelError(f"cannot load the tokenizer of {name!r} from {folder}: {exc}") from exc
        self._session(query_precision)  # fail at start, not on the first query
        config = _read(folder / "sentence_bert_config.json")
        self.tokenizer.enable_truncation(int(config.get("max_seq_length") or 512))
        self.tokenizer.no_padding()
        configured = _read(folder / "config_sentence_transformers.json").get("prompts")
        self.query_prompt, self.passage_prompt = prompts(name, configured)
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        self.normalize = modules[-1]["type"].endswith("Normalize")
        self.name, self.batch_size, self.runtime = name, batch_size, "onnxruntime"
        self.dim = int(_read(folder / modules[1]["path"] / "config.json")["word_embedding_dimension"])
        self._pad = self.tokenizer.token_to_id("<pad>") or 0
        # with a pool of threads, one model run at a time: concurrent runs would share the same cores anyway,
        # and queued requests then finish in turn instead of all slowing down together (tail latency);
        # single-threaded runs (`kb serve`) go side by side, one per core
        self._gate: Any = threading.Lock() if threads > 1 else contextlib.nullcontext()

    def _session(self, precision: str, threads: int | None = None) -> Any:
        """The ONNX Runtime session of one precision and thread count, made on first use (the int8 model is
        quantised then if missing)."""
        threads = threads or self.threads
        key = f"{precision}/{threads}"
        with self._sessions_lock:
            if key not in self._sessions:
                import onnxruntime as ort

                path = self.folder / PRECISIONS[precision]
                if not path.is_file() and precision == "int8" and (self.folder / ONNX_FILE).is_file():
                    quantize(self.folder)
                try:
                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = max(1, threads)
                    opts.inter_op_num_threads = 1
                    opts.log_severity_level = 3
                    # idle pool threads must not spin: FAISS, tantivy and the web server share these cores
                    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    self._sessions[key] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                except Exception as exc:
                    raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc
            return self._sessions[key]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.query_prompt + t for t in texts], False, self.query_precision)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode([self.passage_prompt + t for t in texts], progress, self.passage_precision)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Passage vectors for comparing with a query only (best-sentence highlights): the query's precision."""
        return self._encode([self.passage_prompt + t for t in texts], False, self.query_precision)

    def _encode(self, texts: list[str], progress: bool, precision: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        encs = self.tokenizer.encode_batch([t.rstrip() for t in texts])  # as transformers' tokenizer does
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))  # similar lengths, little padding
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        lanes = self.threads > 1 and len(batches) > 1
        session = self._session(precision, 1 if lanes else None)
        if lanes:  # many batches (ingest): one single-threaded run per core side by side keeps the cores busier
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(self.threads)
            runs: list[Any] = [pool.submit(self._run, session, [encs[i].ids for i in b], False) for b in batches]
        else:
            runs = [None] * len(batches)
        done: Any = zip(batches, runs, strict=True)
        if progress:
            from tqdm import tqdm

            done = tqdm(done, total=len(batches), desc="embedding", unit="batch")
        for batch, run in done:
            out[batch] = run.result() if run is not None else self._run(session, [encs[i].ids for i in batch])
        if lanes:
            pool.shutdown()
        return out

    def _run(self, session: Any, seqs: list[list[int]], gated: bool = True) -> np.ndarray:
        width = max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), self._pad, np.int64)
        mask = np.zeros((len(seqs), width), np.int64)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        with self._gate if gated else contextlib.nullcontext():
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        vecs = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self.normalize:
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs.astype(np.float32)


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
