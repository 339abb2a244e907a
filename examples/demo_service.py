"""A demo embeddings service behind the generated server: deterministic vectors, no model.

    make serve                      # http://127.0.0.1:8000, key "demo-key"
    PORT=9000 API_KEY=s3cret make serve

Every input gets a unit-length vector drawn from SHAKE-256 of the input (its kind, the
`input_type`, the text or the decoded image bytes), so the same input always gives the same
embedding and `dimensions=d` gives the first d values of the full vector, renormalised. The
vector is sent in the requested `encoding_format` with the package's own encoder. Usage
counts tokens as words and punctuation marks (`\\w+` or one other non-space character); an
image counts one token. Unsupported values answer 422 in the documented error shape, naming
the field, as the reference pages say the service does.

Hand-written; it only imports the generated package, as an implementer's service would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import fields
from types import ModuleType
from typing import Any

import model_inference_2024_05_01_preview as default_package
from model_inference_2024_05_01_preview import RequestContext, ServiceError, create_app
from model_inference_2024_05_01_preview.encoding import ENCODING_FORMATS, encode_embedding

DEFAULT_MODEL = "demo-embedding"
DEFAULT_DIMENSIONS = 256
MAX_DIMENSIONS = 4096
MAX_INPUTS = 2048
INPUT_TYPES = ("text", "query", "document")

_TOKEN = re.compile(r"\w+|[^\w\s]")
_DATA_URL = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^;,]*)*?);base64,(?P<data>.*)\Z",
                       re.DOTALL)


def count_tokens(text: str) -> int:
    """The demo's token count: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def vector(seed: bytes, dimensions: int) -> list[float]:
    """A deterministic unit vector: the first `dimensions` values of the seed's stream."""
    raw = hashlib.shake_256(seed).digest(2 * dimensions)
    values = [int.from_bytes(raw[i:i + 2], "little") / 32767.5 - 1.0 for i in range(0, len(raw), 2)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def text_seed(text: str, input_type: str = "text") -> bytes:
    """What a text input's vector is drawn from."""
    return b"text\0" + input_type.encode() + b"\0" + text.encode("utf-8", "surrogatepass")


def image_seed(image: bytes, text: str = "", input_type: str = "text") -> bytes:
    """What an image input's vector is drawn from: the image bytes and its optional text."""
    return (b"image\0" + input_type.encode() + b"\0" + hashlib.sha256(image).digest()
            + text.encode("utf-8", "surrogatepass"))


def _image_bytes(image: str, path: str, error: type[ServiceError]) -> bytes:
    """The bytes of a `data:image/...;base64,...` URL (or of bare base64)."""
    match = _DATA_URL.match(image)
    if match is not None and not (match["type"] or "image/").startswith("image/"):
        raise error(422, "InvalidImage", f"{path} must be an image, not {match['type']!r}",
                    target=path, value=match["type"])
    try:
        return base64.b64decode(match["data"] if match else image, validate=True)
    except (binascii.Error, ValueError):
        raise error(422, "InvalidImage", f"{path} is not a base64 image or data URL",
                    target=path, value=image[:64]) from None


class DemoService:
    """Implements the generated service Protocol (both operations) deterministically.

    `package` and `result` let the same demo serve another api-version's generated package
    (its ServiceError, its NotGiven, and the name of its result model); `formats` limits the
    encodings offered (an api-version whose result cannot carry a base64 string leaves it out).
    """

    def __init__(
        self,
        *,
        package: ModuleType = default_package,
        result: str = "EmbeddingsResult",
        formats: Sequence[str] = ENCODING_FORMATS,
        default_dimensions: int = DEFAULT_DIMENSIONS,
        max_dimensions: int = MAX_DIMENSIONS,
    ) -> None:
        self.result_type: Any = getattr(package.models, result)
        self.error: type[ServiceError] = package.ServiceError
        self.not_given: type = package.NotGiven
        self.formats = tuple(formats)
        self.default_dimensions = default_dimensions
        self.max_dimensions = max_dimensions
        self._result_fields = {f.name for f in fields(self.result_type)}

    async def get_embeddings(self, body: Any, context: RequestContext) -> Any:
        texts = list(body.input)
        input_type = self._input_type(body)
        seeds = [text_seed(t, input_type) for t in texts]
        return self._result(body, seeds, sum(count_tokens(t) for t in texts))

    async def get_image_embeddings(self, body: Any, context: RequestContext) -> Any:
        seeds = []
        tokens = 0
        input_type = self._input_type(body)
        for index, item in enumerate(body.input):
            image = _image_bytes(item.image, f"input[{index}].image", self.error)
            text = self._given(getattr(item, "text", None)) or ""
            seeds.append(image_seed(image, text, input_type))
            tokens += 1 + count_tokens(text)
        return self._result(body, seeds, tokens)

    def _given(self, value: Any) -> Any:
        """None for an absent (NOT_GIVEN) or null field."""
        return None if isinstance(value, self.not_given) else value

    def _input_type(self, body: Any) -> str:
        value = self._given(getattr(body, "input_type", None))
        input_type = "text" if value is None else str(getattr(value, "value", value))
        if input_type not in INPUT_TYPES:
            raise self.error(422, "UnsupportedParameter",
                             f"input_type {input_type[:64]!r} is not supported; use one of "
                             f"{', '.join(INPUT_TYPES)}", target="input_type", value=input_type[:64])
        return input_type

    def _result(self, body: Any, seeds: list[bytes], tokens: int) -> Any:
        if not seeds:
            raise self.error(422, "InvalidInput", "input must hold at least one item", target="input")
        if len(seeds) > MAX_INPUTS:
            raise self.error(422, "InvalidInput", f"input holds more than {MAX_INPUTS} items",
                             target="input", value=len(seeds))
        dimensions = self._given(body.dimensions)
        if dimensions is None:
            dimensions = self.default_dimensions
        elif not 1 <= dimensions <= self.max_dimensions:
            raise self.error(422, "UnsupportedParameter",
                             f"dimensions must be 1..{self.max_dimensions}, not {dimensions}",
                             target="dimensions", value=dimensions)
        fmt = self._given(body.encoding_format)
        encoding = "float" if fmt is None else str(getattr(fmt, "value", fmt))
        if encoding not in self.formats:
            raise self.error(422, "UnsupportedParameter",
                             f"encoding_format {encoding[:64]!r} is not supported; use one of "
                             f"{', '.join(self.formats)}", target="encoding_format",
                             value=encoding[:64])
        model = self._given(getattr(body, "model", None)) or DEFAULT_MODEL
        result: dict[str, Any] = {
            "id": f"emb-{uuid.uuid4().hex[:24]}",
            "data": [{"index": i, "object": "embedding",
                      "embedding": encode_embedding(vector(seed, dimensions), encoding)}
                     for i, seed in enumerate(seeds)],
            "object": "list",
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return self.result_type.from_dict(
            {k: v for k, v in result.items() if k in self._result_fields})


def build_app(api_key: str | None = None, **options: Any) -> Any:
    """The generated app serving a DemoService; `api_key` None reads API_KEY (or "demo-key")."""
    key = api_key if api_key is not None else os.environ.get("API_KEY", "demo-key")
    return create_app(DemoService(), api_keys=[key], **options)


def serve_app() -> Any:
    """`make serve`'s app (a factory for granian): build_app(), with the access log (one JSON
    line per request, at INFO) and the server's errors printed on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    package_logger = logging.getLogger(default_package.__name__)
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    package_logger.propagate = False
    return build_app()


def main() -> None:
    """`python examples/demo_service.py`: what `make serve` runs, from Python."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    port = int(os.environ.get("PORT", "8000"))
    print(f"demo embeddings service on http://127.0.0.1:{port} (api-version 2024-05-01-preview)")
    Granian("examples.demo_service:serve_app", address="127.0.0.1", port=port,
            interface=Interfaces.ASGI, factory=True,
            http1_settings=HTTP1Settings(header_read_timeout=5000)).serve()


if __name__ == "__main__":
    main()
