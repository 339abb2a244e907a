"""Every documented sample of every spec in spec/, through the generated models, client and server.

The samples come from the specs' examples (written verbatim from the seed pages), so these
tests prove each generated package against the documentation, not against itself.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from types import ModuleType
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator import ir
from generator.cli import build_api
from generator.diagnostics import join_pointer
from generator.load import load
from tests.conftest import SPEC_DIR, serve

SPECS = sorted(SPEC_DIR.glob("*.yaml"))
APIS = {spec.name: build_api(spec)[0] for spec in SPECS}
KEY = "test-key-0123"


def _class_name(api: ir.Api, t: ir.TypeRef | None) -> str:
    assert isinstance(t, ir.NamedType)
    return next(d.py_name for d in api.definitions if d.name == t.name)


def _cases() -> list[Any]:
    cases = []
    for spec_name, api in APIS.items():
        for op in api.operations:
            for example in op.examples:
                cases.append(pytest.param(spec_name, op.py_name, example.name,
                                          id=f"{api.api_version}-{example.name}"))
    return cases


CASES = _cases()


class Sample:
    """One documented example with everything a test needs to send it."""

    def __init__(self, spec_name: str, operation: str, example_name: str) -> None:
        self.api = APIS[spec_name]
        self.spec = SPEC_DIR / spec_name
        self.op = next(o for o in self.api.operations if o.py_name == operation)
        example = next(e for e in self.op.examples if e.name == example_name)
        assert example.response is not None and example.status == "200"
        # an operation without a request body (GET /info) documents only the response
        assert (example.request is None) == (self.op.body is None)
        self.request_json = None if example.request is None else json.loads(example.request)
        self.response_json = json.loads(example.response)
        self.package: ModuleType = importlib.import_module(self.api.package)
        self.models = importlib.import_module(f"{self.api.package}.models")
        self.body_model = (None if self.op.body is None
                           else getattr(self.models, _class_name(self.api, self.op.body.type)))
        ok = next(r for r in self.op.responses if r.status == "200")
        self.result_model = getattr(self.models, _class_name(self.api, ok.type))
        self.ok_pointer = ok.pointer


def test_every_documented_sample_is_in_the_specs() -> None:
    names = {spec: sorted(e.name for op in api.operations for e in op.examples)
             for spec, api in APIS.items()}
    assert names["2024-05-01-preview.yaml"] == [
        "maximum_set_embeddings", "maximum_set_image_embeddings", "maximum_set_model_information",
        "minimum_set_embeddings", "minimum_set_image_embeddings", "minimum_set_model_information"]
    assert names["2024-04-01-preview.yaml"] == ["image_embeddings"]
    assert names["openai-v1.yaml"] == ["create_embeddings"]
    assert all(names.values()), names


@pytest.mark.parametrize(("spec_name", "operation", "example"), CASES)
def test_samples_round_trip_to_the_same_json(spec_name: str, operation: str,
                                             example: str) -> None:
    sample = Sample(spec_name, operation, example)
    result = sample.result_model.from_dict(sample.response_json)
    assert result.to_dict() == sample.response_json
    if spec_name != "2024-04-01-preview.yaml":  # properties in the samples' order
        assert json.dumps(result.to_dict()) == json.dumps(sample.response_json)
    if sample.body_model is None:
        return
    body = sample.body_model.from_dict(sample.request_json)
    assert body.to_dict() == sample.request_json
    if spec_name != "2024-04-01-preview.yaml":
        assert json.dumps(body.to_dict()) == json.dumps(sample.request_json)
    # strict validation (the server's view of a request) accepts the samples too
    assert sample.body_model.validate(sample.request_json).to_dict() == sample.request_json


@pytest.mark.parametrize(("spec_name", "operation", "example"), CASES)
def test_samples_validate_against_the_spec_schemas(spec_name: str, operation: str,
                                                   example: str) -> None:
    sample = Sample(spec_name, operation, example)
    document = load(sample.spec).root
    uri = document.path.as_uri()
    registry = Registry().with_resource(
        uri, Resource.from_contents(document.data, default_specification=DRAFT202012))
    ok_pointer = join_pointer(sample.ok_pointer, "content", "application/json", "schema")
    checks = [(ok_pointer, sample.response_json)]
    if sample.op.body is not None:
        checks.append((join_pointer(sample.op.body.pointer, "content", sample.op.body.media_type,
                                    "schema"), sample.request_json))
    for pointer, value in checks:
        validator = jsonschema.Draft202012Validator({"$ref": f"{uri}#{pointer}"},
                                                    registry=registry)
        assert list(validator.iter_errors(value)) == []


class RecordingService:
    """Answers every call with the documented sample response; records what it received."""

    def __init__(self, sample: Sample) -> None:
        self.sample = sample
        self.received: list[tuple[str, Any, Any]] = []

    def __getattr__(self, operation: str) -> Any:
        async def handle(body: Any, context: Any) -> Any:
            self.received.append((operation, body, context))
            return self.sample.result_model.from_dict(self.sample.response_json)
        return handle


def _check_result(sample: Sample, result: Any) -> None:
    assert isinstance(result, sample.result_model)
    if hasattr(result, "data"):
        assert type(result.data[0]).__name__ in ("EmbeddingItem", "Embedding")
    assert result.to_dict() == sample.response_json


def _check_received(sample: Sample, service: RecordingService, sent: list[bytes]) -> None:
    [(name, body, context)] = service.received
    assert name == sample.op.py_name
    if sample.body_model is None:
        assert body is None and sent == [b""]
    else:
        assert isinstance(body, sample.body_model)
        assert body.to_dict() == sample.request_json
        assert [json.loads(raw) for raw in sent] == [sample.request_json]  # exactly it, on the wire
    assert context.api_version == sample.package.API_VERSION
    assert context.extra_body == {}  # nothing extra was sent
    assert KEY not in json.dumps(dict(context.headers))  # the key is not handed to the service


def _keyword_arguments(sample: Sample) -> dict[str, Any]:
    """The sample's body fields as keyword arguments, decoded by the body model itself."""
    if sample.body_model is None:
        return {}
    fields = sample.body_model.from_dict(sample.request_json)
    return {f.attr: getattr(fields, f.attr) for f in type(fields)._fields
            if f.wire in sample.request_json}


@pytest.mark.parametrize(("spec_name", "operation", "example"), CASES)
def test_async_client_to_server_over_asgi(spec_name: str, operation: str, example: str) -> None:
    sample = Sample(spec_name, operation, example)
    server = importlib.import_module(f"{sample.api.package}.server")
    client_module = importlib.import_module(f"{sample.api.package}.aio")
    service = RecordingService(sample)
    app = server.create_app(service, api_keys=[KEY])
    sent: list[bytes] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request.content)

    async def run() -> Any:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 event_hooks={"request": [record]})
        client_class = getattr(client_module, f"Async{sample.api.class_prefix}Client")
        async with http, client_class("http://testserver", api_key=KEY,
                                      http_client=http) as client:
            method = getattr(client, operation)
            return await method(**_keyword_arguments(sample))

    _check_result(sample, asyncio.run(run()))
    _check_received(sample, service, sent)


@pytest.mark.parametrize(("spec_name", "operation", "example"), CASES)
def test_sync_client_to_server_over_uvicorn(spec_name: str, operation: str,
                                            example: str) -> None:
    sample = Sample(spec_name, operation, example)
    server = importlib.import_module(f"{sample.api.package}.server")
    client_module = importlib.import_module(f"{sample.api.package}.client")
    service = RecordingService(sample)
    sent: list[bytes] = []
    with serve(server.create_app(service, api_keys=[KEY])) as url:
        http = httpx.Client(event_hooks={"request": [lambda r: sent.append(r.content)]})
        client_class = getattr(client_module, f"{sample.api.class_prefix}Client")
        with client_class(url, api_key=KEY, http_client=http) as client:
            result = getattr(client, operation)(**_keyword_arguments(sample))
        http.close()
    _check_result(sample, result)
    _check_received(sample, service, sent)
