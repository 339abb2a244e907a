"""Unknown body properties without an `extra-parameters` header: JSON Schema allows them when
`additionalProperties` is absent (or true), so the server keeps them and hands them to the
service (`body.additional_properties`, `context.extra_body`); it refuses them, with their field
paths, only when the model forbids them (`additionalProperties: false`). Also: a route with a
path parameter next to a static path that its pattern matches (the static lookup must give
the same route as the patterns, in declaration order)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import generated_package

SPEC = """\
openapi: 3.1.0
info: {title: Open, version: 2030-02-01, x-codegen-package: open_bodies_test}
paths:
  /open:
    post:
      operationId: MakeOpen
      parameters:
        - {name: api-version, in: query, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Open'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Open'}
  /closed:
    post:
      operationId: MakeClosed
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Closed'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Closed'}
  /items/{name}:
    post:
      operationId: MakeItem
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Open'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Open'}
  /items/special:
    post:
      operationId: MakeSpecial
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Open'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Open'}
components:
  schemas:
    Open:
      type: object
      required: [name]
      properties:
        name: {type: string}
    Closed:
      type: object
      required: [name]
      additionalProperties: false
      properties:
        name: {type: string}
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with generated_package(SPEC, tmp_path_factory.mktemp("open_bodies"), "open.yaml") as module:
        yield module


class Service:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []

    async def _record(self, name: str, body: Any, context: Any) -> Any:
        self.calls.append((name, body, context))
        return body

    async def make_open(self, body: Any, context: Any) -> Any:
        return await self._record("make_open", body, context)

    async def make_closed(self, body: Any, context: Any) -> Any:
        return await self._record("make_closed", body, context)

    async def make_item(self, body: Any, context: Any) -> Any:
        return await self._record("make_item", body, context)

    async def make_special(self, body: Any, context: Any) -> Any:
        return await self._record("make_special", body, context)


def post(package: Any, service: Service, url: str, body: Any,
         headers: dict[str, str] | None = None) -> httpx.Response:
    app = package.create_app(service)

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            return await client.post(url, json=body, headers=headers or {})

    return asyncio.run(run())


def test_unknown_properties_are_kept_when_the_schema_allows_them(package: Any) -> None:
    service = Service()
    response = post(package, service, "/open?api-version=2030-02-01",
                    {"name": "a", "top_k": 3, "nested": {"x": [1, None]}})
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "a", "top_k": 3, "nested": {"x": [1, None]}}
    [(name, body, context)] = service.calls
    assert name == "make_open"
    assert body.name == "a"
    assert body.additional_properties == {"top_k": 3, "nested": {"x": [1, None]}}
    assert context.extra_body == {"top_k": 3, "nested": {"x": [1, None]}}
    assert context.extra_parameters == "pass-through"


def test_known_properties_only_leave_extra_body_empty(package: Any) -> None:
    service = Service()
    response = post(package, service, "/open?api-version=2030-02-01", {"name": "a"})
    assert response.status_code == 200
    [(_, body, context)] = service.calls
    assert body.additional_properties == {} and context.extra_body == {}


def test_a_header_named_extra_parameters_means_nothing_without_the_spec(package: Any) -> None:
    service = Service()
    response = post(package, service, "/open?api-version=2030-02-01", {"name": "a", "k": 1},
                    headers={"extra-parameters": "error"})
    assert response.status_code == 200
    assert service.calls[0][2].extra_body == {"k": 1}


def test_unknown_properties_are_refused_when_the_model_forbids_them(package: Any) -> None:
    service = Service()
    response = post(package, service, "/closed", {"name": "a", "top_k": 3, "b c": 1})
    assert response.status_code == 400
    assert response.headers["x-ms-error-code"] == "InvalidRequestBody"
    text = response.text
    assert "top_k" in text and "is not a known property" in text and "b c" in text
    assert service.calls == []
    assert post(package, service, "/closed", {"name": "a"}).status_code == 200


def test_static_lookup_resolves_as_the_patterns_do(package: Any) -> None:
    # /items/{name}'s pattern also matches /items/special: the dictionary of static paths must
    # give the route that matching the patterns in declaration order gives.
    server = importlib.import_module(f"{package.__name__}.server")
    asgi = importlib.import_module(f"{package.__name__}._asgi")
    router = asgi.Router(server.SERVER_API.routes)
    expected, params = router.match("POST", "/items/special")
    service = Service()
    assert post(package, service, "/items/special", {"name": "a"}).status_code == 200
    assert post(package, service, "/items/other", {"name": "b"}).status_code == 200
    assert [(name, context.operation_id, context.path_params)
            for name, _, context in service.calls] == [
        (service.calls[0][0], expected.operation_id, params),
        ("make_item", "MakeItem", {"name": "other"})]
    assert router.route_of({"method": "POST", "path": "/items/special"}) == (expected, params)
    assert post(package, service, "/open/", {"name": "a"}).status_code == 404
    assert post(package, service, "/closed?x=1", {"name": "a"}).status_code == 200
