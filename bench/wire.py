"""What an ASGI server does with slow, hostile or broken HTTP/1.1 on the wire: raw-socket
probes against a server process on 127.0.0.1, each bounded in bytes and seconds.

    python bench/wire.py [uvicorn hypercorn granian]     # prints one JSON line per server

Used by `make bench` (the server comparison) and by tests/server/test_wire.py (the chosen
server, as `make serve` runs it). Servers are launched by `ServerProcess` with the options
this project recommends for each (the README's deployment section).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
API_VERSION = "2024-05-01-preview"
API_KEY = "bench-key"
#: The header read deadline given to every server that has one (seconds).
HEADER_TIMEOUT = 5
#: Seconds a server may hold an idle keep-alive connection.
KEEP_ALIVE = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: granian's options as the README's Deployment section, `make serve` and the container recipe
#: give them (tests/server/test_wire.py holds them to it). HTTP/1.1 only: under granian's
#: default `--http auto`, a client opening HTTP/2 by prior knowledge escapes the header read
#: timeout (an HTTP/1 setting): a dripped preface was still held after 40 s, an idle HTTP/2
#: connection after 40 s; with `--http 1` the first is dropped at the deadline, the second
#: refused at once. No other option of granian 2.8.9 made any app cheaper per request
#: (runtime mode, threads, backpressure, buffer size, websockets off: bench/README.md).
GRANIAN_OPTIONS = ("--interface", "asgi", "--http", "1", "--loop", "uvloop",
                   "--http1-header-read-timeout", str(HEADER_TIMEOUT * 1000))


def server_command(server: str, app: str, port: int, *, workers: int = 1, factory: bool = False,
                   python: str = sys.executable) -> list[str]:
    """The command line that serves `app` ("module:attribute", importable from the working
    directory or PYTHONPATH; with `factory`, a function returning the app) with `server`, its
    timeouts set as recommended."""
    if server in ("uvicorn", "uvicorn-h11"):
        # uvicorn has no header or body read timeout: only the keep-alive idle one.
        parser = (["--http", "httptools", "--loop", "uvloop"] if server == "uvicorn"
                  else ["--http", "h11"])
        return [python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                *parser, "--no-access-log", "--log-level", "warning",
                "--timeout-keep-alive", str(KEEP_ALIVE), "--workers", str(workers),
                *(["--factory"] if factory else [])]
    if server == "hypercorn":
        # --read-timeout bounds each socket read, not the whole head. hypercorn evaluates
        # the attribute in the module's namespace, which a module __getattr__ does not serve.
        module, _, attribute = app.partition(":")
        target = f"{attribute}()" if factory else f"__getattr__({attribute!r})"
        return [python, "-m", "hypercorn", f"{module}:{target}", "--bind", f"127.0.0.1:{port}",
                "--worker-class", "uvloop", "--read-timeout", str(HEADER_TIMEOUT),
                "--keep-alive", str(KEEP_ALIVE), "--log-level", "warning",
                "--workers", str(workers)]
    if server == "granian":
        return [python, "-m", "granian", *GRANIAN_OPTIONS, "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                *(["--factory"] if factory else []), app]
    raise ValueError(f"unknown server {server!r}")


class ServerProcess:
    """`app` under `server` in its own process on 127.0.0.1; stderr kept in a file."""

    def __init__(self, server: str, app: str, *, cwd: Path = BENCH,
                 env: dict[str, str] | None = None, workers: int = 1, factory: bool = False,
                 python: str = sys.executable) -> None:
        self.server = server
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"{server}-", suffix=".log", delete=False)
        environment = {**os.environ, **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(cwd), str(ROOT / "generated"), str(ROOT), environment.get("PYTHONPATH", "")])
        self.process = subprocess.Popen(
            server_command(server, app, self.port, workers=workers, factory=factory,
                           python=python),
            cwd=cwd, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{server} exited: {self.output()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{server} did not start {app}: {self.output()[-2000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the server and every process below it
        (granian and hypercorn serve from worker processes): on a shared machine, a steadier
        measure of an app's cost than wall-clock throughput."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError, IndexError):
                continue
        return total

    def output(self) -> str:
        return Path(self.log.name).read_text("utf-8", "replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def request_head(method: str = "POST", path: str = f"/embeddings?api-version={API_VERSION}",
                 key: str | None = API_KEY, framing: str = "content-length: 2",
                 extra: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
    if key is not None:
        lines.append(f"api-key: {key}")
    lines += ["content-type: application/json", *filter(None, [framing, extra])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


GOOD_BODY = json.dumps({"input": ["hello"], "dimensions": 4}).encode()


@contextlib.contextmanager
def connect(port: int, timeout: float = 5.0) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        yield sock
    finally:
        sock.close()


def read_all(sock: socket.socket, seconds: float) -> tuple[bytes, bool]:
    """Everything the server sends within `seconds`, and whether it closed the connection."""
    data = b""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk


def statuses(data: bytes) -> list[int]:
    """The status codes of the HTTP/1.1 responses in `data`, in order."""
    found = []
    for line in data.split(b"\r\n"):
        if line.startswith(b"HTTP/1.") and len(line) >= 12 and line[9:12].isdigit():
            found.append(int(line[9:12]))
    return found


#: What an HTTP/2 client opening by prior knowledge sends first (RFC 9113 §3.4).
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def drip_header(port: int, interval: float, limit: float,
                head: bytes | None = None) -> float | None:
    """Send a request head (or `head`) one byte every `interval` seconds; the seconds after
    which the server closed the connection (or answered), or None if it still held it after
    `limit`."""
    head = request_head() + b"{}" if head is None else head
    started = time.monotonic()
    with connect(port) as sock:
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return time.monotonic() - started
            _, closed = read_all(sock, interval)
            if closed:
                return time.monotonic() - started
            if time.monotonic() - started > limit:
                return None
    return None


def stall_body(port: int, limit: float) -> tuple[float | None, list[int]]:
    """Send a whole head announcing 100 body bytes, then 10 and nothing more: when the server
    gave up (or None after `limit`), and what it answered."""
    started = time.monotonic()
    with connect(port) as sock:
        sock.sendall(request_head(framing="content-length: 100") + b'{"input": ')
        data, closed = read_all(sock, limit)
    return (time.monotonic() - started if closed or data else None), statuses(data)


def smuggle(port: int) -> tuple[list[int], bool]:
    """A request framed by both Content-Length and Transfer-Encoding, a second request behind
    it: the statuses answered, and whether the server closed the connection (RFC 9112 6.3:
    it must, after answering 400)."""
    body = b"0\r\n\r\n"
    first = request_head(framing=f"content-length: {len(body)}\r\ntransfer-encoding: chunked")
    second = request_head(method="GET", path="/smuggled", framing="content-length: 0")
    with connect(port) as sock:
        sock.sendall(first + body + second)
        data, closed = read_all(sock, 3.0)
    return statuses(data), closed


def raw_answer(port: int, payload: bytes, seconds: float = 3.0) -> tuple[bytes, bool]:
    with connect(port) as sock:
        sock.sendall(payload)
        return read_all(sock, seconds)


def early_answer_unread_body(port: int) -> tuple[list[int], bool]:
    """A request without a key whose chunked body is still coming: the server answers (401)
    before reading it. Returns the statuses and whether the connection was closed."""
    head = request_head(key=None, framing="transfer-encoding: chunked")
    with connect(port) as sock:
        sock.sendall(head + b"10\r\n0123456789abcdef\r\n")
        data, _ = read_all(sock, 1.0)
        with contextlib.suppress(OSError):
            sock.sendall(b"10\r\n0123456789abcdef\r\n0\r\n\r\n")
        more, closed = read_all(sock, 2.0)
    return statuses(data + more), closed


async def _drip_forever(port: int, interval: float, until: float, dropped: list[float],
                       started: float) -> None:
    """One slowloris connection: a head sent a byte at a time, never finished."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    head = request_head()
    try:
        for byte in head[:-1]:
            if time.monotonic() > until:
                return
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if not await asyncio.wait_for(reader.read(1024), interval):
                    dropped.append(time.monotonic() - started)
                    return
            except TimeoutError:
                continue
            dropped.append(time.monotonic() - started)  # answered (408, 400): let go too
            return
    except OSError:
        dropped.append(time.monotonic() - started)
    finally:
        writer.close()


async def _timed_requests(port: int, until: float, rate: float, latencies: list[float],
                          failures: list[str]) -> None:
    """Good requests, one connection each (a new client behind the slow ones), at `rate`/s."""
    body = GOOD_BODY
    payload = request_head(framing=f"content-length: {len(body)}") + body
    while time.monotonic() < until:
        tick = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 5)
            writer.write(payload)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            latencies.append(time.monotonic() - tick)
            if not head.startswith(b"HTTP/1.1 200"):
                failures.append(head[:12].decode("latin-1"))
            writer.close()
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            failures.append(type(exc).__name__)
        await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))


async def slowloris(port: int, connections: int = 300, seconds: float = 12.0,
                    interval: float = 2.0, rate: float = 40.0) -> dict[str, object]:
    """`connections` slow clients dripping a header byte every `interval` seconds while good
    requests arrive at `rate` a second for `seconds`: the good requests' p50/p99 latency and
    failures, and how many slow connections the server dropped (and how soon)."""
    started = time.monotonic()
    until = started + seconds
    dropped: list[float] = []
    latencies: list[float] = []
    failures: list[str] = []
    slow = [asyncio.create_task(_drip_forever(port, interval, until, dropped, started))
            for _ in range(connections)]
    await asyncio.sleep(min(1.0, seconds / 4))  # let the slow clients connect first
    await _timed_requests(port, until, rate, latencies, failures)
    await asyncio.gather(*slow)
    latencies.sort()
    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return {"good_requests": len(latencies), "failures": len(failures),
            "failure_kinds": sorted(set(failures))[:5],
            "p50_ms": quantile(0.5), "p99_ms": quantile(0.99),
            "slow_dropped": len(dropped), "slow_connections": connections,
            "slowest_drop_s": max(dropped) if dropped else None}


def exchange(port: int, body: bytes, *, timeout: float = 10.0, extra: str = "",
             received: threading.Event | None = None) -> tuple[int, dict[str, str], bytearray]:
    """One POST /embeddings on its own connection: (status, headers, body). The body is read
    with the interpreter released while waiting and no growing bytes object (a 100 MB answer
    read that way would hold this process, and its other requests, up): into one buffer when
    its length is given, as a list of pieces joined at the end when chunked. `received` is
    set once the last byte has arrived, before the pieces are joined."""
    head = request_head(framing=f"content-length: {len(body)}", extra=extra)
    with connect(port, timeout) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        raw_head, _, rest = data.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in lines[1:])}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            pieces, tail = [rest], rest[-7:]
            while not tail.endswith(b"\r\n0\r\n\r\n") and tail != b"0\r\n\r\n":
                piece = sock.recv(1 << 20)
                if not piece:
                    break
                pieces.append(piece)
                tail = (tail + piece[-7:])[-7:]
            if received is not None:
                received.set()
            return int(lines[0][9:12]), headers, _dechunk(b"".join(pieces))
        answer = bytearray(int(headers.get("content-length", "0")))
        answer[:len(rest)] = rest
        view, got = memoryview(answer), len(rest)
        while got < len(answer):
            count = sock.recv_into(view[got:])
            if not count:
                break
            got += count
    if received is not None:
        received.set()
    del answer[got:]
    return int(lines[0][9:12]), headers, answer


def _dechunk(raw: bytes) -> bytearray:
    """The payload of a chunked body (RFC 9112 7.1; no extensions or trailers expected)."""
    out = bytearray()
    at = 0
    while True:
        line_end = raw.index(b"\r\n", at)
        size = int(raw[at:line_end].split(b";", 1)[0], 16)
        if size == 0:
            return out
        start = line_end + 2
        out += raw[start:start + size]
        at = start + size + 2


def during_big_answer(port: int, limit: float = 60.0) -> dict[str, object]:
    """Small requests, one after another, while one 2,048 x 3,072 answer is produced and sent
    (bench/wire_app.py answers it to the input "big"): their p50/p99, and the big one's time
    and size."""
    outcome: dict[str, object] = {}
    started = time.perf_counter()
    received = threading.Event()

    def big() -> None:
        try:
            status, _, body = exchange(port, b'{"input":["big"]}', timeout=limit,
                                       received=received)
            outcome.update(status=status, size=len(body))
        finally:
            received.set()

    def timed() -> None:
        received.wait()
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=big)
    clock = threading.Thread(target=timed)
    thread.start()
    clock.start()
    latencies: list[float] = []
    statuses: list[int] = []
    deadline = time.monotonic() + limit
    while not received.is_set() and time.monotonic() < deadline:
        tick = time.perf_counter()
        status, _, _ = exchange(port, b'{"input":["small"],"dimensions":8}')
        latencies.append(time.perf_counter() - tick)
        statuses.append(status)
        time.sleep(0.01)
    thread.join(limit)
    clock.join(limit)
    latencies.sort()

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"small_requests": len(latencies), "small_non_200": sum(s != 200 for s in statuses),
            "p50_ms": quantile(0.5), "p99_ms": quantile(0.99), "big_status": outcome.get("status"),
            "big_bytes": outcome.get("size"), "big_seconds": outcome.get("seconds")}


def probe(server: str, app: str = "apps:generated_app", limit: float = 15.0,
          python: str = sys.executable) -> dict[str, object]:
    """Every probe against one server: what an operator needs to know before deploying it."""
    with ServerProcess(server, app, python=python) as srv:
        port = srv.port
        result: dict[str, object] = {"server": server}
        result["header_drip_closed_after_s"] = drip_header(port, 1.0, limit)
        result["body_stall_closed_after_s"], result["body_stall_statuses"] = stall_body(port, limit)
        result["smuggling_statuses"], result["smuggling_closed"] = smuggle(port)
        data, _ = raw_answer(port, b"GARBAGE\r\n\r\n")
        result["malformed"] = data.split(b"\r\n\r\n", 1)[0][:60].decode("latin-1")
        result["malformed_body"] = data.partition(b"\r\n\r\n")[2][:80].decode("latin-1")
        data, _ = raw_answer(port, request_head(method="post") + b"{}")
        result["lowercase_method_statuses"] = statuses(data)
        result["early_answer_statuses"], result["early_answer_closed"] = early_answer_unread_body(port)
        time.sleep(0.5)
        log = srv.output()
        result["tracebacks_in_log"] = log.count("Traceback")
        result["log_tail"] = log[-300:]
        result["slowloris"] = asyncio.run(slowloris(port, seconds=limit))
    return result


def main(argv: Sequence[str]) -> int:
    for server in argv or ("uvicorn", "hypercorn", "granian"):
        print(json.dumps(probe(server)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
