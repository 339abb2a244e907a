"""Retries, backoff, Retry-After, timeouts and dropped connections, against a real uvicorn
server on 127.0.0.1 that injects the faults (see conftest.py). Waits are read from the
client's INFO log records, so no test depends on wall-clock speed."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

import httpx
import pytest
from model_inference_2024_05_01_preview import _http
from model_inference_2024_05_01_preview import client as client_module
from model_inference_2024_05_01_preview.aio import AsyncModelInferenceClient
from model_inference_2024_05_01_preview.exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)

from tests.client.conftest import Answer, FaultServer

LOGGER = "model_inference_2024_05_01_preview"
KEY = "test-key-0123"


def make(server: FaultServer, **options: Any) -> client_module.ModelInferenceClient:
    options.setdefault("retry_backoff", 0.01)
    options.setdefault("retry_backoff_max", 0.05)
    return client_module.ModelInferenceClient(server.url, api_key=KEY, **options)


def waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The waits the client chose, from its 'retrying ... in %.3fs' records."""
    return [r.args[1] for r in caplog.records  # type: ignore[index, misc]
            if r.name == LOGGER and r.getMessage().startswith("retrying")]


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)


def test_503_then_success(server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script(Answer(status=503))
    with make(server) as client:
        result = client.get_embeddings(input=["a"])
    assert result.data[0].embedding == [0.5, -0.25, 1.0]
    assert len(server.requests) == 2
    assert len(waits(caplog)) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_every_retryable_status_is_retried(server: FaultServer, status: int) -> None:
    server.script(Answer(status=status), Answer(status=status))
    with make(server) as client:
        client.get_embeddings(input=["a"])
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_not_retried(server: FaultServer, status: int) -> None:
    server.script(Answer(status=status))
    with make(server) as client, pytest.raises(APIStatusError) as caught:
        client.get_embeddings(input=["a"])
    assert caught.value.status_code == status
    assert caught.value.attempts == 1
    assert len(server.requests) == 1


def test_backoff_is_exponential_with_jitter(server: FaultServer,
                                             caplog: pytest.LogCaptureFixture) -> None:
    server.script(*[Answer(status=503)] * 4)
    with make(server, max_retries=4, retry_backoff=0.01, retry_backoff_max=0.03) as client:
        client.get_embeddings(input=["a"])
    chosen = waits(caplog)
    assert len(chosen) == 4
    for wait, base in zip(chosen, [0.01, 0.02, 0.03, 0.03], strict=True):  # capped at the max
        assert 0.75 * base <= wait <= base


def test_gives_up_after_max_retries_with_the_last_error(server: FaultServer) -> None:
    server.script(*[Answer(status=503, json={"error": {"code": "Busy", "message": "busy"}})] * 5)
    with make(server, max_retries=2) as client, pytest.raises(InternalServerError) as caught:
        client.get_embeddings(input=["a"])
    assert caught.value.attempts == 3
    assert caught.value.error_code == "Busy"
    assert len(server.requests) == 3


def test_per_call_max_retries(server: FaultServer) -> None:
    server.script(*[Answer(status=503)] * 5)
    with make(server, max_retries=4) as client, pytest.raises(InternalServerError):
        client.get_embeddings(input=["a"], max_retries=0)
    assert len(server.requests) == 1
    server.script(*[Answer(status=503)] * 3)
    with make(server, max_retries=0) as client:
        client.with_options(max_retries=3).get_embeddings(input=["a"])
    assert len(server.requests) == 4


def test_retry_after_seconds_is_honoured(server: FaultServer,
                                         caplog: pytest.LogCaptureFixture) -> None:
    server.script(Answer(status=429, headers={"retry-after": "1"}))
    with make(server, retry_backoff=30) as client:
        client.get_embeddings(input=["a"])
    assert waits(caplog) == [1.0]


def test_retry_after_ms_wins(server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script(Answer(status=429, headers={"retry-after-ms": "25", "retry-after": "30"}))
    with make(server, retry_backoff=30) as client:
        client.get_embeddings(input=["a"])
    assert waits(caplog) == [0.025]


def test_retry_after_http_date(server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    past = email.utils.formatdate(time.time() - 10, usegmt=True)
    server.script(Answer(status=503, headers={"retry-after": past}))
    with make(server, retry_backoff=30) as client:
        client.get_embeddings(input=["a"])
    assert waits(caplog) == [0.0]


def test_retry_after_parsing() -> None:
    parse = _http._retry_after
    soon = email.utils.formatdate(time.time() + 120, usegmt=True)
    assert 100 < parse(httpx.Headers({"retry-after": soon})) <= 120  # type: ignore[operator]
    assert parse(httpx.Headers({"retry-after": "7"})) == 7.0
    assert parse(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert parse(httpx.Headers({"retry-after-ms": "soon", "retry-after": "2"})) == 2.0
    for bad in ("-1", "nan", "inf", "tomorrow", ""):
        assert parse(httpx.Headers({"retry-after": bad})) is None


def test_a_long_retry_after_is_not_waited_for(server: FaultServer) -> None:
    server.script(Answer(status=429, headers={"retry-after": "3600"}))
    with make(server) as client, pytest.raises(RateLimitError) as caught:
        client.get_embeddings(input=["a"])
    assert caught.value.retry_after == 3600.0
    assert caught.value.attempts == 1
    assert len(server.requests) == 1


def test_dropped_connection_then_success(server: FaultServer) -> None:
    server.script(Answer(drop=True), Answer(drop=True))
    with make(server) as client:
        assert client.get_embeddings(input=["a"]).model == "test-model"
    assert len(server.requests) == 3


def test_dropped_connections_exhaust_retries(server: FaultServer) -> None:
    server.script(*[Answer(drop=True)] * 3)
    with make(server, max_retries=2) as client, pytest.raises(APIConnectionError) as caught:
        client.get_embeddings(input=["a"])
    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.attempts == 3
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert caught.value.request is not None
    assert caught.value.request.headers["api-key"] == "REDACTED"


def test_connection_refused() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (client_module.ModelInferenceClient(f"http://127.0.0.1:{port}", max_retries=1,
                                             retry_backoff=0.01) as client,
          pytest.raises(APIConnectionError) as caught):
        client.get_embeddings(input=["a"])
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.attempts == 2


class _ShortReads(httpx.HTTPTransport):
    """Gives the attempts numbered in `short` (from 1) a 0.2 s read timeout: the slow answers
    time out quickly, while the others keep the client's long timeout, so that a loaded
    machine cannot make an attempt that should succeed time out."""

    def __init__(self, *short: int) -> None:
        super().__init__()
        self.short = short
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count in self.short:
            request.extensions["timeout"] = {**request.extensions["timeout"], "read": 0.2}
        return super().handle_request(request)


class _AsyncShortReads(httpx.AsyncHTTPTransport):
    """_ShortReads for the async client."""

    def __init__(self, *short: int) -> None:
        super().__init__()
        self.short = short
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count in self.short:
            request.extensions["timeout"] = {**request.extensions["timeout"], "read": 0.2}
        return await super().handle_async_request(request)


def test_slow_answer_times_out_then_retry_succeeds(server: FaultServer) -> None:
    server.script(Answer(delay=30))  # far slower than the first attempt's 0.2 s
    with httpx.Client(transport=_ShortReads(1), timeout=30) as http_client, \
            make(server, http_client=http_client) as client:
        assert client.get_embeddings(input=["a"]).model == "test-model"
    assert len(server.requests) == 2


def test_per_call_timeout(server: FaultServer) -> None:
    server.script(Answer(delay=5))
    with make(server, max_retries=0) as client, pytest.raises(APITimeoutError):
        client.get_embeddings(input=["a"], timeout=0.2)


def test_total_timeout_bounds_the_whole_call(server: FaultServer) -> None:
    server.script(*[Answer(delay=5)] * 20)
    started = time.monotonic()
    with make(server, max_retries=10, timeout=30) as client, pytest.raises(APITimeoutError) as caught:
        client.get_embeddings(input=["a"], total_timeout=0.5)
    # each attempt's timeout is cut to the budget left, so the call ends near 0.5 s, far
    # below one 30 s attempt (the bound is loose on purpose: this is no speed test)
    assert time.monotonic() - started < 5
    assert caught.value.attempts >= 1


def test_total_timeout_stops_waiting_for_retry_after(server: FaultServer) -> None:
    server.script(Answer(status=503, headers={"retry-after": "20"}))
    with make(server, total_timeout=2.0) as client, pytest.raises(InternalServerError) as caught:
        client.get_embeddings(input=["a"])
    assert caught.value.retry_after == 20.0
    assert len(server.requests) == 1


def test_same_client_request_id_on_every_retry(server: FaultServer) -> None:
    server.script(Answer(status=503), Answer(drop=True))
    with make(server) as client:
        client.get_embeddings(input=["a"])
        client.get_embeddings(input=["b"])
    ids = [r.headers["x-ms-client-request-id"] for r in server.requests]
    assert len(ids) == 4 and ids[0] == ids[1] == ids[2] != ids[3]


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        client_module.ModelInferenceClient("http://127.0.0.1:1", max_retries=-1)
    with pytest.raises(ValueError, match="total_timeout"):
        client_module.ModelInferenceClient("http://127.0.0.1:1", total_timeout=0)


def test_async_client_retries_the_same_way(server: FaultServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    server.script(Answer(status=429, headers={"retry-after-ms": "10"}), Answer(drop=True),
                  Answer(delay=30), Answer(status=400, json={"error": {"code": "Bad", "message": "no"}}))

    async def run() -> None:
        # Only the third attempt (the slow answer) gets a short read timeout.
        async with httpx.AsyncClient(transport=_AsyncShortReads(3), timeout=30) as http_client, \
                AsyncModelInferenceClient(
                    server.url, api_key=KEY, retry_backoff=0.01, max_retries=3,
                    http_client=http_client) as client:
            with pytest.raises(BadRequestError) as caught:
                await client.get_embeddings(input=["a"])
            assert caught.value.attempts == 4
            result = await client.get_embeddings(input=["a"])
            assert result.model == "test-model"

    asyncio.run(run())
    assert len(server.requests) == 5
    assert waits(caplog)[0] == 0.01
