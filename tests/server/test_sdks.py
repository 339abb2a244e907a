"""The official SDKs, unmodified, against the generated server and the demo service, over
real HTTP on 127.0.0.1 (uvicorn): azure-ai-inference (sync and .aio) and openai (sync and
async). Each answer is checked against the demo's deterministic vectors."""

from __future__ import annotations

import array
import asyncio
import base64
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from azure.ai.inference import EmbeddingsClient, ImageEmbeddingsClient
from azure.ai.inference import aio as inference_aio
from azure.ai.inference.models import ImageEmbeddingInput
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from model_inference_2024_05_01_preview import RequestContext, create_app

from examples.demo_service import DemoService, count_tokens, image_seed, text_seed, vector
from tests.conftest import serve

VERSION = "2024-05-01-preview"
KEY = "sdk-test-key"
TEXTS = ["The quick brown fox.", "jumps over the lazy dog"]


class RecordingDemo(DemoService):
    """The demo service, remembering what each call received."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, RequestContext]] = []

    async def get_embeddings(self, body: Any, context: RequestContext) -> Any:
        self.calls.append((body, context))
        return await super().get_embeddings(body, context)

    async def get_image_embeddings(self, body: Any, context: RequestContext) -> Any:
        self.calls.append((body, context))
        return await super().get_image_embeddings(body, context)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, RecordingDemo]]:
    service = RecordingDemo()
    with serve(create_app(service, api_keys=[KEY])) as url:
        yield url, service


@pytest.fixture
def demo(server: tuple[str, RecordingDemo]) -> tuple[str, RecordingDemo]:
    server[1].calls.clear()
    return server


def png_file(folder: Path, width: int = 3, height: int = 2) -> Path:
    """A real (tiny, RGB) PNG image, written with zlib: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 80, y * 120, 200))
                    for y in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    path = folder / "pixels.png"
    path.write_bytes(png)
    return path


def floats32(values: list[float]) -> list[float]:
    """The values as float32 would carry them (base64 answers are float32)."""
    return array.array("f", values).tolist()


def base64_floats(text: str) -> list[float]:
    return array.array("f", base64.b64decode(text)).tolist()


# ---- azure-ai-inference -----------------------------------------------------------------


def test_azure_embed_float_sync(demo: tuple[str, RecordingDemo]) -> None:
    url, service = demo
    with EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        result = client.embed(input=TEXTS)
    assert [item.embedding for item in result.data] == [vector(text_seed(t), 256) for t in TEXTS]
    assert [item.index for item in result.data] == [0, 1]
    tokens = sum(count_tokens(t) for t in TEXTS)
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (tokens, tokens)
    assert result.model == "demo-embedding"
    [(body, context)] = service.calls
    assert body.input == TEXTS and context.api_version == VERSION


def test_azure_embed_options_sync(demo: tuple[str, RecordingDemo]) -> None:
    url, service = demo
    with EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        result = client.embed(input=TEXTS[:1], dimensions=12, encoding_format="base64",
                              input_type="query", model="my-model",
                              model_extras={"truncate": "END", "top_k": 2})
    [item] = result.data
    assert isinstance(item.embedding, str)
    assert base64_floats(item.embedding) == floats32(vector(text_seed(TEXTS[0], "query"), 12))
    assert result.model == "my-model"
    [(body, context)] = service.calls
    assert (body.dimensions, body.encoding_format, body.input_type, body.model) == (
        12, "base64", "query", "my-model")
    assert context.extra_parameters == "pass-through"
    assert context.extra_body == {"truncate": "END", "top_k": 2}


@pytest.mark.parametrize(("encoding", "check"), [
    ("int8", lambda v, e: e == [max(-128, min(127, round(x * 127))) for x in v]),
    ("uint8", lambda v, e: e == [max(0, min(255, round((x + 1) * 127.5))) for x in v]),
    ("ubinary", lambda v, e: len(e) == 2 and all(0 <= b <= 255 for b in e)),
    ("binary", lambda v, e: len(e) == 2 and all(-128 <= b <= 127 for b in e))])
def test_azure_embed_every_encoding(demo: tuple[str, RecordingDemo], encoding: str,
                                    check: Any) -> None:
    url, _service = demo
    with EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        result = client.embed(input=["x"], dimensions=16, encoding_format=encoding)
    assert check(vector(text_seed("x"), 16), result.data[0].embedding)


def test_azure_image_embed_sync(demo: tuple[str, RecordingDemo], tmp_path: Path) -> None:
    url, service = demo
    image = png_file(tmp_path)
    inputs = [ImageEmbeddingInput.load(image_file=str(image), image_format="png"),
              ImageEmbeddingInput.load(image_file=str(image), image_format="png", text="a cat")]
    with ImageEmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
        result = client.embed(input=inputs, dimensions=32)
    data = image.read_bytes()
    assert [item.embedding for item in result.data] == [
        vector(image_seed(data), 32), vector(image_seed(data, "a cat"), 32)]
    assert result.usage.prompt_tokens == 1 + 1 + count_tokens("a cat")
    [(body, _context)] = service.calls
    assert body.input[0].image.startswith("data:image/png;base64,")


def test_azure_async_clients(demo: tuple[str, RecordingDemo], tmp_path: Path) -> None:
    url, service = demo
    image = png_file(tmp_path)

    async def run() -> tuple[Any, Any]:
        async with inference_aio.EmbeddingsClient(endpoint=url,
                                                  credential=AzureKeyCredential(KEY)) as text:
            first = await text.embed(input=TEXTS, encoding_format="base64", dimensions=8,
                                     model_extras={"seed": 3})
        async with inference_aio.ImageEmbeddingsClient(
                endpoint=url, credential=AzureKeyCredential(KEY)) as images:
            second = await images.embed(
                input=[ImageEmbeddingInput.load(image_file=str(image), image_format="png")],
                input_type="document")
        return first, second

    first, second = asyncio.run(run())
    assert [base64_floats(item.embedding) for item in first.data] == [
        floats32(vector(text_seed(t), 8)) for t in TEXTS]
    assert second.data[0].embedding == vector(image_seed(image.read_bytes(), "", "document"), 256)
    assert service.calls[0][1].extra_body == {"seed": 3}


def test_azure_wrong_key_is_client_authentication_error(demo: tuple[str, RecordingDemo]) -> None:
    url, service = demo
    with (EmbeddingsClient(endpoint=url, credential=AzureKeyCredential("wrong")) as client,
          pytest.raises(ClientAuthenticationError) as caught):
        client.embed(input=TEXTS)
    assert caught.value.status_code == 401
    assert caught.value.error is not None and caught.value.error.code == "Unauthorized"
    assert service.calls == []

    async def run() -> None:
        async with inference_aio.EmbeddingsClient(endpoint=url,
                                                  credential=AzureKeyCredential("no")) as client:
            await client.embed(input=TEXTS)

    with pytest.raises(ClientAuthenticationError):
        asyncio.run(run())


@pytest.mark.parametrize(("options", "status", "code"), [
    ({"dimensions": 0}, 422, "UnsupportedParameter"),
    ({"encoding_format": "float16"}, 422, "UnsupportedParameter"),
    ({"input_type": "poem"}, 422, "UnsupportedParameter"),
    ({"dimensions": "many"}, 400, "InvalidRequestBody"),
    ({"input": [1, "a"]}, 400, "InvalidRequestBody")])
def test_azure_bad_request_is_http_response_error_with_our_code(
        demo: tuple[str, RecordingDemo], options: dict[str, Any], status: int, code: str) -> None:
    url, _service = demo
    with (EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client,
          pytest.raises(HttpResponseError) as caught):
        client.embed(**{"input": TEXTS, **options})
    assert caught.value.status_code == status
    assert caught.value.error is not None and caught.value.error.code == code
    assert caught.value.response.headers["x-ms-error-code"] == code


def test_azure_other_api_version_is_refused(demo: tuple[str, RecordingDemo]) -> None:
    url, _service = demo
    with (EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY),
                           api_version="2025-01-01") as client,
          pytest.raises(HttpResponseError) as caught):
        client.embed(input=TEXTS)
    assert caught.value.status_code == 400 and caught.value.error is not None
    assert caught.value.error.code == "UnsupportedApiVersion"
    assert VERSION in caught.value.error.message


# ---- openai ------------------------------------------------------------------------------


def _openai_options(url: str, key: str = KEY) -> dict[str, Any]:
    return {"base_url": url, "api_key": key, "default_query": {"api-version": VERSION},
            "max_retries": 0}


def test_openai_embeddings_sync(demo: tuple[str, RecordingDemo]) -> None:
    url, service = demo
    with openai.OpenAI(**_openai_options(url)) as client:
        result = client.embeddings.create(model="text-embedding-3-small", input=TEXTS)
        sized = client.embeddings.create(model="m", input=["x"], dimensions=5)
    # openai asked for base64 and decoded it to floats: float32 precision
    assert [item.embedding for item in result.data] == [floats32(vector(text_seed(t), 256))
                                                        for t in TEXTS]
    assert result.model == "text-embedding-3-small"
    tokens = sum(count_tokens(t) for t in TEXTS)
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (tokens, tokens)
    assert len(sized.data[0].embedding) == 5
    (body, context), _second = service.calls
    assert body.encoding_format == "base64" and body.model == "text-embedding-3-small"
    assert context.credentials == (KEY,)  # sent as Authorization: Bearer only


def test_openai_embeddings_float_and_async(demo: tuple[str, RecordingDemo]) -> None:
    url, _service = demo

    async def run() -> Any:
        async with openai.AsyncOpenAI(**_openai_options(url)) as client:
            return await client.embeddings.create(model="m", input=TEXTS, encoding_format="float",
                                                  dimensions=16)

    result = asyncio.run(run())
    assert [item.embedding for item in result.data] == [vector(text_seed(t), 16) for t in TEXTS]


def test_openai_errors(demo: tuple[str, RecordingDemo]) -> None:
    url, _service = demo
    with (openai.OpenAI(**_openai_options(url, key="wrong")) as client,
          pytest.raises(openai.AuthenticationError) as denied):
        client.embeddings.create(model="m", input=TEXTS)
    assert denied.value.status_code == 401 and denied.value.code == "Unauthorized"
    with openai.OpenAI(**_openai_options(url)) as client:
        with pytest.raises(openai.UnprocessableEntityError) as refused:
            client.embeddings.create(model="m", input=TEXTS, dimensions=100_000)
        with pytest.raises(openai.BadRequestError) as bad:
            client.embeddings.create(model="m", input=TEXTS, extra_body={"user_tag": 1})
    assert refused.value.code == "UnsupportedParameter"
    assert bad.value.code == "ExtraParametersNotAllowed"
