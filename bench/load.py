"""A bounded loopback load generator: a fixed number of requests, a time limit, 127.0.0.1 only.

    python bench/load.py PORT [--requests 3000] [--connections 16] [--time-limit 60]

Keep-alive HTTP/1.1 over raw asyncio sockets (cheap on the client side, so the server is what
is measured). Every request is the same valid POST /embeddings (4 inputs, 16 dimensions).
Prints one JSON object: requests done, non-2xx count, seconds, req/s, p50 and p99 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

BODY = json.dumps({"input": ["the quick brown fox", "jumps over", "the lazy", "dog"],
                   "dimensions": 16, "encoding_format": "float"}).encode()


def request_bytes(port: int) -> bytes:
    head = (f"POST /embeddings?api-version=2024-05-01-preview HTTP/1.1\r\n"
            f"host: 127.0.0.1:{port}\r\napi-key: bench-key\r\n"
            f"content-type: application/json\r\ncontent-length: {len(BODY)}\r\n\r\n")
    return head.encode() + BODY


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   payload: bytes) -> int:
    """One keep-alive request and its Content-Length answer, read whole; returns the status."""
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def worker(port: int, todo: list[int], latencies: list[float], statuses: dict[int, int],
                 deadline: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = request_bytes(port)
    try:
        while todo and time.monotonic() < deadline:
            todo.pop()
            started = time.perf_counter()
            status = await exchange(reader, writer, payload)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run(port: int, requests: int, connections: int, time_limit: float) -> dict[str, object]:
    todo = list(range(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + time_limit
    started = time.perf_counter()
    await asyncio.gather(*(worker(port, todo, latencies, statuses, deadline)
                           for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"requests": len(latencies), "non_2xx": sum(n for s, n in statuses.items() if s >= 300),
            "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.port, args.requests, args.connections, args.time_limit))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
