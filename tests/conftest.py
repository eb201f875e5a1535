"""Shared fixtures. Slow model work is session-scoped: the real model is loaded once per run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from kb.embedding import Embedder, load_embedder
from kb.engine import Index, load
from kb.ingest import ingest
from kb.settings import Settings, resolve

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
FIXTURES = Path(__file__).parent / "fixtures"


# What makes a test slow: the real model (and the indexes built with it), a server process, the browser, or
# the `kb` command in a subprocess (which loads the model). `bash scripts/test.sh -m "not slow"` runs the rest.
SLOW_FIXTURES = {"embedder", "corpus_index", "bilingual_index", "served_index", "server", "browser"}
SLOW_MODULES = {"test_api", "test_web", "test_security", "test_faults", "test_kill", "test_hostile",
                "test_pdf_robustness", "test_piaf", "test_schemathesis", "test_onnx", "test_search", "test_ingest",
                "test_qdrant_e2e"}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def need_shared() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"../shared/data is absent ({DATA}): external test data not available")
    return DATA


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # the model cache is shared across runs (KB_CACHE or ~/.cache/kb); everything else is temporary
    return replace(resolve(os.environ), index_dir=tmp_path_factory.mktemp("index"), workers=2)


@pytest.fixture(scope="session")
def embedder(base_settings: Settings) -> Embedder:
    return load_embedder(base_settings)


def build_index(settings: Settings, embedder: Embedder, paths: list[Path], where: Path) -> Index:
    settings = replace(settings, index_dir=where)
    ingest(paths, settings, embedder)
    return load(where, embedder)


@pytest.fixture(scope="session")
def corpus_index(base_settings: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Index:
    return build_index(base_settings, embedder, [ROOT / "corpus"], tmp_path_factory.mktemp("corpus-index"))


@pytest.fixture(scope="session")
def bilingual_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("bilingual") / "docs"
    shutil.copytree(FIXTURES / "bilingual", dest)
    return dest


@pytest.fixture(scope="session")
def bilingual_index(base_settings: Settings, embedder: Embedder, bilingual_dir: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Index:  # fmt: skip
    return build_index(base_settings, embedder, [bilingual_dir], tmp_path_factory.mktemp("bilingual-index"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kb_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_") or k == "KB_CACHE"}
    env.update(extra)
    return env


def run_kb(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True,
                          env=env or kb_env(), timeout=timeout, cwd=ROOT)  # fmt: skip


class Server:
    """`kb serve` in a real process on 127.0.0.1 and a free port."""

    def __init__(self, index_dir: Path, api_key: str | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = kb_env(KB_INDEX=str(index_dir), **(extra_env or {}))
        if api_key is not None:
            env["KB_API_KEY"] = api_key
        self.log = index_dir.parent / f"server-{self.port}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kb.cli", "serve", "--port", str(self.port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.wait()

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise TimeoutError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session")
def served_index(base_settings: Settings, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the shipped corpus plus the bilingual fixture, for the server tests."""
    where = tmp_path_factory.mktemp("served") / "index"
    bil = tmp_path_factory.mktemp("served-docs") / "bilingual"
    shutil.copytree(FIXTURES / "bilingual", bil)
    ingest([ROOT / "corpus", bil], replace(base_settings, index_dir=where), embedder)
    return where


@pytest.fixture(scope="session")
def server(served_index: Path) -> Iterator[Server]:
    srv = Server(served_index, api_key="test-key-123")
    yield srv
    srv.stop()
