"""The generated OpenAI v1 package beside the official openai SDK, over uvicorn on 127.0.0.1:
its client sends what the SDK sends (path, bearer key, JSON body) and reads the same answers
from the one app (embeddings_server); its server answers errors in OpenAI's body, which the
SDK reads into its own exceptions."""

from __future__ import annotations

import array
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai_embeddings_v1 import (
    APIStatusError,
    AuthenticationError,
    OpenAIEmbeddingsClient,
    UnprocessableEntityError,
)

from embeddings_server import create_app
from examples.demo_service import DemoEmbeddings, text_seed, vector
from tests.conftest import serve

KEY = "contract-key"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(create_app(DemoEmbeddings(), api_keys=[KEY])) as base:
        yield base + "/v1"


class Recorder:
    """What each request sent, copied as it left (the generated client blanks its secret
    headers on the request object afterwards)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def _record(self, request: httpx.Request) -> None:
        self.requests.append((request.method, request.url.path, dict(request.headers),
                              request.content))

    def client(self) -> httpx.Client:
        return httpx.Client(event_hooks={"request": [self._record]})


@pytest.mark.parametrize("options", [
    {"input": "one string", "model": "text-embedding-3-small", "encoding_format": "float"},
    {"input": ["a", "b"], "model": "m", "encoding_format": "base64", "dimensions": 7},
    {"input": [1, 2, 3], "model": "m", "encoding_format": "float", "user": "user-1"},
    {"input": [[1, 2], [3]], "model": "m", "encoding_format": "base64"}])
def test_the_generated_client_sends_what_the_sdk_sends_and_reads_the_same(
        url: str, options: dict[str, Any]) -> None:
    ours, theirs = Recorder(), Recorder()
    with ours.client() as http, OpenAIEmbeddingsClient(url, api_key=KEY, http_client=http) as c:
        result = c.create_embedding(**options)
    with theirs.client() as http, openai.OpenAI(base_url=url, api_key=KEY, http_client=http,
                                                max_retries=0) as sdk:
        expected = sdk.embeddings.create(**options)
    [mine], [sdks] = ours.requests, theirs.requests
    assert mine[:2] == sdks[:2] == ("POST", "/v1/embeddings")
    assert mine[2]["authorization"] == sdks[2]["authorization"] == f"Bearer {KEY}"
    assert json.loads(mine[3]) == json.loads(sdks[3])
    # the same answer on the wire (a base64 string the SDK keeps as it is, when asked for)
    assert [item.embedding for item in result.data] == [item.embedding for item in expected.data]
    assert (result.model, result.usage.prompt_tokens) == (expected.model,
                                                          expected.usage.prompt_tokens)
    inputs = options["input"]
    if isinstance(inputs, str):
        first: Any = inputs
    elif isinstance(inputs[0], int):
        first = tuple(inputs)
    else:
        first = inputs[0] if isinstance(inputs[0], str) else tuple(inputs[0])
    want = vector(text_seed(first), options.get("dimensions", 256))
    if options["encoding_format"] == "base64":
        want = array.array("f", want).tolist()
    assert result.vectors(options["encoding_format"])[0] == want


def test_openai_errors_read_alike(url: str) -> None:
    with OpenAIEmbeddingsClient(url, api_key=KEY, max_retries=0) as client, \
            pytest.raises(UnprocessableEntityError) as ours:
        client.create_embedding(input="x", model="m", dimensions=100_000)
    with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0) as sdk, \
            pytest.raises(openai.UnprocessableEntityError) as theirs:
        sdk.embeddings.create(input="x", model="m", dimensions=100_000)
    body = ours.value.response.json()
    assert body["error"] == theirs.value.body  # the SDK keeps the error object as its body
    assert body["error"] == {"message": "dimensions must be 1..4096, not 100000",
                             "type": "invalid_request_error", "param": "dimensions",
                             "code": "UnsupportedParameter"}
    assert (theirs.value.code, theirs.value.param, theirs.value.type) == (
        "UnsupportedParameter", "dimensions", "invalid_request_error")
    with OpenAIEmbeddingsClient(url, api_key="wrong", max_retries=0) as client, \
            pytest.raises(AuthenticationError) as denied:
        client.create_embedding(input="x", model="m")
    assert denied.value.response.json()["error"]["type"] == "authentication_error"
    assert denied.value.response.json()["error"]["param"] is None
    with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0) as sdk, \
            pytest.raises(openai.BadRequestError) as unknown:
        sdk.embeddings.create(input="x", model="m", extra_body={"color": "red"})
    assert (unknown.value.param, unknown.value.type) == ("color", "invalid_request_error")
    assert isinstance(ours.value, APIStatusError)
