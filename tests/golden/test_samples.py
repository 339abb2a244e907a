"""Every documented sample, through the generated models, client and server.

The samples come from the spec's examples (written verbatim from the seed pages), so these
tests prove the generated code against the documentation, not against itself.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import jsonschema
import model_inference_2024_05_01_preview as pkg
import pytest
from model_inference_2024_05_01_preview import client as client_module
from model_inference_2024_05_01_preview import models
from model_inference_2024_05_01_preview.server import create_app
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator.cli import build_api
from generator.load import load
from tests.conftest import SPEC_DIR, serve

SPEC = SPEC_DIR / "2024-05-01-preview.yaml"
API, _ = build_api(SPEC)
BODY_MODELS = {"get_embeddings": models.EmbeddingsOptions,
               "get_image_embeddings": models.ImageEmbeddingsOptions}
SAMPLES = [
    pytest.param(op.py_name, json.loads(ex.request), json.loads(ex.response), id=ex.name)
    for op in API.operations for ex in op.examples
]
KEY = "test-key-0123"


def test_every_documented_sample_is_in_the_spec() -> None:
    names = sorted(ex.name for op in API.operations for ex in op.examples)
    assert names == ["maximum_set_embeddings", "maximum_set_image_embeddings",
                     "minimum_set_embeddings", "minimum_set_image_embeddings"]
    for op in API.operations:
        for ex in op.examples:
            assert ex.request is not None and ex.response is not None and ex.status == "200"


@pytest.mark.parametrize(("operation", "request_json", "response_json"), SAMPLES)
def test_samples_round_trip_to_the_same_json(operation: str, request_json: Any,
                                             response_json: Any) -> None:
    body = BODY_MODELS[operation].from_dict(request_json)
    assert json.dumps(body.to_dict()) == json.dumps(request_json)  # same keys, same order
    result = models.EmbeddingsResult.from_dict(response_json)
    assert json.dumps(result.to_dict()) == json.dumps(response_json)
    # strict validation (the server's view) accepts the samples too
    assert BODY_MODELS[operation].validate(request_json).to_dict() == request_json


@pytest.mark.parametrize(("operation", "request_json", "response_json"), SAMPLES)
def test_samples_validate_against_the_spec_schemas(operation: str, request_json: Any,
                                                   response_json: Any) -> None:
    document = load(SPEC).root
    uri = document.path.as_uri()
    registry = Registry().with_resource(
        uri, Resource.from_contents(document.data, default_specification=DRAFT202012))
    op = next(o for o in API.operations if o.py_name == operation)
    for pointer, value in ((op.body.pointer + "/content/application~1json/schema", request_json),
                           ("/components/responses/EmbeddingsOk/content/application~1json/schema",
                            response_json)):
        validator = jsonschema.Draft202012Validator({"$ref": f"{uri}#{pointer}"},
                                                    registry=registry)
        assert list(validator.iter_errors(value)) == []


class RecordingService:
    """Answers every call with the documented sample response; records what it received."""

    def __init__(self, response_json: Any) -> None:
        self.response_json = response_json
        self.received: list[tuple[str, Any, Any]] = []

    async def get_embeddings(self, body: Any, context: Any) -> models.EmbeddingsResult:
        self.received.append(("get_embeddings", body, context))
        return models.EmbeddingsResult.from_dict(self.response_json)

    async def get_image_embeddings(self, body: Any, context: Any) -> models.EmbeddingsResult:
        self.received.append(("get_image_embeddings", body, context))
        return models.EmbeddingsResult.from_dict(self.response_json)


def _check_result(result: Any, response_json: Any) -> None:
    assert isinstance(result, models.EmbeddingsResult)
    assert isinstance(result.data[0], models.EmbeddingItem)
    assert isinstance(result.usage, models.EmbeddingsUsage)
    assert result.to_dict() == response_json
    assert json.dumps(result.to_dict()) == json.dumps(response_json)


def _check_received(service: RecordingService, sent: list[bytes], operation: str,
                    request_json: Any) -> None:
    [(name, body, context)] = service.received
    assert name == operation
    assert isinstance(body, BODY_MODELS[operation])
    assert body.to_dict() == request_json
    assert [json.loads(raw) for raw in sent] == [request_json]  # the wire carried exactly it
    assert context.api_version == pkg.API_VERSION
    assert context.extra_parameters == "error"  # documented default, nothing extra was sent
    assert "api-key" not in context.headers


@pytest.mark.parametrize(("operation", "request_json", "response_json"), SAMPLES)
def test_async_client_to_server_over_asgi(operation: str, request_json: Any,
                                          response_json: Any) -> None:
    service = RecordingService(response_json)
    app = create_app(service, api_keys=[KEY])
    sent: list[bytes] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request.content)

    async def run() -> Any:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 event_hooks={"request": [record]})
        async with http, client_module.AsyncModelInferenceClient(
                "http://testserver", api_key=KEY, http_client=http) as client:
            method = getattr(client, operation)
            return await method(BODY_MODELS[operation].from_dict(request_json))

    _check_result(asyncio.run(run()), response_json)
    _check_received(service, sent, operation, request_json)


@pytest.mark.parametrize(("operation", "request_json", "response_json"), SAMPLES)
def test_sync_client_to_server_over_uvicorn(operation: str, request_json: Any,
                                            response_json: Any) -> None:
    service = RecordingService(response_json)
    sent: list[bytes] = []
    with serve(create_app(service, api_keys=[KEY])) as url:
        http = httpx.Client(event_hooks={"request": [lambda r: sent.append(r.content)]})
        with client_module.ModelInferenceClient(url, api_key=KEY, http_client=http) as client:
            # the fields as keyword arguments, decoded from the sample by the model itself
            fields = BODY_MODELS[operation].from_dict(request_json)
            kwargs = {f.attr: getattr(fields, f.attr) for f in type(fields)._fields
                      if f.wire in request_json}
            result = getattr(client, operation)(**kwargs)
        http.close()
    _check_result(result, response_json)
    _check_received(service, sent, operation, request_json)
