"""What a failed call leaves behind: every failure is one of the package's exceptions, no
secret survives in its message, `body` or `error` (even one the service echoed, or one that
straddles the cut of a long text), none in the request it keeps; `retry_after` on every
status error; `total_timeout` a deadline for reading the answer too; setup errors reported
at once, not retried as network errors. Against the fault server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from model_inference_2024_04_01_preview import client as client_0401
from model_inference_2024_04_01_preview import exceptions as exceptions_0401
from model_inference_2024_05_01_preview import client as client_module
from model_inference_2024_05_01_preview import exceptions as exc_module
from model_inference_2024_05_01_preview.aio import AsyncModelInferenceClient
from model_inference_2024_05_01_preview.exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)

from tests.client.conftest import Answer, FaultServer

SECRET = "sk-SECRET/do-not-leak-42"


def make(server: FaultServer, **options: Any) -> client_module.ModelInferenceClient:
    options.setdefault("retry_backoff", 0.01)
    options.setdefault("retry_backoff_max", 0.02)
    return client_module.ModelInferenceClient(server.url, api_key=SECRET, **options)


def texts_of(error: BaseException) -> list[str]:
    """What an error shows or holds, through its whole chain of causes and contexts."""
    found = []
    seen: BaseException | None = error
    while seen is not None:
        found += [str(seen), repr(seen), repr(seen.args), repr(getattr(seen, "doc", "")),
                  repr(getattr(seen, "object", "")), repr(getattr(seen, "body", "")),
                  repr(getattr(seen, "error", ""))]
        request = getattr(seen, "request", None)
        if request is not None:
            found.append(str(request.headers))
        seen = seen.__cause__ or seen.__context__
    return found


def assert_no_secret(error: BaseException) -> None:
    for text in texts_of(error):
        for start in range(len(SECRET) - 7):  # not even 8 characters of it
            assert SECRET[start:start + 8] not in text, text


# ---- 1. secrets out of message, body and error ---------------------------------------------


def test_a_key_straddling_the_cut_of_a_long_text_body(server: FaultServer) -> None:
    text = "x" * 490 + SECRET + "y" * 20  # the key crosses character 500
    server.script(Answer(status=400, raw=text.encode(), headers={"content-type": "text/plain"}))
    with make(server) as client, pytest.raises(BadRequestError) as caught:
        client.get_embeddings(input=["a"])
    assert_no_secret(caught.value)
    assert caught.value.body == "x" * 490 + "REDACTED" + "y" * 20
    assert str(caught.value) == "HTTP 400: " + ("x" * 490 + "REDACTED" + "y" * 20)[:500]


def test_a_key_echoed_in_a_json_error_body(server: FaultServer) -> None:
    server.script(Answer(status=401, json={
        "error": {"code": "BadKey", "message": f"key {SECRET} is not valid"}}))
    with make(server) as client, pytest.raises(AuthenticationError) as caught:
        client.get_embeddings(input=["a"])
    error = caught.value
    assert_no_secret(error)
    assert error.body == {"error": {"code": "BadKey", "message": "key REDACTED is not valid"}}
    assert error.error is not None and error.error.error.message == "key REDACTED is not valid"
    assert error.response.request.headers["api-key"] == "REDACTED"
    # the raw response stays as received, and the module says so
    assert SECRET in error.response.text
    assert "The raw `response` stays as received" in " ".join((exc_module.__doc__ or "").split())


@pytest.mark.parametrize("escaped", [SECRET.replace("/", "\\/"),
                                     "".join(f"\\u{ord(c):04x}" for c in SECRET)])
def test_a_key_echoed_in_json_escapes(server: FaultServer, escaped: str) -> None:
    raw = '{"error": {"code": "BadKey", "message": "key ' + escaped + '"}}'
    server.script(Answer(status=403, raw=raw.encode(), headers={"content-type": "application/json"}))
    with make(server) as client, pytest.raises(APIStatusError) as caught:
        client.get_embeddings(input=["a"])
    assert_no_secret(caught.value)
    assert caught.value.body == {"error": {"code": "BadKey", "message": "key REDACTED"}}


def test_a_bearer_key_echoed_with_its_scheme(server: FaultServer) -> None:
    # 2024-04-01-preview sends the key as `Authorization: Bearer <key>`
    server.script(Answer(status=400, json={"error": "Bad", "message": f"Bearer {SECRET}",
                                           "status": 400}))
    with (client_0401.ModelInferenceClient(server.url, api_key=SECRET, max_retries=0) as client,
          pytest.raises(exceptions_0401.APIStatusError) as caught):
        client.get_image_embeddings(input=[{"image": "x"}])
    assert_no_secret(caught.value)
    assert caught.value.response.request.headers["authorization"] == "REDACTED"


# ---- 2. every failure wrapped, the request blanked -----------------------------------------


def test_a_success_answer_that_is_not_json(server: FaultServer) -> None:
    server.script(Answer(raw=f"<html>upstream echoed {SECRET}</html>".encode(),
                         headers={"content-type": "text/html"}))
    with make(server) as client, pytest.raises(APIResponseValidationError) as caught:
        client.get_embeddings(input=["a"])
    error = caught.value
    assert isinstance(error, APIError) and not isinstance(error, APIStatusError)
    assert error.status_code == 200 and error.attempts == 1
    assert "not JSON" in str(error)
    assert error.body == "<html>upstream echoed REDACTED</html>"
    assert error.response.request.headers["api-key"] == "REDACTED"
    assert_no_secret(error)
    assert len(server.requests) == 1  # not retried


def test_a_success_answer_that_does_not_match_the_schema(server: FaultServer) -> None:
    server.script(Answer(json={"id": SECRET}))
    with make(server) as client:
        with pytest.raises(APIResponseValidationError, match="does not match") as caught:
            client.get_embeddings(input=["a"])
        assert caught.value.body == {"id": "REDACTED"}
        assert_no_secret(caught.value)
        server.script(Answer(raw=b"not json"))
        raw = client.with_raw_response.get_embeddings(input=["a"])
        assert raw.status_code == 200
        with pytest.raises(APIResponseValidationError):
            raw.parse()
        assert raw.http_response.request.headers["api-key"] == "REDACTED"


def test_a_broken_content_encoding(server: FaultServer) -> None:
    server.script(Answer(raw=b"this is not gzip", headers={"content-encoding": "gzip",
                                                           "content-type": "application/json"}))
    with make(server) as client, pytest.raises(APIResponseValidationError) as caught:
        client.get_embeddings(input=["a"])
    assert "DecodingError" in str(caught.value)
    assert caught.value.response.request.headers["api-key"] == "REDACTED"
    assert_no_secret(caught.value)
    assert len(server.requests) == 1
    # on an error status it is still that status's error, retried as such
    broken = Answer(status=503, raw=b"nope", headers={"content-encoding": "gzip"})
    server.script(broken, broken)
    with make(server, max_retries=1) as client, pytest.raises(InternalServerError) as caught_503:
        client.get_embeddings(input=["a"])
    assert caught_503.value.body is None and caught_503.value.attempts == 2
    assert "could not be read" in str(caught_503.value)


def test_async_failures_are_wrapped_too(server: FaultServer) -> None:
    server.script(Answer(raw=b"this is not gzip", headers={"content-encoding": "gzip"}),
                  Answer(raw=f"oops {SECRET}".encode()))

    async def run() -> list[APIResponseValidationError]:
        found = []
        async with AsyncModelInferenceClient(server.url, api_key=SECRET) as client:
            for _ in range(2):
                with pytest.raises(APIResponseValidationError) as caught:
                    await client.get_embeddings(input=["a"])
                found.append(caught.value)
        return found

    for error in asyncio.run(run()):
        assert error.response.request.headers["api-key"] == "REDACTED"
        assert_no_secret(error)
    assert len(server.requests) == 2


# ---- 3. total_timeout bounds reading the answer --------------------------------------------


def test_total_timeout_bounds_a_trickling_answer(server: FaultServer) -> None:
    server.script(Answer(trickle=3.0))  # the whole body takes 3 s to arrive
    started = time.monotonic()
    with make(server, timeout=30, max_retries=0) as client, pytest.raises(APITimeoutError):
        client.get_embeddings(input=["a"], total_timeout=1.0)
    assert time.monotonic() - started < 1.0 + 1.5  # an upper bound only, generous on purpose


def test_total_timeout_bounds_a_trickling_answer_async(server: FaultServer) -> None:
    server.script(Answer(trickle=3.0))

    async def run() -> None:
        async with AsyncModelInferenceClient(
                server.url, api_key=SECRET, timeout=30, max_retries=0, total_timeout=1.0) as client:
            with pytest.raises(APITimeoutError) as caught:
                await client.get_embeddings(input=["a"])
            assert caught.value.request is not None
            assert caught.value.request.headers["api-key"] == "REDACTED"

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started < 1.0 + 1.5


def test_a_trickling_answer_within_the_budget_succeeds(server: FaultServer) -> None:
    server.script(Answer(trickle=0.3))
    with make(server, total_timeout=20) as client:
        assert client.get_embeddings(input=["a"]).model == "test-model"


# ---- 4. retry_after on every status error --------------------------------------------------


def test_retry_after_when_retries_are_exhausted_or_off(server: FaultServer) -> None:
    server.script(Answer(status=429, headers={"retry-after": "2"}))
    with make(server, max_retries=0) as client, pytest.raises(RateLimitError) as caught:
        client.get_embeddings(input=["a"])
    assert caught.value.retry_after == 2.0
    server.script(*[Answer(status=503, headers={"retry-after-ms": "10"})] * 3)
    with make(server, max_retries=2) as client, pytest.raises(InternalServerError) as caught_503:
        client.get_embeddings(input=["a"])
    assert caught_503.value.attempts == 3 and caught_503.value.retry_after == 0.01
    server.script(Answer(status=400, headers={"retry-after": "5"}))
    with make(server) as client, pytest.raises(BadRequestError) as caught_400:
        client.get_embeddings(input=["a"])
    assert caught_400.value.retry_after == 5.0


# ---- 6. setup errors: at once, with their cause --------------------------------------------


@pytest.mark.parametrize(("endpoint", "problem"), [
    ("127.0.0.1:8000/models", "no scheme"),
    ("example.services.ai.azure.com/models", "no scheme"),
    ("ftp://example.test/models", "scheme 'ftp'"),
    ("https:///models", "no host"),
    ("https://example.test:99999/models", "Port out of range"),
    ("", "empty"),
])
def test_the_endpoint_is_validated(endpoint: str, problem: str) -> None:
    for cls in (client_module.ModelInferenceClient, AsyncModelInferenceClient):
        with pytest.raises(ValueError, match="http:// or https://") as caught:
            cls(endpoint, api_key=SECRET)
        assert problem in str(caught.value)


def test_a_request_httpx_will_not_send_is_not_retried(server: FaultServer) -> None:
    with make(server, max_retries=3) as client, pytest.raises(APIConnectionError) as caught:
        client.get_embeddings(input=["a"], extra_headers={"x-bad": "line\r\nbreak"})
    assert caught.value.attempts == 1
    assert "LocalProtocolError" in str(caught.value)
    assert caught.value.request is not None
    assert caught.value.request.headers["api-key"] == "REDACTED"
    assert server.requests == []


def test_keys_that_cannot_be_a_header_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="printable ASCII") as caught:
        client_module.ModelInferenceClient("https://example.test", api_key=SECRET + "\n")
    assert SECRET not in str(caught.value)
