"""The ONNX Runtime embedder gives the vectors sentence-transformers gives, and refuses what it cannot run."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kb.embedding import default_model_path, load_embedder
from kb.errors import ModelError
from kb.onnxrt import OnnxEmbedder, supported
from kb.settings import Settings

pytestmark = pytest.mark.slow

TEXTS = [
    "Quelles sont les mesures contre les pénuries de médicaments ?",
    "How does France plan to produce more biotherapies at home?",
    "La stratégie d'accélération biothérapies et bioproduction de thérapies innovantes, dotée de 800 M€, vise "
    "à faire de la France un leader européen des biothérapies à l'horizon 2030. " * 6,
    "x",
]


def test_default_model_runs_on_onnx_with_the_same_vectors(base_settings: Settings) -> None:
    onnx = load_embedder(base_settings)
    torch = load_embedder(replace(base_settings, backend="torch"))
    assert isinstance(onnx, OnnxEmbedder)
    assert (onnx.name, onnx.dim) == (torch.name, torch.dim) == (base_settings.model, 384)
    for method in ("encode_queries", "encode_passages"):
        a, b = getattr(onnx, method)(TEXTS), getattr(torch, method)(TEXTS)
        assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
        assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
        assert (a * b).sum(axis=1).min() > 0.9999, method
    # batching and order do not change a vector
    one = onnx.encode_passages([TEXTS[2]])[0]
    assert float(one @ onnx.encode_passages(TEXTS[::-1])[1]) > 0.99999


def test_backend_onnx_refuses_what_it_cannot_run(base_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(default_model_path(base_settings.cache_dir), folder, ignore=shutil.ignore_patterns("*.onnx"))
    assert supported(folder) == "no onnx/model.onnx"
    with pytest.raises(ModelError, match=r"cannot run on ONNX Runtime: no onnx/model\.onnx"):
        load_embedder(replace(base_settings, model=str(folder), backend="onnx"))
    auto = load_embedder(replace(base_settings, model=str(folder)))  # auto falls back to torch
    assert getattr(auto, "runtime", None) == "torch"
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (folder / "onnx").mkdir(exist_ok=True)
    (folder / "onnx" / "model.onnx").write_bytes(b"")
    assert supported(folder) == "pooling ['pooling_mode_cls_token']"
    with pytest.raises(ModelError, match="backend must be one of"):
        load_embedder(replace(base_settings, backend="tensorrt"))


def test_single_threaded_runs_go_side_by_side(base_settings: Settings) -> None:
    """`kb serve` runs the model on one thread per request, without the turn-taking lock: concurrent
    runs of the one session must give each caller its own vectors."""
    from concurrent.futures import ThreadPoolExecutor

    solo = load_embedder(replace(base_settings, threads=1))
    assert isinstance(solo, OnnxEmbedder)
    texts = [f"{t} ({i})" for i in range(6) for t in TEXTS[:3]]
    expected = solo.encode_queries(texts)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: solo.encode_queries([t])[0], texts))
    assert (np.array(got) * expected).sum(axis=1).min() > 0.99999
