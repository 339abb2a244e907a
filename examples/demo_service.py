"""A demo embeddings service behind every contract: deterministic vectors, no model.

    make serve                      # http://127.0.0.1:8000, key "demo-key"
    PORT=9000 API_KEY=s3cret make serve

One process answers every contract in spec/ (embeddings_server.create_app): the Azure AI
Model Inference api-versions (`?api-version=...`) and OpenAI v1 (no api-version; base URL
`http://127.0.0.1:8000`, `.../v1` or `.../openai/v1`).

Every input gets a unit-length vector drawn from SHAKE-256 of the input (its kind, the
`input_type`, the text, the token ids or the decoded image bytes), so the same input always
gives the same embedding and `dimensions=d` gives the first d values of the full vector,
renormalised. The app writes it in the requested `encoding_format`. Usage counts tokens as
words and punctuation marks (`\\w+` or one other non-space character), a token array as its
length; an image counts one token. Unsupported values answer 422 in the contract's error
shape, naming the field, as the reference pages say the service does.

Hand-written; it implements embeddings_server's service once, as an implementer would.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from types import ModuleType
from typing import Any

import model_inference_2024_05_01_preview as default_package

from embeddings_server import (
    CONTRACTS,
    ContractAdapter,
    Embeddings,
    ImageRequest,
    ModelInfo,
    ServiceError,
    TextInput,
    TextRequest,
    create_app,
)

DEFAULT_MODEL = "demo-embedding"
MODEL_PROVIDER = "embeddings-codegen demo"
DEFAULT_DIMENSIONS = 256
MAX_DIMENSIONS = 4096
INPUT_TYPES = ("text", "query", "document")

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """The demo's token count: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def vector(seed: bytes, dimensions: int) -> list[float]:
    """A deterministic unit vector: the first `dimensions` values of the seed's stream."""
    raw = hashlib.shake_256(seed).digest(2 * dimensions)
    values = [int.from_bytes(raw[i:i + 2], "little") / 32767.5 - 1.0 for i in range(0, len(raw), 2)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def text_seed(text: TextInput, input_type: str = "text") -> bytes:
    """What a text input's vector is drawn from: its text, or its token ids."""
    if isinstance(text, str):
        return b"text\0" + input_type.encode() + b"\0" + text.encode("utf-8", "surrogatepass")
    return b"tokens\0" + input_type.encode() + b"\0" + ",".join(map(str, text)).encode()


def image_seed(image: bytes, text: str = "", input_type: str = "text") -> bytes:
    """What an image input's vector is drawn from: the image bytes and its optional text."""
    return (b"image\0" + input_type.encode() + b"\0" + hashlib.sha256(image).digest()
            + text.encode("utf-8", "surrogatepass"))


def input_tokens(text: TextInput) -> int:
    """Tokens of one text input: words and marks of a string, the length of a token array."""
    return count_tokens(text) if isinstance(text, str) else len(text)


class DemoEmbeddings:
    """The demo model, written once for every contract (embeddings_server's service)."""

    def __init__(self, *, default_dimensions: int = DEFAULT_DIMENSIONS,
                 max_dimensions: int = MAX_DIMENSIONS) -> None:
        self.default_dimensions = default_dimensions
        self.max_dimensions = max_dimensions

    async def embed_texts(self, request: TextRequest) -> Embeddings:
        input_type = self._input_type(request.input_type)
        dimensions = self._dimensions(request.dimensions)
        return Embeddings(vectors=[vector(text_seed(t, input_type), dimensions)
                                   for t in request.inputs],
                          model=request.model or DEFAULT_MODEL,
                          prompt_tokens=sum(input_tokens(t) for t in request.inputs))

    async def embed_images(self, request: ImageRequest) -> Embeddings:
        input_type = self._input_type(request.input_type)
        dimensions = self._dimensions(request.dimensions)
        vectors = [vector(image_seed(item.image_bytes(), item.text or "", input_type), dimensions)
                   for item in request.inputs]
        tokens = sum(1 + count_tokens(item.text or "") for item in request.inputs)
        return Embeddings(vectors=vectors, model=request.model or DEFAULT_MODEL,
                          prompt_tokens=tokens)

    async def model_info(self) -> ModelInfo:
        return ModelInfo(name=DEFAULT_MODEL, type="embeddings", provider=MODEL_PROVIDER)

    def _input_type(self, value: str | None) -> str:
        input_type = value or "text"
        if input_type not in INPUT_TYPES:
            raise ServiceError(422, "UnsupportedParameter",
                               f"input_type {input_type[:64]!r} is not supported; use one of "
                               f"{', '.join(INPUT_TYPES)}", target="input_type",
                               value=input_type[:64])
        return input_type

    def _dimensions(self, value: int | None) -> int:
        if value is None:
            return self.default_dimensions
        if not 1 <= value <= self.max_dimensions:
            raise ServiceError(422, "UnsupportedParameter",
                               f"dimensions must be 1..{self.max_dimensions}, not {value}",
                               target="dimensions", value=value)
        return value


class DemoService(ContractAdapter):
    """The demo behind one generated package's own create_app() (one contract): what
    embeddings_server.create_app() builds for each contract it serves."""

    def __init__(self, *, package: ModuleType = default_package, **options: Any) -> None:
        contract = next(c for c in CONTRACTS if c.package == package.__name__)
        super().__init__(DemoEmbeddings(**options), contract, package)


def build_app(api_key: str | None = None, **options: Any) -> Any:
    """The app serving DemoEmbeddings under every contract; `api_key` None reads API_KEY (or
    "demo-key")."""
    key = api_key if api_key is not None else os.environ.get("API_KEY", "demo-key")
    return create_app(DemoEmbeddings(), api_keys=[key], **options)


def serve_app() -> Any:
    """`make serve`'s app (a factory for granian): build_app(), with the access log (one JSON
    line per request, at INFO) and the server's errors printed on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in [c.package for c in CONTRACTS] + ["embeddings_server"]:
        package_logger = logging.getLogger(name)
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO)
        package_logger.propagate = False
    return build_app()


def main() -> None:
    """`python examples/demo_service.py`: what `make serve` runs, from Python."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings

    port = int(os.environ.get("PORT", "8000"))
    versions = ", ".join(c.version for c in CONTRACTS)
    print(f"demo embeddings service on http://127.0.0.1:{port} (contracts: {versions}; "
          "no api-version: OpenAI v1)")
    Granian("examples.demo_service:serve_app", address="127.0.0.1", port=port,
            interface=Interfaces.ASGI, http=HTTPModes.http1, loop=Loops.uvloop,
            factory=True, http1_settings=HTTP1Settings(header_read_timeout=5000)).serve()


if __name__ == "__main__":
    main()
