"""The clients and frameworks people point at an embeddings endpoint, unmodified, against
`make serve`'s app (embeddings_server with the demo service) under uvicorn on 127.0.0.1.

Each is configured as its documentation says, offline: no tokenizer or cost-map download
(litellm's local cost map; langchain-openai without its tiktoken length check, and once more
with it, through a tokenizer built here that tiktoken loads from a local file). Where a client
cannot send an api-version it sends none, and is answered as OpenAI v1. Each answer is checked
against the demo's deterministic vectors, and the contract each request reached is checked on
the service's side.

They install with the `frameworks` extra (`make test-frameworks`; .ci/run runs it).
"""

from __future__ import annotations

import array
import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from embeddings_server import Embeddings, TextRequest, create_app
from examples.demo_service import DemoEmbeddings, text_seed, vector
from tests.conftest import serve

KEY = "frameworks-key"
NEW = "2024-05-01-preview"
TEXTS = ["The quick brown fox.", "jumps over the lazy dog"]

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download


class Recording(DemoEmbeddings):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TextRequest] = []

    async def embed_texts(self, request: TextRequest) -> Embeddings:
        self.requests.append(request)
        return await super().embed_texts(request)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Recording]]:
    service = Recording()
    with serve(create_app(service, api_keys=[KEY])) as url:
        yield url, service


@pytest.fixture
def app(served: tuple[str, Recording]) -> tuple[str, Recording]:
    served[1].requests.clear()
    return served


def demo(text: Any, dimensions: int = 256) -> list[float]:
    return vector(text_seed(text), dimensions)


def float32(values: list[float]) -> list[float]:
    return array.array("f", values).tolist()


def close(got: list[float], want: list[float]) -> bool:
    """Equal to float32 precision (some clients ask for base64, some for floats)."""
    return len(got) == len(want) and all(abs(a - b) < 1e-6 for a, b in zip(got, want, strict=True))


def contracts(service: Recording) -> set[str]:
    return {request.contract for request in service.requests}


# ---- azure-ai-inference based -----------------------------------------------------------------


def test_langchain_azure_ai_inference_model(app: tuple[str, Recording]) -> None:
    from langchain_azure_ai.embeddings.inference import AzureAIEmbeddingsModel

    url, service = app
    model = AzureAIEmbeddingsModel(endpoint=url, credential=KEY, model_name="demo-embedding")
    documents = model.embed_documents(TEXTS)
    query = model.embed_query("what jumps?")
    again = asyncio.run(model.aembed_documents(TEXTS[:1]))
    assert [close(d, demo(t)) for d, t in zip(documents, TEXTS, strict=True)] == [True, True]
    assert close(query, demo("what jumps?", 256)) or close(query, vector(
        text_seed("what jumps?", "query"), 256))
    assert close(again[0], demo(TEXTS[0]))
    assert contracts(service) == {NEW}


def test_langchain_azure_ai_openai_v1_model(app: tuple[str, Recording]) -> None:
    from langchain_azure_ai.embeddings import AzureAIOpenAIApiEmbeddingsModel

    url, service = app
    model = AzureAIOpenAIApiEmbeddingsModel(endpoint=f"{url}/openai/v1", credential=KEY,
                                            model="text-embedding-3-small",
                                            check_embedding_ctx_length=False)
    documents = model.embed_documents(TEXTS)
    assert [close(d, demo(t)) for d, t in zip(documents, TEXTS, strict=True)] == [True, True]
    assert contracts(service) == {"v1"}


def test_llama_index_azure_inference(app: tuple[str, Recording]) -> None:
    from azure.core.credentials import AzureKeyCredential
    from llama_index.embeddings.azure_inference import AzureAIEmbeddingsModel

    url, service = app
    model = AzureAIEmbeddingsModel(endpoint=url, credential=AzureKeyCredential(KEY))
    text = model.get_text_embedding(TEXTS[0])
    texts = model.get_text_embedding_batch(TEXTS)
    query = asyncio.run(model.aget_query_embedding("what jumps?"))
    assert close(text, demo(TEXTS[0]))
    assert [close(v, demo(t)) for v, t in zip(texts, TEXTS, strict=True)] == [True, True]
    assert len(query) == 256
    assert contracts(service) == {NEW}
    assert model.model_name == "demo-embedding"  # from GET /info


def test_semantic_kernel_azure_ai_inference(app: tuple[str, Recording]) -> None:
    from azure.ai.inference.aio import EmbeddingsClient
    from azure.core.credentials import AzureKeyCredential
    from semantic_kernel.connectors.ai.azure_ai_inference import AzureAIInferenceTextEmbedding

    url, service = app

    async def run() -> Any:
        # Its settings accept https endpoints only: given the client it documents instead.
        async with EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(KEY)) as client:
            embedding = AzureAIInferenceTextEmbedding(ai_model_id="demo-embedding", client=client)
            return await embedding.generate_embeddings(TEXTS)

    vectors = asyncio.run(run())
    assert [close(list(map(float, v)), demo(t)) for v, t in zip(vectors, TEXTS, strict=True)] == [
        True, True]
    assert contracts(service) == {NEW}


# ---- OpenAI v1 based ----------------------------------------------------------------------------


@pytest.mark.parametrize("check_length", [False, True])
def test_langchain_openai(app: tuple[str, Recording], check_length: bool,
                          offline_tiktoken: None) -> None:
    from langchain_openai import OpenAIEmbeddings

    url, service = app
    model = OpenAIEmbeddings(model="text-embedding-3-small", base_url=f"{url}/v1", api_key=KEY,
                             check_embedding_ctx_length=check_length, max_retries=0)
    documents = model.embed_documents(TEXTS)
    query = asyncio.run(model.aembed_query("what jumps?"))
    assert len(documents) == 2 and len(query) == 256
    assert contracts(service) == {"v1"}
    first = service.requests[0].inputs
    if check_length:  # langchain-openai's default: token arrays, as tiktoken cut them
        assert all(isinstance(item, tuple) for item in first)
        assert [close(d, demo(item)) for d, item in zip(documents, first, strict=True)] == [
            True, True]
    else:
        assert first == tuple(TEXTS)
        assert [close(d, demo(t)) for d, t in zip(documents, TEXTS, strict=True)] == [True, True]


@pytest.mark.parametrize("provider", ["openai", "azure_ai"])
def test_litellm(app: tuple[str, Recording], provider: str) -> None:
    import litellm

    url, service = app
    base = f"{url}/v1" if provider == "openai" else url
    # An Azure AI model name (an OpenAI one, under azure_ai/, is sent to Azure OpenAI's
    # /openai/deployments/... route instead, another API).
    model = "openai/text-embedding-3-small" if provider == "openai" else "azure_ai/demo-embedding"
    result = litellm.embedding(model=model, input=TEXTS, api_base=base, api_key=KEY)
    vectors = [item["embedding"] for item in result.data]
    assert [close(v, demo(t)) for v, t in zip(vectors, TEXTS, strict=True)] == [True, True]
    again = asyncio.run(litellm.aembedding(model=model, input="one string", api_base=base,
                                           api_key=KEY))
    assert close(again.data[0]["embedding"], demo("one string"))
    assert contracts(service) == {"v1"}  # litellm sends no api-version


def test_haystack_openai_embedders(app: tuple[str, Recording]) -> None:
    from haystack import Document
    from haystack.components.embedders import OpenAIDocumentEmbedder, OpenAITextEmbedder
    from haystack.utils import Secret

    url, service = app
    options = {"api_key": Secret.from_token(KEY), "api_base_url": f"{url}/v1",
               "model": "text-embedding-3-small"}
    text = OpenAITextEmbedder(**options).run(text=TEXTS[0])
    documents = OpenAIDocumentEmbedder(**options).run(
        documents=[Document(content=t) for t in TEXTS])["documents"]
    assert close(text["embedding"], demo(TEXTS[0]))
    assert [close(d.embedding, demo(t)) for d, t in zip(documents, TEXTS, strict=True)] == [
        True, True]
    assert service.requests[0].inputs == (TEXTS[0],)  # a single string, as haystack sends it
    assert contracts(service) == {"v1"}


def test_pydantic_ai_embedder(app: tuple[str, Recording]) -> None:
    from pydantic_ai.embeddings import Embedder
    from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
    from pydantic_ai.providers.openai import OpenAIProvider

    url, service = app
    model = OpenAIEmbeddingModel("text-embedding-3-small",
                                 provider=OpenAIProvider(base_url=f"{url}/v1", api_key=KEY))
    embedder = Embedder(model)

    async def run() -> tuple[Any, Any]:
        return await embedder.embed_documents(TEXTS), await embedder.embed_query("what jumps?")

    result, query = asyncio.run(run())
    vectors = [list(v) for v in result.embeddings]
    assert [close(v, demo(t)) for v, t in zip(vectors, TEXTS, strict=True)] == [True, True]
    assert close(list(query.embeddings[0]), demo("what jumps?"))
    assert contracts(service) == {"v1"}
