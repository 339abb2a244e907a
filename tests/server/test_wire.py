"""The generated server behind a real ASGI server process on 127.0.0.1, attacked and faulted
on the wire: slow clients (slowloris), stalled bodies, request smuggling, lower-case methods,
early answers to unread bodies, clients that go away, hung services, a 2,048 x 3,072 answer.

Mostly under granian, the server `make serve` and the README recommend (bench/README.md has
the measurements that chose it); the log-noise check also under uvicorn. Every probe is
bounded in connections, bytes and seconds (bench/wire.py). Timing bounds here are loose, for
a shared machine; `make bench` holds the 50 ms p99 targets.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from bench import wire
from bench.wire_app import BIG_DIMENSIONS, BIG_ROWS, CANCELLED
from tests.conftest import ROOT
from tests.server.spec_schemas import response_errors

VERSION = wire.API_VERSION
APP = "bench.wire_app:app"


@pytest.fixture(scope="module")
def granian() -> Iterator[wire.ServerProcess]:
    with wire.ServerProcess("granian", APP, cwd=ROOT, factory=True) as server:
        yield server


def post(port: int, body: bytes, *, extra: str = "",
         timeout: float = 10.0) -> tuple[int, dict[str, str], bytearray]:
    return wire.exchange(port, body, extra=extra, timeout=timeout)


def documented(status: int, body: bytes, code: str) -> dict[str, object]:
    payload: dict[str, object] = json.loads(body)
    assert response_errors(VERSION, "/embeddings", status, payload) == []
    assert payload["error"]["code"] == code  # type: ignore[index]
    return payload


def wait_for_log(server: wire.ServerProcess, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in server.output():
            return True
        time.sleep(0.1)
    return False


# ---- slow clients ------------------------------------------------------------------------


def test_a_head_sent_a_byte_a_second_is_dropped_at_the_header_deadline(
    granian: wire.ServerProcess,
) -> None:
    closed_after = wire.drip_header(granian.port, interval=1.0, limit=wire.HEADER_TIMEOUT + 10)
    assert closed_after is not None, "the server held a dripping head past the deadline"
    assert closed_after < wire.HEADER_TIMEOUT + 3


def test_an_http2_client_gets_no_way_around_the_header_deadline(
    granian: wire.ServerProcess,
) -> None:
    """Under `--http auto` (granian's default) an HTTP/2 preface dripped a byte a second was
    held past 40 s, and a whole one followed by silence too: `--http 1` drops the first at
    the header deadline and refuses the second at once."""
    closed_after = wire.drip_header(granian.port, interval=1.0, limit=wire.HEADER_TIMEOUT + 10,
                                    head=wire.HTTP2_PREFACE)
    assert closed_after is not None, "the server held a dripping HTTP/2 preface"
    assert closed_after < wire.HEADER_TIMEOUT + 3
    empty_settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    _, closed = wire.raw_answer(granian.port, wire.HTTP2_PREFACE + empty_settings)
    assert closed


def _commands(text: str) -> list[str]:
    """Each granian command line in `text` (shell, make or a Dockerfile's JSON CMD), as words
    separated by single spaces."""
    words = " ".join(text.replace("\\\n", " ").translate(str.maketrans('",[]', "    ")).split())
    return [" ".join(part.split("--factory")[0].split()) for part in words.split("granian ")[1:]
            if part.startswith(("--", "$("))]


def test_make_serve_and_the_readme_run_granian_as_tested() -> None:
    """The Makefile's serve targets, the README's command and container recipe, and the
    examples' main() give granian the options this suite and `make bench` run it with."""
    makefile = (ROOT / "Makefile").read_text()
    options = " ".join(wire.GRANIAN_OPTIONS)
    assert f"GRANIAN_OPTIONS = {options}\n" in makefile
    serve_targets = [c for c in _commands(makefile) if "$(GRANIAN_OPTIONS)" in c]
    assert len(serve_targets) == 2  # serve, serve-model
    readme = (ROOT / "README.md").read_text()
    deployment = readme.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    commands = _commands(deployment)
    assert len(commands) == 2  # the shell command and the container's CMD
    for command in commands:
        assert command.startswith(options), command
    for example in ("demo_service.py", "model_service.py"):
        source = (ROOT / "examples" / example).read_text()
        assert "http=HTTPModes.http1, loop=Loops.uvloop" in source
        assert f"header_read_timeout={wire.HEADER_TIMEOUT * 1000}" in source


def test_300_slowloris_connections_are_dropped_and_good_requests_still_served(
    granian: wire.ServerProcess,
) -> None:
    result = asyncio.run(wire.slowloris(granian.port, connections=300, seconds=9.0,
                                        interval=2.0, rate=20.0))
    assert result["failures"] == 0, result
    assert result["good_requests"] >= 100, result
    assert result["slow_dropped"] == 300, result
    assert result["slowest_drop_s"] is not None and result["slowest_drop_s"] < wire.HEADER_TIMEOUT + 3
    assert result["p99_ms"] < 250, result  # make bench holds the 50 ms target


def test_a_stalled_body_is_answered_408_and_closed(granian: wire.ServerProcess) -> None:
    gave_up, statuses = wire.stall_body(granian.port, limit=10.0)
    assert statuses == [408]
    assert gave_up is not None and gave_up < 6


# ---- protocol safety ---------------------------------------------------------------------


def test_smuggling_is_refused_and_the_connection_closed(granian: wire.ServerProcess) -> None:
    statuses, closed = wire.smuggle(granian.port)
    assert statuses == [400]  # and the request hidden behind it is never answered
    assert closed


@pytest.mark.parametrize("method", ["post", "Post"])
def test_a_lower_case_method_is_not_served(granian: wire.ServerProcess, method: str) -> None:
    data, _ = wire.raw_answer(granian.port, wire.request_head(method=method) + b"{}")
    _, _, body = data.partition(b"\r\n\r\n")
    assert wire.statuses(data) == [405]
    documented(405, body, "MethodNotAllowed")


@pytest.mark.parametrize("server", ["granian", "uvicorn-h11", "uvicorn"])
def test_early_answers_to_unread_bodies_leave_no_traceback(server: str) -> None:
    with wire.ServerProcess(server, APP, cwd=ROOT, factory=True) as srv:
        for _ in range(20):
            statuses, closed = wire.early_answer_unread_body(srv.port)
            assert statuses == [401]
            assert closed
        status, _, _ = post(srv.port, b'{"input":["still fine"]}')
        assert status == 200
        time.sleep(0.3)
        log = srv.output()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-2000:]


# ---- faults from the service -------------------------------------------------------------


def test_a_client_that_goes_away_cancels_its_service_call(granian: wire.ServerProcess) -> None:
    body = b'{"input":["hang"]}'
    head = wire.request_head(framing=f"content-length: {len(body)}",
                             extra="x-ms-client-request-id: gone-away-1")
    with wire.connect(granian.port) as sock:
        sock.sendall(head + body)
        time.sleep(0.5)
    assert wait_for_log(granian, f"{CANCELLED} gone-away-1", 2.5), granian.output()[-2000:]


def test_a_hung_service_is_answered_504_in_the_documented_shape(
    granian: wire.ServerProcess,
) -> None:
    started = time.monotonic()
    status, headers, body = post(granian.port, b'{"input":["hang"]}',
                                 extra="x-ms-client-request-id: hung-1")
    assert status == 504
    assert time.monotonic() - started < 8
    documented(504, body, "Timeout")
    assert headers["x-ms-error-code"] == "Timeout"
    assert wait_for_log(granian, f"{CANCELLED} hung-1", 2)


def test_small_requests_are_not_held_up_by_a_big_answer(granian: wire.ServerProcess) -> None:
    result = wire.during_big_answer(granian.port)
    assert result["big_status"] == 200, result
    assert result["small_non_200"] == 0, result
    assert result["small_requests"] >= 10, result
    # Before, every request waited for the whole answer (8.5 s). make bench holds the 50 ms
    # target; here the bound leaves room for a machine shared with other work (p99 100-300 ms
    # seen at load 8-12 on 2 cores).
    assert result["p99_ms"] < 1000, result
    status, _, body = post(granian.port, b'{"input":["big"]}', timeout=120)
    assert status == 200
    answer = json.loads(body)
    assert len(answer["data"]) == BIG_ROWS
    assert len(answer["data"][-1]["embedding"]) == BIG_DIMENSIONS


# ---- operator ----------------------------------------------------------------------------


def test_operator_endpoints_on_a_real_server(granian: wire.ServerProcess) -> None:
    for path, status in (("/health/live", 200), ("/health/ready", 200), ("/openapi.json", 200),
                         ("/metrics", 200)):
        request = f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
        data, _ = wire.raw_answer(granian.port, request.encode())
        assert wire.statuses(data) == [status], (path, data[:200])
    data, _ = wire.raw_answer(granian.port, b"GET /metrics HTTP/1.1\r\nhost: x\r\n"
                              b"connection: close\r\n\r\n")
    assert b'http_server_requests_total{api_version="2024-05-01-preview"' in data
    assert wire.API_KEY.encode() not in granian.output().encode()  # no key in the log


def test_malformed_http_never_reaches_the_app(granian: wire.ServerProcess) -> None:
    data, closed = wire.raw_answer(granian.port, b"GARBAGE\r\n\r\n")
    assert wire.statuses(data) == [400]  # the server's own answer: the app never sees it
    assert closed
