"""The apps of bench/apps.py driven in-process (no server, no socket), to see what one request
costs the app itself and where it goes.

    python bench/server_profile.py [APP ...] [--requests 20000] [--profile APP]

Each request is bench/load.py's (the same head and body), handed to the app through the
cheapest receive/send that ASGI allows; the figure is the app's CPU time per request
(median of 5 batches), with the floor app's as the baseline. `--profile APP` prints
cProfile's top functions for one app.

Read its figures as a lower bound: here one request follows another in a tight loop, with
the app's code and data hot in the caches. Under a real server the same code runs between
the server's own and the kernel's, and costs more. Measured at 15:13 on 2026-11-30 (load
1.2-1.5; thread CPU time around the app under uvicorn, 8,300 requests): the floor's own code
8-10 us against 3.6 here, the generated app's 62 against 39-43; and the server's send and
receive cost the generated app 33 us against the floor's 20-26 (the same two messages, the
same headers: the client, waiting longer, is woken on more writes; 0.8 involuntary context
switches per request against 0.1). Neither app creates a task, makes a GC pass (10 per 6,300
requests, 2.7 ms in all) or sends or receives more than the floor: 1 receive, 2 sends, 3
headers. So each microsecond cut here is worth about 1.5-2 on the wire.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from load import BODY

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/embeddings",
    "raw_path": b"/embeddings",
    "query_string": b"api-version=2024-05-01-preview",
    "root_path": "",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"api-key", b"bench-key"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
REQUEST = {"type": "http.request", "body": BODY, "more_body": False}


async def _startup(app: Any) -> asyncio.Queue[dict[str, Any]]:
    """Run the lifespan startup, as a server does; the queue takes the shutdown."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    await queue.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    asyncio.get_running_loop().create_task(app({"type": "lifespan"}, queue.get, send))
    await asyncio.wait_for(started.wait(), 10)
    return queue


async def _run(app: Any, count: int) -> float:
    """CPU seconds for `count` requests, one after another, each checked to be a 200."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return REQUEST

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(count):
        await app(dict(SCOPE), receive, send)
    spent = time.process_time() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"answers other than 200: {sorted(set(statuses))}")
    return spent


async def measure(name: str, requests: int, profile: bool = False) -> float:
    apps = importlib.import_module("apps")
    app = getattr(apps, name)
    lifespan = await _startup(app)
    await _run(app, 500)  # warm-up
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await _run(app, requests)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    batches = [await _run(app, requests // 5) / (requests // 5) for _ in range(5)]
    await lifespan.put({"type": "lifespan.shutdown"})
    await asyncio.sleep(0.01)
    return statistics.median(batches) * 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("apps", nargs="*", default=[
        "floor_app", "generated_app", "generated_observed_app", "generated_unchecked_app",
        "fastapi_app", "fastapi_unchecked_app", "fastapi_observed_app"])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--profile", default="")
    args = parser.parse_args(argv)
    if args.profile:
        asyncio.run(measure(args.profile, args.requests, profile=True))
        return 0
    for name in args.apps:
        us = asyncio.run(measure(name, args.requests))
        print(f"{name:28} {us:7.1f} us/request")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
