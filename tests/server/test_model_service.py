"""examples/model_service.py's request handling, with a small stand-in model so that it runs in
`make test` without PyTorch: over real HTTP (uvicorn on 127.0.0.1) with httpx. The real model
is tested with the official SDKs in tests/model/."""

from __future__ import annotations

import array
import asyncio
import base64
import hashlib
import json
import math
import socket
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from model_inference_2024_05_01_preview.encoding import ENCODING_FORMATS, encode_embedding

from examples.model_service import ModelService, build_app, similar_lengths
from tests.conftest import serve

KEY = "model-key"
QUERY = "?api-version=2024-05-01-preview"
HEADERS = {"api-key": KEY}


class WordModel:
    """A stand-in for the model: a token per word between [CLS]=1 and [SEP]=2, at most 8
    tokens; a unit vector of 6 values from SHA-256 of the token ids. Records each batch and can
    be held (gate) or made to fail."""

    name = "word-model"
    dimensions = 6
    max_tokens = 8
    vocab_size = 100

    def __init__(self) -> None:
        self.batches: list[list[list[int]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail = False

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [[1, *(10 + len(word) for word in text.split()), 2] for text in texts]

    def wrap(self, ids: list[int]) -> list[int]:
        return [1, *ids, 2]

    def cut(self, ids: list[int], keep: str) -> list[int]:
        body = ids[1:-1]
        body = body[: self.max_tokens - 2] if keep == "END" else body[-(self.max_tokens - 2):]
        return [1, *body, 2]

    def embed(self, batch: list[list[int]]) -> list[list[float]]:
        self.batches.append(batch)
        self.entered.set()
        assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("the model broke")
        return [vector(ids) for ids in batch]


def vector(ids: list[int]) -> list[float]:
    raw = hashlib.sha256(bytes(ids)).digest()[:6]
    values = [b - 127.5 for b in raw]
    norm = math.sqrt(sum(v * v for v in values))
    return array.array("f", [v / norm for v in values]).tolist()


class Served:
    def __init__(self, url: str, model: WordModel, service: ModelService) -> None:
        self.url, self.model, self.service = url, model, service

    def post(self, body: dict[str, Any], headers: dict[str, str] | None = None,
             path: str = "/embeddings") -> httpx.Response:
        return httpx.post(self.url + path + QUERY, json=body, headers={**HEADERS, **(headers or {})},
                          timeout=10)


@pytest.fixture(scope="module", params=[True, False], ids=["one-app", "05-01-app"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The service behind embeddings_server's one app (every contract: make serve-model), and
    behind the generated 2024-05-01-preview server alone: the same answers on this contract."""
    model = WordModel()
    service = ModelService(lambda: model, max_batch_size=4, max_wait=0.005, max_queue=8)
    with serve(build_app(service, api_key=KEY, one_app=request.param)) as url:
        yield Served(url, model, service)


@pytest.fixture
def server(served: Served) -> Served:
    served.model.batches.clear()
    served.model.fail = False
    served.model.gate.set()
    return served


def test_startup_loads_the_model_before_the_first_request(server: Served) -> None:
    assert server.service.encoder is server.model  # lifespan startup ran under uvicorn
    assert server.service.batcher is not None


@pytest.mark.parametrize("encoding", ENCODING_FORMATS)
def test_every_encoding_goes_through_the_generated_encoder(server: Served, encoding: str) -> None:
    texts = ["one two", "three four five"]
    answer = server.post({"input": texts, "encoding_format": encoding})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ids = server.model.tokenize(texts)
    assert [item["embedding"] for item in body["data"]] == [
        encode_embedding(vector(i), encoding) for i in ids]
    assert body["model"] == "word-model" and [item["index"] for item in body["data"]] == [0, 1]
    assert body["usage"] == {"prompt_tokens": 4 + 5, "total_tokens": 4 + 5}


def test_base64_is_the_float32_vector(server: Served) -> None:
    answer = server.post({"input": ["a b"], "encoding_format": "base64"}).json()
    decoded = array.array("f", base64.b64decode(answer["data"][0]["embedding"])).tolist()
    assert decoded == vector([1, 11, 11, 2])


@pytest.mark.parametrize("dimensions", [None, 6])
def test_the_models_own_size_or_null_is_accepted(server: Served, dimensions: int | None) -> None:
    answer = server.post({"input": ["x"], "dimensions": dimensions})
    assert answer.status_code == 200 and len(answer.json()["data"][0]["embedding"]) == 6


@pytest.mark.parametrize("dimensions", [1, 5, 7, 1024])
def test_another_size_is_422_naming_dimensions(server: Served, dimensions: int) -> None:
    answer = server.post({"input": ["x"], "dimensions": dimensions})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "UnsupportedParameter" and error["target"] == "dimensions"
    assert "gives 6 dimensions only" in error["message"]
    assert answer.headers["x-ms-error-code"] == "UnsupportedParameter"
    assert server.model.batches == []


@pytest.mark.parametrize(("field", "value"), [("encoding_format", "float16"),
                                              ("input_type", "poem")])
def test_unsupported_options_are_422(server: Served, field: str, value: str) -> None:
    answer = server.post({"input": ["x"], field: value})
    assert answer.status_code == 422 and answer.json()["error"]["target"] == field


def test_an_input_over_the_limit_is_422_naming_it(server: Served) -> None:
    answer = server.post({"input": ["short", "w " * 7]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["code"], error["target"]) == ("InputTooLong", "input[1]")
    assert "9 tokens long" in error["message"] and "at most 8" in error["message"]
    assert server.model.batches == []


@pytest.mark.parametrize(("mode", "kept"), [("END", [11, 12, 13, 14, 15, 16]),
                                            ("start", [13, 14, 15, 16, 17, 18])])
def test_truncate_cuts_an_input_as_asked(server: Served, mode: str, kept: list[int]) -> None:
    text = "a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh"  # tokens 11..18, 10 with [CLS] [SEP]
    answer = server.post({"input": [text], "truncate": mode},
                         headers={"extra-parameters": "pass-through"})
    assert answer.status_code == 200, answer.text
    assert server.model.batches == [[[1, *kept, 2]]]
    assert answer.json()["usage"]["prompt_tokens"] == 8


def test_an_unknown_truncate_mode_is_422(server: Served) -> None:
    answer = server.post({"input": ["x"], "truncate": "MIDDLE"},
                         headers={"extra-parameters": "pass-through"})
    assert answer.status_code == 422 and answer.json()["error"]["target"] == "truncate"


def test_images_are_422_for_a_text_model(server: Served) -> None:
    answer = server.post({"input": [{"image": "data:image/png;base64,AAAA"}]},
                         path="/images/embeddings")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "UnsupportedModality"


def test_concurrent_requests_share_model_calls_and_get_their_own_vectors(server: Served) -> None:
    server.model.gate.clear()  # the first call waits, so that the others queue up together

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=10) as client:
            first = asyncio.create_task(client.post("/embeddings" + QUERY, json={"input": ["x"]}))
            while not server.model.entered.is_set():
                await asyncio.sleep(0.005)
            rest = [asyncio.create_task(client.post("/embeddings" + QUERY,
                                                    json={"input": [f"r{i}", f"r{i} r{i}"]}))
                    for i in range(3)]
            await asyncio.sleep(0.2)
            server.model.gate.set()
            return [await first, *await asyncio.gather(*rest)]

    server.model.entered.clear()
    answers = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 4
    assert [len(batch) for batch in server.model.batches] == [1, 4, 2]
    for i, answer in enumerate(answers[1:]):
        texts = [f"r{i}", f"r{i} r{i}"]
        assert [item["embedding"] for item in answer.json()["data"]] == [
            vector(ids) for ids in server.model.tokenize(texts)]


def test_a_full_queue_is_429_with_retry_after_in_the_documented_shape(server: Served) -> None:
    server.model.gate.clear()

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=10) as client:
            def post(n: int) -> Any:
                return asyncio.create_task(
                    client.post("/embeddings" + QUERY, json={"input": ["w"] * n}))

            running = post(4)  # in the model
            while not server.model.entered.is_set():
                await asyncio.sleep(0.005)
            queued = [post(4), post(4)]  # the queue (8) is full
            await asyncio.sleep(0.2)
            refused = await post(1)
            server.model.gate.set()
            return [refused, await running, *await asyncio.gather(*queued)]

    server.model.entered.clear()
    refused, *served = asyncio.run(scenario())
    assert [a.status_code for a in served] == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ms-error-code"] == "TooManyRequests"
    assert set(refused.json()) == {"error"}
    assert refused.json()["error"]["code"] == "TooManyRequests"


def test_a_gone_clients_inputs_leave_the_queue_and_never_reach_the_model(
        server: Served) -> None:
    server.model.gate.clear()
    server.model.entered.clear()
    assert server.service.batcher is not None
    withdrawn = server.service.batcher.stats.withdrawn
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"input": ["gone one", "gone two"]}).encode()
    head = (f"POST /embeddings{QUERY} HTTP/1.1\r\nhost: {host}\r\napi-key: {KEY}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n").encode()

    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=10) as client:
            running = asyncio.create_task(
                client.post("/embeddings" + QUERY, json={"input": ["stays"]}))
            while not server.model.entered.is_set():
                await asyncio.sleep(0.005)
            with socket.create_connection((host, int(port)), timeout=5) as gone:
                gone.sendall(head + body)
                for _ in range(200):  # until its inputs wait in the queue
                    if server.service.batcher.waiting == 2:  # type: ignore[union-attr]
                        break
                    await asyncio.sleep(0.01)
                assert server.service.batcher.waiting == 2  # type: ignore[union-attr]
            for _ in range(200):  # the server sees the disconnect and cancels the service call
                if server.service.batcher.waiting == 0:  # type: ignore[union-attr]
                    break
                await asyncio.sleep(0.01)
            server.model.gate.set()
            return await running

    assert asyncio.run(scenario()).status_code == 200
    assert server.service.batcher.stats.withdrawn == withdrawn + 2
    assert server.model.batches == [server.model.tokenize(["stays"])]


def test_a_model_failure_is_a_500_for_its_batch_only_and_the_next_call_works(
        server: Served) -> None:
    server.model.fail = True
    failed = server.post({"input": ["x"]})
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "InternalServerError"
    assert "broke" not in failed.text
    server.model.fail = False
    assert server.post({"input": ["x"]}).status_code == 200


def direct_call(served: Served, body: Any) -> Any:
    """The service called as the server calls it, with a body the package would hand over."""
    from model_inference_2024_05_01_preview import RequestContext
    from model_inference_2024_05_01_preview.models import EmbeddingsOptions

    context = RequestContext(operation_id="GetEmbeddings", request_id="r", api_version="v",
                             headers={}, query={}, path_params={}, extra_parameters="error")

    async def call() -> Any:
        return await served.service.get_embeddings(EmbeddingsOptions(input=body), context)

    return asyncio.run(call())


@pytest.mark.parametrize(("given", "expected"), [
    ("one two", [[1, 13, 13, 2]]),  # a single string
    ([5, 6, 7], [[1, 5, 6, 7, 2]]),  # one token array
    ([[5], [6, 7], "ab"], [[1, 5, 2], [1, 6, 7, 2], [1, 12, 2]]),  # token arrays and a text
])
def test_a_string_and_token_arrays_are_inputs_too(given: Any, expected: list[list[int]]) -> None:
    model = WordModel()
    service = ModelService(lambda: model, max_wait=0)
    asyncio.run(service.startup())
    result = direct_call(Served("", model, service), given)
    assert [item.embedding for item in result.data] == [vector(ids) for ids in expected]
    assert result.usage.prompt_tokens == sum(len(ids) for ids in expected)


@pytest.mark.parametrize(("given", "target"), [([[5, 100]], "input[0][1]"), ([[]], "input[0]"),
                                               ([], "input"), ([-1], "input[0][0]")])
def test_bad_token_arrays_are_422_naming_the_place(given: Any, target: str) -> None:
    from model_inference_2024_05_01_preview import ServiceError

    service = ModelService(WordModel, max_wait=0)
    asyncio.run(service.startup())
    with pytest.raises(ServiceError) as refused:
        direct_call(Served("", WordModel(), service), given)
    assert (refused.value.status, refused.value.target) == (422, target)


def test_before_startup_the_service_answers_503() -> None:
    service = ModelService(WordModel)

    async def call() -> Any:
        return await service.get_embeddings(None, None)  # type: ignore[arg-type]

    with pytest.raises(Exception) as caught:
        asyncio.run(call())
    assert getattr(caught.value, "status", None) == 503


def test_without_batching_each_request_is_its_own_model_call() -> None:
    model = WordModel()
    service = ModelService(lambda: model, batching=False)
    with serve(build_app(service, api_key=KEY)) as url:
        async def scenario() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=10) as client:
                return list(await asyncio.gather(*(
                    client.post("/embeddings" + QUERY, json={"input": [f"t{i}", "u"]})
                    for i in range(4))))

        answers = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(len(batch) for batch in model.batches) == [2, 2, 2, 2]
    assert service.batcher is None


def test_get_model_info_names_the_model(server: Served) -> None:
    from model_inference_2024_05_01_preview import models

    if "ModelInfo" not in vars(models):
        pytest.skip("this package has no GET /info (Get Model Info)")
    answer = httpx.get(server.url + "/info" + QUERY, headers=HEADERS, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"model_name": "all-MiniLM-L6-v2", "model_type": "embeddings",
                             "model_provider_name": "sentence-transformers"}


@pytest.mark.parametrize(("lengths", "runs"), [
    ([], []),
    ([5], [[5]]),
    # under min_tokens (256 here) a run grows whatever the lengths: too small to split
    ([5, 6, 100, 200], [[5, 6, 100, 200]]),
    # a run stops where an input is over 1.5x its first, once it holds 256 tokens
    ([16] * 20 + [20, 30, 40], [[16] * 20 + [20], [30, 40]]),
    ([10] * 30 + [100] * 3 + [160, 250], [[10] * 30, [100] * 3, [160, 250]]),
])
def test_a_batch_is_cut_into_runs_of_similar_length(lengths: list[int],
                                                    runs: list[list[int]]) -> None:
    got = similar_lengths(lengths)
    assert [[lengths[i] for i in run] for run in got] == runs
    assert [i for run in got for i in run] == list(range(len(lengths)))  # each once, in order


@pytest.fixture(scope="module")
def one_app() -> Iterator[Served]:
    model = WordModel()
    service = ModelService(lambda: model, max_batch_size=4, max_wait=0.005, max_queue=8)
    with serve(build_app(service, api_key=KEY)) as url:  # make serve-model's default
        yield Served(url, model, service)


def test_the_openai_sdk_gets_the_same_model_at_v1_embeddings(one_app: Served) -> None:
    """make serve-model answers OpenAI v1 too: the official SDK at {url}/v1, no api-version,
    its default base64 decoded back to the model's vectors, usage from the model's tokenizer."""
    import openai

    texts = ["hello there", "a b c"]
    with openai.OpenAI(base_url=one_app.url + "/v1", api_key=KEY, max_retries=0) as client:
        answer = client.embeddings.create(model="word-model", input=texts)
        with pytest.raises(openai.UnprocessableEntityError) as refused:
            client.embeddings.create(model="word-model", input=["x"], dimensions=3)
    ids = one_app.model.tokenize(texts)
    assert [item.embedding for item in answer.data] == [vector(i) for i in ids]
    assert answer.usage.prompt_tokens == sum(len(i) for i in ids)
    assert answer.model == "word-model"
    assert refused.value.code == "UnsupportedParameter"


def test_the_2024_04_01_contract_answers_in_its_own_shape(one_app: Served) -> None:
    """That api-version documents image embeddings only: this text model refuses them with
    422 in that contract's own flat error shape (the same refusal as in 2024-05-01-preview)."""
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG pixels").decode()
    refused = httpx.post(one_app.url + "/images/embeddings?api-version=2024-04-01-preview",
                         json={"input": [{"image": image}]},
                         headers={"authorization": f"Bearer {KEY}"}, timeout=10)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "UnsupportedModality"
    info = httpx.get(one_app.url + "/info?api-version=2024-05-01-preview", headers=HEADERS,
                     timeout=10)
    assert info.status_code == 200, info.text
    assert info.json()["model_name"] == "all-MiniLM-L6-v2"


def test_a_full_queue_is_429_in_the_openai_contract_too(one_app: Served) -> None:
    """The batcher's QueueFull belongs to one generated package; through OpenAI v1's app it
    still answers 429 with Retry-After (in OpenAI's error shape), not a 500."""
    one_app.model.gate.clear()
    one_app.model.entered.clear()

    async def scenario() -> list[httpx.Response]:
        bearer = {"authorization": f"Bearer {KEY}"}  # OpenAI's way of sending the key
        async with httpx.AsyncClient(base_url=one_app.url, headers=bearer, timeout=10) as client:
            def post(n: int) -> Any:
                return asyncio.create_task(
                    client.post("/v1/embeddings", json={"model": "m", "input": ["w"] * n}))

            running = post(4)
            for _ in range(1000):  # at most 5 s
                if one_app.model.entered.is_set() or running.done():
                    break
                await asyncio.sleep(0.005)
            assert one_app.model.entered.is_set(), (await running).text
            queued = [post(4), post(4)]
            await asyncio.sleep(0.2)
            refused = await post(1)
            one_app.model.gate.set()
            return [refused, await running, *await asyncio.gather(*queued)]

    try:
        refused, *served = asyncio.run(scenario())
    finally:
        one_app.model.gate.set()
    assert [a.status_code for a in served] == [200, 200, 200]
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "TooManyRequests"
