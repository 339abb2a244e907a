"""Extra parameters, per-call headers, User-Agent, raw responses, owned and caller-supplied
httpx clients, and the embeddings helpers on results, over a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import struct

import httpx
import pytest
from model_inference_2024_04_01_preview import client as client_0401
from model_inference_2024_05_01_preview import client as client_0501
from model_inference_2024_05_01_preview import encoding
from model_inference_2024_05_01_preview.aio import AsyncModelInferenceClient
from model_inference_2024_05_01_preview.models import EmbeddingEncodingFormat, EmbeddingsResult

from tests.client.conftest import RESULT, Answer, FaultServer


def test_extra_fields_go_in_the_body_with_pass_through(server: FaultServer) -> None:
    with client_0501.ModelInferenceClient(server.url) as client:
        client.get_embeddings(input=["a"], extra_body={"top_k": 3, "truncate": "END"})
        client.get_embeddings(input=["a"])
        client.get_embeddings(input=["a"], extra_body={"input": ["b"]})  # a known field
    first, second, third = server.requests
    assert first.body == {"input": ["a"], "top_k": 3, "truncate": "END"}
    assert first.headers["extra-parameters"] == "pass-through"
    assert "extra-parameters" not in second.headers  # nothing extra, no header
    assert third.body == {"input": ["b"]} and "extra-parameters" not in third.headers


def test_a_misspelled_keyword_is_a_type_error_at_once(server: FaultServer) -> None:
    with client_0501.ModelInferenceClient(server.url) as client:
        with pytest.raises(TypeError, match="dimension"):
            client.get_embeddings(input=["a"], dimension=8)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="input"):
            client.get_embeddings()  # type: ignore[call-arg]
    assert server.requests == []


def test_a_mode_chosen_by_the_caller_is_kept(server: FaultServer) -> None:
    with client_0501.ModelInferenceClient(server.url) as client:
        client.get_embeddings(input=["a"], extra_body={"top_k": 3}, extra_parameters="drop")
        client.get_embeddings(input=["a"], extra_body={"top_k": 3},
                              extra_headers={"Extra-Parameters": "error"})
    assert server.requests[0].headers["extra-parameters"] == "drop"
    sent = [v for k, v in server.requests[1].raw_headers if k == "extra-parameters"]
    assert sent == ["error"]  # one header, whatever its case


def test_headers_query_and_user_agent(server: FaultServer) -> None:
    with client_0501.ModelInferenceClient(server.url, headers={"x-team": "search"},
                                          user_agent="my-app/2.0") as client:
        client.get_embeddings(input=["a"], extra_headers={"x-trace": "t1"},
                              extra_query={"debug": "1"})
        client.get_embeddings(input=["a"], extra_headers={"x-ms-client-request-id": "mine"})
    first, second = server.requests
    assert first.headers["x-team"] == "search" and first.headers["x-trace"] == "t1"
    assert "debug=1" in first.query and "api-version=2024-05-01-preview" in first.query
    agent = first.headers["user-agent"]
    assert agent.startswith("my-app/2.0 model_inference_2024_05_01_preview/")
    assert "api-version 2024-05-01-preview" in agent
    assert len(first.headers["x-ms-client-request-id"]) == 36
    assert second.headers["x-ms-client-request-id"] == "mine"


def test_a_header_given_again_in_another_case_replaces_the_earlier_one(
    server: FaultServer,
) -> None:
    with client_0501.ModelInferenceClient(server.url, headers={"Accept": "text/plain",
                                                               "X-Team": "search"}) as client:
        client.get_embeddings(input=["a"])
        client.get_embeddings(input=["a"], extra_headers={"ACCEPT": "application/x-mine",
                                                          "x-team": "other"})
    for request, accept, team in zip(server.requests, ("text/plain", "application/x-mine"),
                                     ("search", "other"), strict=True):
        assert [v for k, v in request.raw_headers if k == "accept"] == [accept]
        assert [v for k, v in request.raw_headers if k == "x-team"] == [team]


def test_model_deployment_header_2024_04(server: FaultServer) -> None:
    with client_0401.ModelInferenceClient(server.url, api_key="k") as client:
        client.get_image_embeddings(input=[{"image": "x"}], azureml_model_deployment="dino-v2")
    assert server.requests[0].headers["azureml-model-deployment"] == "dino-v2"
    assert server.requests[0].path == "/images/embeddings"


def test_raw_response(server: FaultServer) -> None:
    server.script(Answer(status=503), Answer(headers={"x-request-id": "r-1", "x-extra": "yes"}))
    with client_0501.ModelInferenceClient(server.url, retry_backoff=0.01) as client:
        raw = client.with_raw_response.get_embeddings(input=["a"])
    assert isinstance(raw, client_0501.RawResponse)
    assert raw.status_code == 200 and raw.attempts == 2
    assert raw.headers["x-extra"] == "yes" and raw.request_id == "r-1"
    assert raw.client_request_id == server.requests[1].headers["x-ms-client-request-id"]
    assert raw.http_response.json() == RESULT
    result = raw.parse()
    assert isinstance(result, EmbeddingsResult) and raw.parse() is result


def test_async_raw_response_and_with_options(server: FaultServer) -> None:
    async def run() -> None:
        async with AsyncModelInferenceClient(server.url) as client:
            raw = await client.with_options(headers={"x-a": "1"}).with_raw_response.get_embeddings(
                input=["a"])
            assert raw.parse().model == "test-model"
            await client.get_embeddings(input=["a"])

    asyncio.run(run())
    assert server.requests[0].headers["x-a"] == "1"
    assert "x-a" not in server.requests[1].headers


def test_caller_supplied_http_client_is_left_open(server: FaultServer) -> None:
    http = httpx.Client(timeout=5)
    with client_0501.ModelInferenceClient(server.url, http_client=http) as client:
        client.get_embeddings(input=["a"])
    assert not http.is_closed
    http.close()
    with client_0501.ModelInferenceClient(server.url) as owned:
        derived = owned.with_options(max_retries=0)
        derived.close()  # a derived client never closes what it shares
        owned.get_embeddings(input=["a"])
    assert owned._client.is_closed


def test_embeddings_helpers_for_every_format(server: FaultServer) -> None:
    values = [0.5, -0.25, 1.0, -1.0, 0.0, 0.75, -0.5, 0.25, 0.125]
    for fmt in encoding.ENCODING_FORMATS:
        body = dict(RESULT, data=[
            {"index": 0, "object": "embedding", "embedding": encoding.encode_embedding(values, fmt)},
            {"index": 1, "object": "embedding", "embedding": encoding.encode_embedding(values[::-1], fmt)}])
        server.script(Answer(json=body))
        with client_0501.ModelInferenceClient(server.url) as client:
            result = client.get_embeddings(input=["a", "b"], encoding_format=fmt)
        assert server.requests[0].body["encoding_format"] == fmt
        vectors = result.vectors(EmbeddingEncodingFormat(fmt), dimensions=len(values))
        assert vectors[0] == result.data[0].vector(fmt, dimensions=len(values))
        expected = [encoding.decode_embedding(encoding.encode_embedding(v, fmt), fmt,
                                              dimensions=len(values)) for v in (values, values[::-1])]
        assert vectors == expected
        if fmt in ("float", "base64"):
            assert vectors[0] == values  # exact in float32
        if fmt == "ubinary":
            assert vectors[0] == [1, 0, 1, 0, 0, 1, 0, 1, 1]
        matrix = result.vectors_numpy(fmt, dimensions=len(values))
        assert matrix.shape == (2, len(values)) and matrix.tolist() == vectors
        rows = result.vectors_array(fmt, dimensions=len(values))
        assert [row.tolist() for row in rows] == vectors
        assert rows[1] == result.data[1].vector_array(fmt, dimensions=len(values))
        assert {row.typecode for row in rows} == {
            "float": {"f"}, "base64": {"f"}, "int8": {"b"}}.get(fmt, {"B"})


def test_helpers_infer_float_and_base64() -> None:
    text = base64.b64encode(struct.pack("<3f", 1.0, 2.0, -3.0)).decode()
    result = EmbeddingsResult.from_dict(dict(RESULT, data=[
        {"index": 0, "object": "embedding", "embedding": text},
        {"index": 1, "object": "embedding", "embedding": [1.0, 2.0, -3.0]}]))
    assert result.vectors() == [[1.0, 2.0, -3.0], [1.0, 2.0, -3.0]]
    with pytest.raises(ValueError, match="supported are"):
        result.vectors("float16")
