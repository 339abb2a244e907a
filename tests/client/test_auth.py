"""Auth: api_key, static token, credential (cached, refreshed, scope from the spec), and
secrets kept out of repr, str, exceptions and logs."""

from __future__ import annotations

import asyncio
import logging
import pickle
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from model_inference_2024_04_01_preview import client as client_0401
from model_inference_2024_05_01_preview import client as client_0501
from model_inference_2024_05_01_preview.aio import AsyncModelInferenceClient
from model_inference_2024_05_01_preview.exceptions import APIConnectionError, AuthenticationError

from tests.client.conftest import Answer, FaultServer

SECRET = "sk-SECRET-do-not-leak-42"
TOKEN = "eyJ-token-SECRET-99"


@dataclass(frozen=True)
class AccessToken:  # the shape of azure.core.credentials.AccessToken
    token: str
    expires_on: int


class FakeCredential:
    """Hands out token-1, token-2, ... living `lifetime` seconds; records the scopes asked."""

    def __init__(self, lifetime: float = 3600, fail_after: int | None = None) -> None:
        self.lifetime = lifetime
        self.fail_after = fail_after
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append(scopes)
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise RuntimeError("identity service down")
        return AccessToken(f"{TOKEN}-{len(self.calls)}", int(time.time() + self.lifetime))


class AsyncFakeCredential(FakeCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        await asyncio.sleep(0)
        return FakeCredential.get_token(self, *scopes)


def test_api_key_goes_in_the_spec_header(server: FaultServer) -> None:
    with client_0501.ModelInferenceClient(server.url, api_key=SECRET) as client:
        client.get_embeddings(input=["a"])
    headers = server.requests[0].headers
    assert headers["api-key"] == SECRET
    assert "authorization" not in headers


def test_api_key_as_bearer_when_the_spec_says_authorization(server: FaultServer) -> None:
    # 2024-04-01-preview documents an apiKey scheme named Authorization ("Bearer <key>").
    with client_0401.ModelInferenceClient(server.url, api_key=SECRET) as client:
        client.get_image_embeddings(input=[{"image": "data:image/png;base64,AAAA"}])
        client.get_image_embeddings(input=[{"image": "x"}], extra_headers={})
    assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {SECRET}"] * 2


def test_static_bearer_token(server: FaultServer) -> None:
    with client_0501.ModelInferenceClient(server.url, token=TOKEN) as client:
        client.get_embeddings(input=["a"])
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "api-key" not in server.requests[0].headers


def test_credential_scope_from_the_spec_and_token_cached(server: FaultServer) -> None:
    credential = FakeCredential()
    with client_0501.ModelInferenceClient(server.url, credential=credential) as client:
        for _ in range(3):
            client.get_embeddings(input=["a"])
    assert credential.calls == [("https://ml.azure.com/.default",)]
    assert client_0501.CREDENTIAL_SCOPES == ("https://ml.azure.com/.default",)
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {TOKEN}-1"}


def test_token_refreshed_before_it_expires(server: FaultServer) -> None:
    credential = FakeCredential(lifetime=0)  # expired at once: every call needs a new one
    with client_0501.ModelInferenceClient(server.url, credential=credential) as client:
        client.get_embeddings(input=["a"])
        client.get_embeddings(input=["a"])
    assert [r.headers["authorization"] for r in server.requests] == [
        f"Bearer {TOKEN}-1", f"Bearer {TOKEN}-2"]


def test_failed_refresh_keeps_a_still_valid_token(server: FaultServer) -> None:
    credential = FakeCredential(lifetime=100, fail_after=1)
    with client_0501.ModelInferenceClient(server.url, credential=credential) as client:
        client.get_embeddings(input=["a"])
        assert client._tokens is not None
        client._tokens._refresh_at = 0.0  # as if the refresh point (before expiry) had come
        client.get_embeddings(input=["a"])  # refresh fails; the old token still works
    assert len(credential.calls) == 2
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {TOKEN}-1"}


def test_a_refused_token_is_replaced_once(server: FaultServer) -> None:
    credential = FakeCredential()
    server.script(Answer(status=401), Answer(status=401))
    with (client_0501.ModelInferenceClient(server.url, credential=credential) as client,
          pytest.raises(AuthenticationError)):
        client.get_embeddings(input=["a"])
    assert len(credential.calls) == 2
    assert [r.headers["authorization"] for r in server.requests] == [
        f"Bearer {TOKEN}-1", f"Bearer {TOKEN}-2"]


def test_spec_without_scope_needs_credential_scopes(server: FaultServer) -> None:
    assert client_0401.CREDENTIAL_SCOPES == ()
    with pytest.raises(ValueError, match="credential_scopes"):
        client_0401.ModelInferenceClient(server.url, credential=FakeCredential())
    credential = FakeCredential()
    with client_0401.ModelInferenceClient(server.url, credential=credential,
                                          credential_scopes=["api://x/.default"]) as client:
        client.get_image_embeddings(input=[{"image": "x"}])
    assert credential.calls == [("api://x/.default",)]


def test_async_credential_with_the_async_client(server: FaultServer) -> None:
    credential = AsyncFakeCredential()

    async def run() -> None:
        async with AsyncModelInferenceClient(server.url,
                                                         credential=credential) as client:
            await asyncio.gather(*(client.get_embeddings(input=["a"]) for _ in range(5)))

    asyncio.run(run())
    assert len(credential.calls) == 1  # concurrent calls share one fetch
    assert len(server.requests) == 5
    with pytest.raises(TypeError, match="asynchronous"):
        client_0501.ModelInferenceClient(server.url, credential=AsyncFakeCredential())


def test_only_one_kind_of_auth() -> None:
    with pytest.raises(ValueError, match="at most one"):
        client_0501.ModelInferenceClient("http://127.0.0.1:1", api_key=SECRET, token=TOKEN)
    with pytest.raises(TypeError, match="get_token"):
        client_0501.ModelInferenceClient("http://127.0.0.1:1", credential=object())  # type: ignore[arg-type]


def test_secrets_never_leak(server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # the service echoes the key back in its error message
    server.script(Answer(status=503), Answer(status=401, json={
        "error": {"code": "BadKey", "message": f"key {SECRET} is not valid"}}))
    with client_0501.ModelInferenceClient(server.url, api_key=SECRET, retry_backoff=0.01) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.get_embeddings(input=["a"])
        error = caught.value
        texts = [str(error), repr(error), str(error.args), error.message, repr(client),
                 str(vars(client)), repr(client.with_options(max_retries=1)),
                 str(error.response.request.headers), str(error.response.headers),
                 caplog.text]
        for text in texts:
            assert SECRET not in text, text
        assert "REDACTED" in error.message
        assert error.response.request.headers["api-key"] == "REDACTED"
        with pytest.raises(TypeError):
            pickle.dumps(client._api_key)
    assert server.requests[0].headers["api-key"] == SECRET  # it was sent, though


def test_credential_tokens_never_leak(server: FaultServer,
                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(Answer(drop=True), Answer(drop=True))
    with client_0501.ModelInferenceClient(server.url, credential=FakeCredential(),
                                          max_retries=1, retry_backoff=0.01) as client:
        with pytest.raises(APIConnectionError) as caught:
            client.get_embeddings(input=["a"])
        texts = [str(caught.value), repr(caught.value), repr(client), str(vars(client)),
                 str(caught.value.request.headers if caught.value.request else ""), caplog.text]
    for text in texts:
        assert TOKEN not in text, text


class BlockingCredential(FakeCredential):
    """A synchronous credential whose fetch waits until the event loop has run a coroutine:
    it finishes only if the async client fetches it off the event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.loop_ran = threading.Event()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if not self.loop_ran.wait(3):  # bounded: fails instead of hanging
            raise RuntimeError("the event loop was blocked while the token was fetched")
        return super().get_token(*scopes)


def test_async_client_fetches_a_sync_token_in_a_worker_thread(server: FaultServer) -> None:
    credential = BlockingCredential()

    async def run() -> None:
        async def tick() -> None:
            await asyncio.sleep(0)
            credential.loop_ran.set()

        async with AsyncModelInferenceClient(server.url,
                                                         credential=credential) as client:
            result, _ = await asyncio.gather(client.get_embeddings(input=["a"]), tick())
            assert result.model == "test-model"

    asyncio.run(run())
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}-1"
