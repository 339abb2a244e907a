"""The contracts served, and the adapter that gives one service every contract's Protocol.

A generated package's create_app() calls its service with that contract's validated body
model and RequestContext, and expects that contract's result model. ContractAdapter is such
a service for any of the packages listed in CONTRACTS: it reduces the body to a TextRequest
or ImageRequest, calls the one EmbeddingsService, encodes the float vectors in the requested
`encoding_format` with the package's own encoder, and builds the package's result model. A
neutral ServiceError becomes the package's, so it is answered in the contract's error shape.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any

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


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """One contract the app serves: a generated package and what its results can carry."""

    #: The api-version that selects it ("v1": OpenAI, which takes no api-version).
    version: str
    #: The generated package (importable: `generated/` on the path, or installed).
    package: str
    #: The result model of its embeddings operations.
    result: str
    #: Whether its embedding item can hold a base64 string (2024-04-01-preview documents
    #: `number[]` only: base64 is refused there with 422 rather than answered off-contract).
    carries_base64: bool = True


#: Every contract in spec/, one per generated package (a test keeps this equal to spec/).
CONTRACTS: tuple[Contract, ...] = (
    Contract(version="2024-04-01-preview", package="model_inference_2024_04_01_preview",
             result="CreateEmbeddingResponse", carries_base64=False),
    Contract(version="2024-05-01-preview", package="model_inference_2024_05_01_preview",
             result="EmbeddingsResult"),
    Contract(version="v1", package="openai_embeddings_v1", result="CreateEmbeddingResponse"),
)
#: The contract for requests without an api-version, and the paths it is also served under:
#: the OpenAI SDK posts to `{base_url}/embeddings`, with base URLs ending in `/v1` (OpenAI) or
#: `/openai/v1` (Azure's v1 endpoints), or the bare host.
DEFAULT_CONTRACT = "v1"
DEFAULT_PREFIXES = ("/v1", "/openai/v1")
#: The most inputs one request may hold (OpenAI's documented limit, for every contract).
MAX_INPUTS = 2048


class SharedHooks:
    """The service's `startup` and `shutdown` (either may be missing), run once for every
    contract that shares the service: startup by the first contract app that starts (through
    the lifespan, or before its first request on a host without one), shutdown when the last
    one that started stops."""

    def __init__(self, service: object) -> None:
        self.service = service
        self._lock = asyncio.Lock()
        self._started = False
        self._users = 0

    async def startup(self) -> None:
        async with self._lock:
            if not self._started:
                hook = getattr(self.service, "startup", None)
                if hook is not None:
                    await hook()
                self._started = True
            self._users += 1

    async def shutdown(self) -> None:
        async with self._lock:
            self._users = max(0, self._users - 1)
            if self._users == 0 and self._started:
                self._started = False
                hook = getattr(self.service, "shutdown", None)
                if hook is not None:
                    await hook()


class ContractAdapter:
    """One contract's service Protocol over an EmbeddingsService (see the module docstring)."""

    def __init__(self, service: EmbeddingsService, contract: Contract,
                 package: ModuleType | None = None, hooks: SharedHooks | None = None) -> None:
        self.service = service
        self.contract = contract
        #: The service's lifespan hooks, shared with the other contracts' adapters.
        self.hooks = hooks if hooks is not None else SharedHooks(service)
        self.package = package if package is not None else importlib.import_module(contract.package)
        # the package's ServiceError: same signature as embeddings_server.ServiceError
        self._error: Any = self.package.ServiceError
        self._not_given: type = self.package.NotGiven
        self._encode = importlib.import_module(f"{self.package.__name__}.encoding").encode_embedding
        formats = importlib.import_module(f"{self.package.__name__}.encoding").ENCODING_FORMATS
        self._formats = tuple(f for f in formats if f != "base64" or contract.carries_base64)
        models = self.package.models
        self._result_type: Any = getattr(models, contract.result)
        self._result_fields = {f.name for f in fields(self._result_type)}
        self._info_type: Any = getattr(models, "ModelInfo", None)

    # ---- the lifespan hooks the generated apps call (once each, per contract) ----

    async def startup(self) -> None:
        await self.hooks.startup()

    async def shutdown(self) -> None:
        await self.hooks.shutdown()

    # ---- the operations, by the names the generated Protocols give them ----

    async def get_embeddings(self, body: Any, context: Any) -> Any:
        inputs = _text_inputs(body.input)
        request = TextRequest(
            inputs=inputs, dimensions=self._given(body.dimensions),
            encoding_format=self._format(body), input_type=self._text(body, "input_type"),
            model=self._text(body, "model"), user=self._text(body, "user"),
            extra=dict(context.extra_body), contract=self.contract.version, context=context)
        self._check_count(len(inputs))
        return self._result(request, await self._call(self.service.embed_texts, request))

    #: OpenAI's operation (createEmbedding) is the same request.
    create_embedding = get_embeddings

    async def get_image_embeddings(self, body: Any, context: Any) -> Any:
        embed = getattr(self.service, "embed_images", None)
        if embed is None:
            raise self._error(404, "ModalityNotSupported",
                              "This model does not embed images; use /embeddings for text.")
        inputs = tuple(ImageInput(image=item.image, text=self._text(item, "text"), index=i)
                       for i, item in enumerate(body.input))
        request = ImageRequest(
            inputs=inputs, dimensions=self._given(body.dimensions),
            encoding_format=self._format(body), input_type=self._text(body, "input_type"),
            model=self._text(body, "model"), extra=dict(context.extra_body),
            contract=self.contract.version, context=context)
        self._check_count(len(inputs))
        return self._result(request, await self._call(embed, request))

    async def get_model_info(self, body: Any, context: Any) -> Any:
        describe = getattr(self.service, "model_info", None)
        if describe is None or self._info_type is None:
            raise self._error(404, "NotFound", "This service does not describe its model.")
        info = await self._call(describe)
        if not isinstance(info, ModelInfo):
            raise TypeError(f"model_info() returned {type(info).__name__}, not ModelInfo")
        return self._info_type.from_dict({"model_name": info.name, "model_type": info.type,
                                          "model_provider_name": info.provider})

    # ---- the parts ----

    async def _call(self, method: Any, *args: Any) -> Any:
        try:
            return await method(*args)
        except ServiceError as error:
            raise self._error(error.status, error.code, error.message, **error.options()) from None

    def _given(self, value: Any) -> Any:
        """None for an absent (NOT_GIVEN) or null field."""
        return None if isinstance(value, self._not_given) else value

    def _text(self, body: Any, name: str) -> str | None:
        """A string field (an open enum member as its value); None when absent or null."""
        value = self._given(getattr(body, name, None))
        return None if value is None else str(getattr(value, "value", value))

    def _format(self, body: Any) -> str:
        encoding = self._text(body, "encoding_format") or "float"
        if encoding not in self._formats:
            raise self._error(422, "UnsupportedParameter",
                              f"encoding_format {encoding[:64]!r} is not supported here; use one "
                              f"of {', '.join(self._formats)}", target="encoding_format",
                              value=encoding[:64])
        return encoding

    def _check_count(self, count: int) -> None:
        if count == 0:
            raise self._error(422, "InvalidInput", "input must hold at least one item",
                              target="input")
        if count > MAX_INPUTS:
            raise self._error(422, "InvalidInput", f"input holds more than {MAX_INPUTS} items",
                              target="input", value=count)

    def _result(self, request: TextRequest | ImageRequest, embeddings: Any) -> Any:
        if not isinstance(embeddings, Embeddings):
            raise TypeError(f"the service returned {type(embeddings).__name__}, not Embeddings")
        if len(embeddings.vectors) != len(request.inputs):
            raise TypeError(f"the service returned {len(embeddings.vectors)} vectors for "
                            f"{len(request.inputs)} inputs")
        encode = self._encode
        encoding = request.encoding_format
        tokens = embeddings.prompt_tokens
        total = tokens if embeddings.total_tokens is None else embeddings.total_tokens
        result = {
            "id": embeddings.id or f"emb-{uuid.uuid4().hex[:24]}",
            "object": "list",
            "data": [{"index": i, "object": "embedding", "embedding": encode(vector, encoding)}
                     for i, vector in enumerate(embeddings.vectors)],
            "model": embeddings.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": total},
        }
        return self._result_type.from_dict(
            {k: v for k, v in result.items() if k in self._result_fields})


def _text_inputs(value: Any) -> tuple[TextInput, ...]:
    """A contract's `input` (validated: a string, strings, a token array or token arrays) as
    a tuple of inputs, each a string or a tuple of token ids."""
    if isinstance(value, str):
        return (value,)
    if not value:
        return ()
    if isinstance(value[0], int):
        return (tuple(value),)
    return tuple(item if isinstance(item, str) else tuple(item) for item in value)
