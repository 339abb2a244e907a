"""What only a real HTTP server shows: sizes on a socket, and the demo as `make serve` runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from model_inference_2024_05_01_preview import create_app

from examples.demo_service import DemoService, text_seed, vector
from tests.conftest import GENERATED, ROOT, serve
from tests.server.spec_schemas import response_errors

VERSION = "2024-05-01-preview"
KEY = "k-uvicorn"
LIMIT = 4096


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(create_app(DemoService(), api_keys=[KEY], max_body_bytes=LIMIT)) as base:
        yield base


def raw_exchange(base: str, head: bytes, body_parts: list[bytes], timeout: float = 5.0) -> bytes:
    """Send a request by hand on a socket, stopping early if the server answers; return the
    answer's bytes (the server may close the connection without reading what we sent)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head)
        answer = b""
        for part in body_parts:
            sock.setblocking(False)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            sock.setblocking(True)
            if answer:
                break
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in answer or not _complete(answer):
            if time.monotonic() > deadline:
                break
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            answer += chunk
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def _head(length: str, chunked: bool = False) -> bytes:
    framing = "transfer-encoding: chunked" if chunked else f"content-length: {length}"
    return (f"POST /embeddings?api-version={VERSION} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            f"api-key: {KEY}\r\ncontent-type: application/json\r\n{framing}\r\n\r\n").encode()


def test_declared_length_over_the_limit_is_answered_without_the_body(url: str) -> None:
    """1 GB announced, 10 bytes sent: the answer comes at once, the rest is never awaited."""
    started = time.monotonic()
    answer = raw_exchange(url, _head("1000000000") + b'{"input":[', [])
    assert time.monotonic() - started < 4.0
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"x-ms-error-code: PayloadTooLarge" in answer
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "PayloadTooLarge"


def test_chunked_body_over_the_limit_is_413(url: str) -> None:
    chunk = b"a" * 1024
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(64)] + [b"0\r\n\r\n"]
    answer = raw_exchange(url, _head("", chunked=True) + b'4\r\n{"in\r\n', parts)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"\r\nx-ms-error-code: PayloadTooLarge\r\n" in head + b"\r\n", head
    assert b"\r\ncontent-type: application/json\r\n" in head + b"\r\n", head
    payload = json.loads(body)
    assert response_errors(VERSION, "/embeddings", 413, payload) == []
    assert payload["error"]["code"] == "PayloadTooLarge"


def test_body_just_under_the_limit_is_served(url: str) -> None:
    text = "word " * ((LIMIT - 100) // 5)
    response = httpx.post(f"{url}/embeddings", params={"api-version": VERSION},
                          headers={"api-key": KEY}, json={"input": [text], "dimensions": 4})
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["embedding"] == vector(text_seed(text), 4)


def test_make_serve_runs_the_demo_on_loopback() -> None:
    """The command the Makefile's `serve` target runs, with its PORT and API_KEY variables."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "API_KEY": "serve-key",
           "PYTHONPATH": os.pathsep.join([str(GENERATED), str(ROOT)])}
    process = subprocess.Popen([sys.executable, "examples/demo_service.py"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.post(f"{base}/embeddings", params={"api-version": VERSION},
                                      headers={"authorization": "Bearer serve-key"},
                                      json={"input": ["hi"], "dimensions": 3}, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200, response.text
        assert response.json()["data"][0]["embedding"] == vector(text_seed("hi"), 3)
        denied = httpx.post(f"{base}/embeddings", params={"api-version": VERSION},
                            headers={"api-key": "demo-key"}, json={"input": ["hi"]})
        assert denied.status_code == 401
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
