"""The access guard's search bounds, over a stub ASGI app (no model, no server): admitted searches beyond
``running`` wait their turn, and past ``max_searches`` the next one is refused with 429 at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from api.app import error_response
from api.auth import Guard, Sessions
from kb.keys import KeyFile


def _guard(tmp_path: Path, max_searches: int, running: int | None) -> tuple[Guard, dict[str, int]]:
    seen = {"now": 0, "most": 0}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        await asyncio.sleep(0.02)
        seen["now"] -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    keys, sessions = KeyFile(None), Sessions(tmp_path / "secret")
    guard = Guard(app, keys, sessions, False, max_searches, error_response, running)
    return guard, seen


async def _search(guard: Guard) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    scope = {"type": "http", "method": "GET", "path": "/api/v1/search", "headers": [], "query_string": b"q=x"}
    await guard(scope, receive, send)
    return int(sent[0]["status"])


def _burst(guard: Guard, n: int) -> list[int]:
    async def go() -> list[int]:
        return list(await asyncio.gather(*(_search(guard) for _ in range(n))))

    return asyncio.run(go())


def test_admitted_searches_beyond_running_wait_their_turn(tmp_path: Path) -> None:
    guard, seen = _guard(tmp_path, max_searches=8, running=2)
    assert _burst(guard, 8) == [200] * 8
    assert seen["most"] == 2


def test_by_default_every_admitted_search_runs_and_the_next_gets_429(tmp_path: Path) -> None:
    guard, seen = _guard(tmp_path, max_searches=3, running=None)
    codes = _burst(guard, 5)
    assert sorted(codes) == [200, 200, 200, 429, 429] and seen["most"] == 3
