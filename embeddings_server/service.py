"""What a service implements once, whatever contract a request came in by.

A service is an object with `embed_texts(request)` and, if its model has them, `embed_images`
and `model_info`. It receives the request already validated by the contract it named,
reduced to the fields every contract shares (TextRequest, ImageRequest), and returns plain
float vectors (Embeddings): the adapter writes them in the encoding and the result model of
that contract. To refuse a request, raise ServiceError; it is answered in the contract's own
error shape.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: One input of a text request: a string, or an array of token ids.
TextInput = str | tuple[int, ...]


class ServiceError(Exception):
    """Raise from a service to answer with this status, in the error shape of the contract
    the request came in by. The arguments are those of every generated package's
    ServiceError: for example `ServiceError(422, "UnsupportedParameter", "dimensions is not
    supported", target="dimensions", value=7)` or `ServiceError(429, "RateLimited", "Slow
    down", retry_after=2)`. They are checked by the contract's ServiceError when it is raised.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        value: Any = None,
        details: Iterable[tuple[str, str, str]] = (),
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.value = value
        self.details = tuple(details)
        self.headers = dict(headers or {})
        self.retry_after = retry_after

    def options(self) -> dict[str, Any]:
        """The keyword arguments, to build a contract's own ServiceError."""
        return {"target": self.target, "value": self.value, "details": self.details,
                "headers": self.headers, "retry_after": self.retry_after}


@dataclass(frozen=True, slots=True, kw_only=True)
class TextRequest:
    """A text embeddings request, from any contract."""

    #: The inputs in order: strings, or arrays of token ids. A contract's single string or
    #: single token array arrives as one input.
    inputs: tuple[TextInput, ...]
    #: The requested vector size, or None for the model's default.
    dimensions: int | None = None
    #: The format the answer will be written in ("float", "base64", "int8", ...): the adapter
    #: encodes the float vectors the service returns; a service that cannot serve a format
    #: refuses it with ServiceError(422, ...).
    encoding_format: str = "float"
    #: "text", "query", "document" (or another value a newer client sends), None if not given.
    input_type: str | None = None
    #: The model asked for, None if not given.
    model: str | None = None
    #: OpenAI's end-user id, None if not given.
    user: str | None = None
    #: Body properties the contract does not define, when its extra-parameters mode passes them.
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: The api-version of the contract the request came in by ("v1" for OpenAI).
    contract: str = ""
    #: The contract's RequestContext (request id, headers, query), for what the fields above
    #: do not carry.
    context: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageInput:
    """One image input: the image as sent (a `data:image/...;base64,...` URL) and its text."""

    image: str
    text: str | None = None
    #: Its place in the request, for error targets ("input[2]").
    index: int = 0

    def image_bytes(self) -> bytes:
        """The image's bytes, decoded from its data URL (or bare base64); a 422 ServiceError
        naming the input when it is not an image in base64."""
        target = f"input[{self.index}].image"
        match = _DATA_URL.match(self.image)
        if match is not None and not (match["type"] or "image/").startswith("image/"):
            raise ServiceError(422, "InvalidImage", f"{target} must be an image, not "
                               f"{match['type']!r}", target=target, value=match["type"])
        try:
            return base64.b64decode(match["data"] if match else self.image, validate=True)
        except (binascii.Error, ValueError):
            raise ServiceError(422, "InvalidImage", f"{target} is not a base64 image or data URL",
                               target=target, value=self.image[:64]) from None


_DATA_URL = re.compile(
    r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^;,]*)*?);base64,(?P<data>.*)\Z", re.DOTALL)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRequest:
    """An image embeddings request, from any contract (fields as in TextRequest)."""

    inputs: tuple[ImageInput, ...]
    dimensions: int | None = None
    encoding_format: str = "float"
    input_type: str | None = None
    model: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    contract: str = ""
    context: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Embeddings:
    """What a service returns: one float vector per input, in the inputs' order."""

    vectors: Sequence[Sequence[float]]
    #: The model that made them (answered as the result's `model`).
    model: str
    prompt_tokens: int
    #: Defaults to prompt_tokens (embeddings generate nothing).
    total_tokens: int | None = None
    #: The result id, where a contract has one; a random one when None.
    id: str | None = None

    def __post_init__(self) -> None:
        for name in ("prompt_tokens", "total_tokens"):
            count = getattr(self, name)
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                      or count < 0):
                raise TypeError(f"Embeddings.{name} must be a non-negative int, not {count!r}")
        if not isinstance(self.model, str):
            raise TypeError(f"Embeddings.model must be a str, not {type(self.model).__name__}")
        # The values are checked where they are encoded (a non-number, NaN or an infinity
        # there is a 500, logged): a second pass here would cost as much as the encoding.


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """What GET /info answers (2024-05-01-preview): the model's name, type and provider."""

    name: str
    provider: str
    #: "embeddings" (or "chat-completion", or another value of the open enum).
    type: str = "embeddings"


@runtime_checkable
class EmbeddingsService(Protocol):
    """The one method every service has. Optional ones, found by name:

    - `async def embed_images(self, request: ImageRequest) -> Embeddings`: without it, image
      requests answer 404 (the modality is not supported, as the 2024-04-01-preview page says);
    - `async def model_info(self) -> ModelInfo`: without it, GET /info answers 404;
    - `async def startup(self) -> None` and `async def shutdown(self) -> None`: called once
      each by the app's ASGI lifespan, whatever number of contracts it serves.
    """

    async def embed_texts(self, request: TextRequest) -> Embeddings: ...
