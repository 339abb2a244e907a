"""One embeddings endpoint for every contract in spec/: the Azure AI Model Inference
api-versions and their successor, OpenAI v1.

    from embeddings_server import Embeddings, TextRequest, create_app

    class MyModel:
        async def embed_texts(self, request: TextRequest) -> Embeddings:
            vectors = [my_model.encode(text) for text in request.inputs]
            return Embeddings(vectors=vectors, model="my-model", prompt_tokens=...)

    app = create_app(MyModel(), api_keys=["my-key"])   # uvicorn module:app

Each request goes to the contract its `api-version` names (none: OpenAI v1), is validated by
that contract's generated server and answered in its shapes; the service is written once
against TextRequest / ImageRequest / Embeddings (see service.py, adapter.py, dispatch.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .adapter import (
    CONTRACTS,
    DEFAULT_CONTRACT,
    DEFAULT_PREFIXES,
    MAX_INPUTS,
    Contract,
    ContractAdapter,
    SharedHooks,
)
from .dispatch import ApiVersionDispatcher
from .service import (
    Embeddings,
    EmbeddingsService,
    ImageInput,
    ImageRequest,
    ModelInfo,
    ServiceError,
    TextInput,
    TextRequest,
)


def create_app(
    service: EmbeddingsService,
    *,
    api_keys: Iterable[str] | None = None,
    authenticate: Callable[[Any], Awaitable[bool]] | None = None,
    contracts: Iterable[Contract] = CONTRACTS,
    **options: Any,
) -> ApiVersionDispatcher:
    """The ASGI app serving `service` under every contract.

    api_keys, authenticate and the other options (max_body_bytes, ...) are those of the
    generated packages' create_app(), given to each contract's app: the same keys open every
    contract, each in its own way of sending them (`api-key` or `Authorization: Bearer` for
    the Azure versions, `Authorization: Bearer` for OpenAI). `authenticate` receives the
    contract's RequestContext.
    """
    if api_keys is not None and not isinstance(api_keys, (str, bytes, bytearray)):
        api_keys = tuple(api_keys)  # given to each contract: an iterator would serve only one
    if options.get("metrics", True) is True:
        try:  # one registry for every contract: /metrics shows them all (api_version label)
            from prometheus_client import CollectorRegistry
        except ImportError:
            pass
        else:
            options["metrics"] = CollectorRegistry()
    hooks = SharedHooks(service)  # the service's startup/shutdown, once for all contracts
    apps = {}
    for contract in contracts:
        adapter = ContractAdapter(service, contract, hooks=hooks)
        apps[contract.version] = adapter.package.create_app(
            adapter, api_keys=api_keys, authenticate=authenticate, **options)
    return ApiVersionDispatcher(apps, default=DEFAULT_CONTRACT, prefixes=DEFAULT_PREFIXES)


__all__ = [
    "CONTRACTS",
    "DEFAULT_CONTRACT",
    "DEFAULT_PREFIXES",
    "MAX_INPUTS",
    "ApiVersionDispatcher",
    "Contract",
    "ContractAdapter",
    "Embeddings",
    "EmbeddingsService",
    "ImageInput",
    "ImageRequest",
    "ModelInfo",
    "ServiceError",
    "SharedHooks",
    "TextInput",
    "TextRequest",
    "create_app",
]
