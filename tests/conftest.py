"""Shared test helpers: paths, a real uvicorn server on 127.0.0.1, spec building."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
GENERATED = ROOT / "generated"
UPSTREAM = ROOT.parent / "shared" / "upstream"


@contextlib.contextmanager
def serve(app: Any, *, timeout: float = 10.0) -> Iterator[str]:
    """Run an ASGI app under uvicorn on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


@pytest.fixture
def write_spec(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a spec text into tmp_path/spec/<name> and return its path."""

    def _write(text: str, name: str = "api.yaml") -> Path:
        folder = tmp_path / "spec"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@contextlib.contextmanager
def generated_package(spec_text: str, root: Path, file_name: str) -> Iterator[Any]:
    """Generate a package from `spec_text` under `root`, import it, and forget it afterwards."""
    import importlib
    import sys

    from generator.cli import build_api
    from generator.render import render
    from generator.write import write

    spec = root / "spec" / file_name
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(spec_text, encoding="utf-8")
    api, _ = build_api(spec)
    write(render(api), root / "out")
    sys.path.insert(0, str(root / "out"))
    try:
        yield importlib.import_module(api.package)
    finally:
        sys.path.remove(str(root / "out"))
        for name in [n for n in sys.modules if n.split(".")[0] == api.package]:
            del sys.modules[name]
