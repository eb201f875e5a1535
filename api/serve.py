"""`kb serve`: the API and the web page, plugged into the `kb` command through the ``kb.commands`` entry point
(kb itself never imports api)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import SETTINGS_ENV, create_app
    from kb.cli import settings_of

    settings = settings_of(args)
    if settings.serve_workers > 1:
        if settings.index_backend == "qdrant" and not settings.qdrant_url:
            from kb.errors import InputError

            raise InputError("Qdrant Edge is opened by one process: use --workers 1, or a Qdrant server (KB_QDRANT_URL)",
                             field="workers")  # fmt: skip
        os.environ[SETTINGS_ENV] = settings.to_json()  # each process builds the app from the settings resolved here
        uvicorn.run("api.app:worker_app", factory=True, workers=settings.serve_workers, host=args.host,
                    port=args.port, log_level="info", access_log=False)  # fmt: skip
        return 0
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


def register(command: Callable[[str, Any, str], argparse.ArgumentParser]) -> None:
    sp = command("serve", serve, "serve the API and the web page")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--api-key", help="enables the write endpoints (or KB_API_KEY)")
    sp.add_argument("--workers", type=int, help="server processes sharing the index files (or KB_SERVE_WORKERS; 1)")
