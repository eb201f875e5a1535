"""Concurrent queries share encode calls, each gets its own vector, and a failure reaches every waiter."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kb.embedding import QueryBatcher


def test_concurrent_queries_are_batched_and_mapped_back() -> None:
    calls: list[int] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        time.sleep(0.05)
        return np.array([[float(t)] for t in texts], np.float32)

    batcher = QueryBatcher(encode)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: batcher.encode(str(i)), range(64)))
    assert [float(r[0]) for r in results] == [float(i) for i in range(64)]
    assert sum(calls) == 64 and len(calls) < 64 and max(calls) > 1


def test_failure_reaches_every_waiter() -> None:
    gate = threading.Event()

    def encode(texts: list[str]) -> np.ndarray:
        gate.wait(1)
        raise RuntimeError("model broke")

    batcher = QueryBatcher(encode)
    errors: list[str] = []

    def call() -> None:
        try:
            batcher.encode("q")
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(5)
    assert errors == ["model broke"] * 5


def test_single_caller_is_encoded_at_once() -> None:
    batcher = QueryBatcher(lambda texts: np.ones((len(texts), 2), np.float32))
    t0 = time.perf_counter()
    assert batcher.encode("x").shape == (2,)
    assert time.perf_counter() - t0 < 0.05
    with pytest.raises(ValueError):
        QueryBatcher(lambda texts: np.ones((0, 2), np.float32)).encode("x")  # a short result is an error
