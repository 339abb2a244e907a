"""One app for every contract (embeddings_server.create_app), over uvicorn on 127.0.0.1:
dispatch on api-version, the OpenAI v1 paths, string and token inputs, GET /info, the
adapter's checks, and the lifespan passed to every contract with the service's hooks run once.
The official SDKs here are unmodified: openai (sync and async, at each documented base URL)
and azure-ai-inference (get_model_info, load_client, string and token inputs)."""

from __future__ import annotations

import array
import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from azure.ai.inference import EmbeddingsClient, load_client
from azure.ai.inference import aio as inference_aio
from azure.core.credentials import AzureKeyCredential

from embeddings_server import (
    CONTRACTS,
    ApiVersionDispatcher,
    Embeddings,
    ServiceError,
    TextRequest,
    create_app,
)
from examples.demo_service import (
    DEFAULT_MODEL,
    DemoEmbeddings,
    count_tokens,
    text_seed,
    vector,
)
from tests.conftest import SPEC_DIR, serve

KEY = "one-app-key"
TEXTS = ["The quick brown fox.", "jumps over the lazy dog"]
NEW, OLD = "2024-05-01-preview", "2024-04-01-preview"


class Recording(DemoEmbeddings):
    """The demo, remembering each request and counting its lifespan hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Any] = []
        self.started = self.stopped = 0

    async def embed_texts(self, request: TextRequest) -> Embeddings:
        self.requests.append(request)
        return await super().embed_texts(request)

    async def startup(self) -> None:
        self.started += 1

    async def shutdown(self) -> None:
        self.stopped += 1


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Recording]]:
    service = Recording()
    with serve(create_app(service, api_keys=[KEY])) as url:
        yield url, service
    assert (service.started, service.stopped) == (1, 1)  # once, for three contracts


@pytest.fixture
def app(served: tuple[str, Recording]) -> tuple[str, Recording]:
    served[1].requests.clear()
    return served


def floats32(values: list[float]) -> list[float]:
    return array.array("f", values).tolist()


def test_every_spec_is_a_contract() -> None:
    from generator.cli import build_api

    versions = {build_api(spec)[0].api_version: build_api(spec)[0].package
                for spec in SPEC_DIR.glob("*.yaml")}
    assert versions == {c.version: c.package for c in CONTRACTS}


# ---- dispatch --------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "query", "contract"), [
    ("/embeddings", "", "v1"),
    ("/v1/embeddings", "", "v1"),
    ("/openai/v1/embeddings", "", "v1"),
    ("/embeddings", "?api-version=v1", "v1"),
    ("/embeddings", f"?api-version={NEW}", NEW),
    ("/embeddings", f"?other=1&api%2Dversion={NEW}", NEW),  # percent-encoded name
    ("/embeddings", f"?api-version={NEW}&api-version={NEW}", NEW)])  # repeated, same value
def test_api_version_selects_the_contract(app: tuple[str, Recording], path: str, query: str,
                                          contract: str) -> None:
    url, service = app
    body: dict[str, Any] = {"input": "hello", "dimensions": 4}
    if contract == "v1":
        body["model"] = "m"
    response = httpx.post(url + path + query, json=body, headers={"api-key": KEY,
                                                                  "authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    [request] = service.requests
    assert request.contract == contract and request.inputs == ("hello",)
    payload = response.json()
    assert ("id" in payload) == (contract == NEW)  # each contract's own result shape
    assert payload["data"][0]["embedding"] == vector(text_seed("hello"), 4)


def test_the_2024_04_contract_is_reached_by_its_version(app: tuple[str, Recording]) -> None:
    url, _service = app
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG pixels").decode()
    response = httpx.post(f"{url}/images/embeddings?api-version={OLD}",
                          json={"input": [{"image": image}], "encoding_format": "int8"},
                          headers={"authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    assert "id" not in response.json() and isinstance(response.json()["data"][0]["embedding"][0], int)
    refused = httpx.post(f"{url}/images/embeddings?api-version={OLD}",
                         json={"input": [{"image": image}], "encoding_format": "base64"},
                         headers={"authorization": f"Bearer {KEY}"})
    assert refused.status_code == 422  # its result cannot carry a base64 string
    assert refused.json()["code"] == "UnsupportedParameter"  # its own flat error shape
    missing = httpx.post(f"{url}/embeddings?api-version={OLD}", json={"input": ["a"]},
                         headers={"authorization": f"Bearer {KEY}"})
    assert missing.status_code == 404  # that version has image embeddings only


@pytest.mark.parametrize("version", ["2025-01-01", "2024-05-01", "", "V1"])
def test_an_unknown_api_version_is_400_listing_the_supported_ones(
        app: tuple[str, Recording], version: str) -> None:
    url, service = app
    response = httpx.post(f"{url}/embeddings?api-version={version}", json={"input": ["a"]},
                          headers={"api-key": KEY, "x-ms-client-request-id": "req-1"})
    assert response.status_code == 400
    assert response.headers["x-ms-error-code"] == "UnsupportedApiVersionValue"
    assert response.headers["x-ms-client-request-id"] == "req-1"
    error = response.json()["error"]
    assert error["code"] == "UnsupportedApiVersionValue" and error["target"] == "api-version"
    for contract in CONTRACTS:
        assert repr(contract.version) in error["message"]
    assert [d["message"] for d in error["details"]] == [c.version for c in CONTRACTS]
    assert service.requests == []


def test_an_api_version_repeated_with_different_values_is_400(app: tuple[str, Recording]) -> None:
    url, _service = app
    response = httpx.post(f"{url}/embeddings?api-version={NEW}&api-version={OLD}",
                          json={"input": ["a"]}, headers={"api-key": KEY})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_prefixes_are_only_for_the_openai_contract(app: tuple[str, Recording]) -> None:
    url, _service = app
    response = httpx.post(f"{url}/v1/embeddings?api-version={NEW}", json={"input": ["a"]},
                          headers={"api-key": KEY})
    assert response.status_code == 404  # the 2024-05-01-preview contract has no /v1 paths
    nowhere = httpx.post(f"{url}/v1x/embeddings", json={"input": "a", "model": "m"},
                         headers={"authorization": f"Bearer {KEY}"})
    assert nowhere.status_code == 404


# ---- string and token inputs, 2024-05-01-preview -------------------------------------------


@pytest.mark.parametrize(("sent", "inputs"), [
    ("one string", ("one string",)),
    (["a", "b c"], ("a", "b c")),
    ([11, 22, 33], ((11, 22, 33),)),
    ([[1, 2], [3]], ((1, 2), (3,)))])
def test_string_and_token_inputs_on_2024_05(app: tuple[str, Recording], sent: Any,
                                            inputs: tuple[Any, ...]) -> None:
    url, service = app
    response = httpx.post(f"{url}/embeddings?api-version={NEW}",
                          json={"input": sent, "dimensions": 6}, headers={"api-key": KEY})
    assert response.status_code == 200, response.text
    [request] = service.requests
    assert request.inputs == inputs
    assert [item["embedding"] for item in response.json()["data"]] == [
        vector(text_seed(i), 6) for i in inputs]
    tokens = sum(count_tokens(i) if isinstance(i, str) else len(i) for i in inputs)
    assert response.json()["usage"]["prompt_tokens"] == tokens


def test_empty_input_is_422_in_every_contract(app: tuple[str, Recording]) -> None:
    url, service = app
    response = httpx.post(f"{url}/embeddings?api-version={NEW}", json={"input": []},
                          headers={"api-key": KEY})
    assert response.status_code == 422 and response.json()["error"]["code"] == "InvalidInput"
    refused = httpx.post(f"{url}/embeddings", json={"input": [], "model": "m"},
                         headers={"authorization": f"Bearer {KEY}"})
    assert refused.status_code == 400  # OpenAI's schema: minItems 1
    assert service.requests == []


def test_azure_sdk_sends_a_string_and_tokens(app: tuple[str, Recording]) -> None:
    url, service = app
    with EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        result = client.embed(input="a single string", dimensions=5)  # type: ignore[arg-type]
    assert result.data[0].embedding == vector(text_seed("a single string"), 5)
    assert service.requests[0].inputs == ("a single string",)
    assert service.requests[0].contract == NEW


# ---- GET /info -------------------------------------------------------------------------------


def test_azure_get_model_info_sync_async_and_load_client(app: tuple[str, Recording]) -> None:
    url, _service = app
    with EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        info = client.get_model_info()
    assert (info.model_name, info.model_type, info.model_provider_name) == (
        DEFAULT_MODEL, "embeddings", "embeddings-codegen demo")

    async def run() -> Any:
        async with inference_aio.EmbeddingsClient(endpoint=url,
                                                  credential=AzureKeyCredential(KEY)) as client:
            return await client.get_model_info()

    assert asyncio.run(run()).model_name == DEFAULT_MODEL
    loaded = load_client(url, AzureKeyCredential(KEY))
    with loaded:
        assert isinstance(loaded, EmbeddingsClient)
        assert loaded.embed(input=["x"]).data[0].embedding == vector(text_seed("x"), 256)


def test_info_without_a_model_info_method_is_404() -> None:
    class TextsOnly:
        async def embed_texts(self, request: TextRequest) -> Embeddings:
            return Embeddings(vectors=[[1.0]] * len(request.inputs), model="m", prompt_tokens=1)

    with serve(create_app(TextsOnly(), api_keys=[KEY])) as url:
        info = httpx.get(f"{url}/info?api-version={NEW}", headers={"api-key": KEY})
        image = httpx.post(f"{url}/images/embeddings?api-version={NEW}",
                           json={"input": [{"image": "AAAA"}]}, headers={"api-key": KEY})
        text = httpx.post(f"{url}/embeddings?api-version={NEW}", json={"input": ["a"]},
                          headers={"api-key": KEY})
    assert info.status_code == 404 and image.status_code == 404
    assert image.json()["error"]["code"] == "ModalityNotSupported"
    assert text.status_code == 200 and text.json()["data"][0]["embedding"] == [1.0]


# ---- openai, unmodified, at every documented base URL ----------------------------------------


@pytest.mark.parametrize("base", ["", "/v1", "/openai/v1"])
def test_openai_sdk_at_each_base_url(app: tuple[str, Recording], base: str) -> None:
    url, service = app
    with openai.OpenAI(base_url=url + base, api_key=KEY, max_retries=0) as client:
        one = client.embeddings.create(model="text-embedding-3-small", input="hello world")
        tokens = client.embeddings.create(model="m", input=[[1, 2, 3], [4]], dimensions=8)
        floats = client.embeddings.create(model="m", input=TEXTS, encoding_format="float",
                                          user="user-1")
    assert one.data[0].embedding == floats32(vector(text_seed("hello world"), 256))  # base64
    assert one.model == "text-embedding-3-small" and one.usage.prompt_tokens == 2
    assert [d.embedding for d in tokens.data] == [floats32(vector(text_seed((1, 2, 3)), 8)),
                                                  floats32(vector(text_seed((4,)), 8))]
    assert [d.embedding for d in floats.data] == [vector(text_seed(t), 256) for t in TEXTS]
    first, second, third = service.requests
    assert {r.contract for r in service.requests} == {"v1"}
    assert (first.encoding_format, second.inputs, third.user) == ("base64", ((1, 2, 3), (4,)),
                                                                  "user-1")


def test_openai_async_and_errors(app: tuple[str, Recording]) -> None:
    url, _service = app

    async def run() -> Any:
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0) as client:
            return await client.embeddings.create(model="m", input=TEXTS, dimensions=3)

    result = asyncio.run(run())
    assert [d.embedding for d in result.data] == [floats32(vector(text_seed(t), 3)) for t in TEXTS]
    with openai.OpenAI(base_url=url, api_key="wrong", max_retries=0) as client, \
            pytest.raises(openai.AuthenticationError):
        client.embeddings.create(model="m", input="x")
    with openai.OpenAI(base_url=url, api_key=KEY, max_retries=0) as client:
        with pytest.raises(openai.UnprocessableEntityError) as refused:
            client.embeddings.create(model="m", input="x", dimensions=100_000)
        with pytest.raises(openai.BadRequestError) as unknown:
            client.embeddings.create(model="m", input="x", extra_body={"truncate": "END"})
    assert refused.value.code == "UnsupportedParameter"
    assert unknown.value.status_code == 400  # OpenAI refuses unknown properties


# ---- the adapter's own checks ----------------------------------------------------------------


class Broken:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    async def embed_texts(self, request: TextRequest) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(("answer", "status"), [
    (Embeddings(vectors=[], model="m", prompt_tokens=0), 500),  # too few vectors
    ("not embeddings", 500),
    (Embeddings(vectors=[[float("nan")]], model="m", prompt_tokens=1), 500),
    (ServiceError(429, "Busy", "slow down", retry_after=3), 429),
    (RuntimeError("model crashed"), 500)])
def test_service_failures_answer_in_each_contract_shape(answer: Any, status: int) -> None:
    app = create_app(Broken(answer), api_keys=[KEY])

    async def call(url: str, body: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as client:
            return await client.post(url, json=body, headers={"api-key": KEY,
                                                              "authorization": f"Bearer {KEY}"})

    azure = asyncio.run(call(f"/embeddings?api-version={NEW}", {"input": ["a"]}))
    v1 = asyncio.run(call("/v1/embeddings", {"input": ["a"], "model": "m"}))
    for response in (azure, v1):
        assert response.status_code == status, response.text
        assert "error" in response.json()
        if status == 429:
            assert response.headers["retry-after"] == "3"
            assert response.json()["error"]["code"] == "Busy"


# ---- lifespan --------------------------------------------------------------------------------


def _lifespan_app(log: list[str], name: str, *, fail: bool = False,
                  supported: bool = True) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        if not supported:
            raise RuntimeError("no lifespan here")
        while True:
            message = await receive()
            event = message["type"].split(".")[1]
            log.append(f"{name}:{event}")
            if fail:
                await send({"type": f"lifespan.{event}.failed", "message": f"{name} broke"})
                return
            await send({"type": f"lifespan.{event}.complete"})
            if event == "shutdown":
                return
    return app


def _run_lifespan(dispatcher: ApiVersionDispatcher) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        for event in ("startup", "shutdown"):
            await inbox.put({"type": f"lifespan.{event}"})
        await asyncio.wait_for(dispatcher({"type": "lifespan", "state": {}}, inbox.get, send), 5)
        return sent

    return asyncio.run(run())


def test_lifespan_reaches_every_contract_and_the_hooks_once() -> None:
    log: list[str] = []

    class Hooks:
        async def startup(self) -> None:
            log.append("service:startup")

        async def shutdown(self) -> None:
            log.append("service:shutdown")

    dispatcher = ApiVersionDispatcher(
        {"a": _lifespan_app(log, "a"), "b": _lifespan_app(log, "b", supported=False),
         "c": _lifespan_app(log, "c")}, default="c", hooks=Hooks())
    sent = _run_lifespan(dispatcher)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert log == ["service:startup", "a:startup", "c:startup", "c:shutdown", "a:shutdown",
                   "service:shutdown"]


def test_a_failed_startup_is_reported() -> None:
    log: list[str] = []
    dispatcher = ApiVersionDispatcher({"a": _lifespan_app(log, "a", fail=True)}, default="a")
    sent = _run_lifespan(dispatcher)
    assert sent == [{"type": "lifespan.startup.failed", "message": "a broke"}]


def test_without_a_lifespan_the_hooks_run_once_before_the_first_request() -> None:
    service = Recording()
    app = create_app(service, api_keys=[KEY])

    async def run() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as client:  # no lifespan here
            first = await client.post(f"/embeddings?api-version={NEW}", json={"input": ["a"]},
                                      headers={"api-key": KEY})
            second = await client.post("/embeddings", json={"input": ["a"], "model": "m"},
                                       headers={"authorization": f"Bearer {KEY}"})
            return [first.status_code, second.status_code]

    assert asyncio.run(run()) == [200, 200]
    assert (service.started, service.stopped) == (1, 0)


def test_metrics_cover_every_contract() -> None:
    pytest.importorskip("prometheus_client")
    app = create_app(DemoEmbeddings(), api_keys=[KEY])

    async def run() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as client:
            await client.post(f"/embeddings?api-version={NEW}", json={"input": ["a"]},
                              headers={"api-key": KEY})
            await client.post("/v1/embeddings", json={"input": ["a"], "model": "m"},
                              headers={"authorization": f"Bearer {KEY}"})
            return (await client.get("/metrics")).text

    lines = [line for line in asyncio.run(run()).splitlines()
             if line.startswith("http_server_requests_total{") and 'status="200"' in line
             and 'route="/embeddings"' in line]
    assert sorted(line.split('api_version="')[1].split('"')[0] for line in lines) == [NEW, "v1"]


def test_azure_sdk_images_sync_and_async(app: tuple[str, Recording], tmp_path: Any) -> None:
    from azure.ai.inference import ImageEmbeddingsClient
    from azure.ai.inference.models import ImageEmbeddingInput

    from examples.demo_service import image_seed
    from tests.server.test_sdks import png_file

    url, _service = app
    image = png_file(tmp_path)
    inputs = [ImageEmbeddingInput.load(image_file=str(image), image_format="png", text="a cat")]
    with ImageEmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        result = client.embed(input=inputs, dimensions=16)

    async def run() -> Any:
        async with inference_aio.ImageEmbeddingsClient(
                endpoint=url, credential=AzureKeyCredential(KEY)) as client:
            return await client.embed(input=inputs, encoding_format="base64", dimensions=4)

    second = asyncio.run(run())
    data = image.read_bytes()
    assert result.data[0].embedding == vector(image_seed(data, "a cat"), 16)
    assert array.array("f", base64.b64decode(second.data[0].embedding)).tolist() == floats32(
        vector(image_seed(data, "a cat"), 4))
