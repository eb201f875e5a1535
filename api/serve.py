"""`kb serve`: the API and the web page, plugged into the `kb` command through the ``kb.commands`` entry point
(kb itself never imports api).

With ``--workers N`` the parent loads the model once, binds the socket, then forks the N workers: the model's
weights and the tokenizer (about 0.8 GB for the default model at fp32) are then shared copy-on-write between
them instead of each worker holding its own copy, as it would with uvicorn's own (spawned) workers. Where the
platform cannot fork, uvicorn's workers are used.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kb.settings import Settings

log = logging.getLogger("kb.api")


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
        if hasattr(os, "fork"):
            return prefork(settings, args.host, args.port)
        os.environ[SETTINGS_ENV] = settings.to_json()  # each process builds the app from the settings resolved here
        uvicorn.run("api.app:worker_app", factory=True, workers=settings.serve_workers, host=args.host,
                    port=args.port, log_level="info", access_log=False)  # fmt: skip
        return 0
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


def prefork(settings: Settings, host: str, port: int) -> int:
    """Load the model, bind, fork ``settings.serve_workers`` workers on the one socket, and wait for them;
    SIGINT or SIGTERM stops them all. Returns 0 after a clean stop, 1 if a worker failed."""
    from kb.backend import backend_for
    from kb.embedding import load_embedder

    backend_for(settings).require()
    sock = _bind(host, port)
    embedder = load_embedder(replace(settings, threads=settings.serve_threads))  # before fork: shared
    _preload()
    children = [_fork(settings, embedder, sock) for _ in range(settings.serve_workers)]
    sock.close()
    stopping = False

    def stop(_sig: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failed = False
    while children:
        pid, status = os.wait()
        if pid not in children:
            continue
        children.remove(pid)
        if os.waitstatus_to_exitcode(status) != 0 and not stopping:
            failed = True
            log.error("worker %d stopped (exit %d); stopping the others", pid, os.waitstatus_to_exitcode(status))
            stop(0, None)
    return 1 if failed else 0


def _bind(host: str, port: int) -> socket.socket:
    from kb.errors import InputError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", field="port") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _preload() -> None:
    """What every worker would load on its first search, loaded once here to be shared: the web app's modules,
    the language profiles and the lexicon."""
    import uvicorn  # noqa: F401

    import api.app  # noqa: F401
    from kb import langid, lexicon

    langid.query_language("préchargement des profils de langue")
    lexicon.default()


def _fork(settings: Settings, embedder: Any, sock: socket.socket) -> int:
    """A worker process serving on ``sock``; it never returns in the child."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        import uvicorn

        from api.app import create_app

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        config = uvicorn.Config(create_app(settings, embedder), log_level="info", access_log=False)
        uvicorn.Server(config).run(sockets=[sock])
        code = 0
    except BaseException:  # a worker that cannot start says why, then the parent stops the others
        log.exception("worker %d failed", os.getpid())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def register(command: Callable[[str, Any, str], argparse.ArgumentParser]) -> None:
    sp = command("serve", serve, "serve the API and the web page")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument("--api-key", help="enables the write endpoints (or KB_API_KEY)")
    sp.add_argument("--workers", type=int, help="server processes sharing the index files (or KB_SERVE_WORKERS; 1)")
