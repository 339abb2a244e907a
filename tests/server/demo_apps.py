"""The demo service behind each api-version's generated server."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from examples.demo_service import DemoService


def _api_key(key: str) -> dict[str, str]:
    return {"api-key": key}


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


VERSIONS: dict[str, dict[str, Any]] = {
    "2024-05-01-preview": {
        "package": "model_inference_2024_05_01_preview",
        "result": "EmbeddingsResult",
        "auth": _api_key,
    },
    # Its Embedding.embedding is documented as number[] only: a base64 string would break the
    # documented response, so the adapter refuses that format (422) rather than send one.
    "2024-04-01-preview": {
        "package": "model_inference_2024_04_01_preview",
        "result": "CreateEmbeddingResponse",
        "auth": _bearer,
    },
    # OpenAI v1: no api-version, a bearer key, OpenAI's error body.
    "v1": {
        "package": "openai_embeddings_v1",
        "result": "CreateEmbeddingResponse",
        "auth": _bearer,
    },
}


def demo_service(version: str) -> DemoService:
    info = VERSIONS[version]
    package = importlib.import_module(info["package"])
    return DemoService(package=package)


def demo_app(version: str, key: str, service: Any = None, **options: Any) -> Any:
    package = importlib.import_module(VERSIONS[version]["package"])
    create_app: Callable[..., Any] = package.create_app
    return create_app(service if service is not None else demo_service(version),
                      api_keys=[key], **options)
