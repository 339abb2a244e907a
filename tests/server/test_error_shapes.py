"""Error bodies follow each response's schema, whatever shape a spec gives them: a tiny spec
with unusual error schemas (string status, a list of {loc, msg, type}, top-level Azure
details, a required field the server knows nothing about, a `4XX` range, a body-less
default) is generated, imported and served, and every answer checked against its schema."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from tests.conftest import ROOT, generated_package

SPEC = """\
openapi: 3.1.0
info: {title: Shapes, version: 2030-01-01, x-codegen-package: shapes_test}
paths:
  /things:
    post:
      operationId: MakeThing
      parameters:
        - {name: api-version, in: query, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
        '400':
          description: bad
          content:
            application/json:
              schema: {$ref: '#/components/schemas/BadRequest'}
        '409':
          description: conflict
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Conflict'}
        4XX:
          description: other client errors
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Other'}
        default:
          description: no body
security:
  - key: []
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: x-key}
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1}
        size: {type: integer}
      additionalProperties: false
    BadRequest:
      type: object
      required: [status, detail, message]
      additionalProperties: false
      properties:
        status: {type: string}
        message: {type: string}
        detail:
          type: array
          items: {$ref: '#/components/schemas/Loc'}
    Loc:
      type: object
      required: [loc, msg, type]
      additionalProperties: false
      properties:
        loc: {type: array, items: {type: string}}
        msg: {type: string}
        type: {type: string}
    Conflict:
      type: object
      required: [code, message, retryable, target]
      additionalProperties: false
      properties:
        code: {type: string}
        message: {type: string}
        target: {type: string}
        retryable: {type: boolean}
        details: {type: array, items: {$ref: '#/components/schemas/Item'}}
    Item:
      type: object
      required: [code, message]
      properties:
        code: {type: string}
        message: {type: string}
        target: {type: string}
    Other:
      type: object
      required: [error, statusCode]
      additionalProperties: false
      properties:
        error: {type: string}
        statusCode: {type: integer}
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with generated_package(SPEC, tmp_path_factory.mktemp("shapes"), "shapes.yaml") as module:
        yield module


class Service:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    async def make_thing(self, body: Any, context: Any) -> Any:
        if self.error is not None:
            raise self.error
        return body


def call(package: Any, service: Service, *, url: str = "/things?api-version=2030-01-01",
         method: str = "POST", body: Any = None, key: str = "k") -> httpx.Response:
    app = package.create_app(service, api_keys=["k"])

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            return await client.request(method, url, json=body, headers={"x-key": key})

    return asyncio.run(run())


def conforms(schema_name: str, payload: Any) -> None:
    spec = yaml.safe_load(SPEC)
    schemas = spec["components"]["schemas"]
    resolver_root = {"components": {"schemas": schemas}, **schemas[schema_name]}
    jsonschema.validate(payload, resolver_root)


def test_status_as_string_and_a_list_of_loc_msg_type(package: Any) -> None:
    response = call(package, Service(), body={"name": "", "size": "x", "other": 1})
    assert response.status_code == 400 and response.headers["x-ms-error-code"] == "InvalidRequestBody"
    payload = response.json()
    conforms("BadRequest", payload)
    assert payload["status"] == "400"
    assert sorted(item["loc"] for item in payload["detail"]) == [["name"], ["other"], ["size"]]
    assert {item["type"] for item in payload["detail"]} == {"InvalidValue"}


def test_top_level_details_and_a_required_unknown_field(package: Any) -> None:
    error = package.ServiceError(409, "Taken", "name is taken", target="name")
    payload = call(package, Service(error), body={"name": "a"}).json()
    conforms("Conflict", payload)
    assert payload == {"code": "Taken", "message": "name is taken", "target": "name",
                       "retryable": False,
                       "details": [{"code": "Taken", "message": "name is taken", "target": "name"}]}


def test_a_range_and_a_bodyless_default(package: Any) -> None:
    response = call(package, Service(), key="wrong", body={"name": "a"})
    assert response.status_code == 401
    conforms("Other", response.json())
    assert response.json() == {"error": "Unauthorized", "statusCode": 401}
    response = call(package, Service(), url="/elsewhere", body={})
    assert response.status_code == 404 and response.json()["error"] == "NotFound"
    response = call(package, Service(RuntimeError("boom")), body={"name": "a"})
    assert response.status_code == 500 and response.content == b""
    assert response.headers["x-ms-error-code"] == "InternalServerError"
    assert "content-type" not in response.headers


def test_success_round_trips(package: Any) -> None:
    response = call(package, Service(), body={"name": "a", "size": 2})
    assert response.status_code == 200 and response.json() == {"name": "a", "size": 2}
    assert json.loads(response.content) == {"name": "a", "size": 2}


def test_the_generated_server_is_typed_and_clean(package: Any) -> None:
    folder = Path(package.__file__).parent
    text = (folder / "server.py").read_text(encoding="utf-8")
    assert "AZURE_ERROR_SHAPE" not in text  # every status has a documented shape or none
    assert '"phrase"' not in text  # no schema asked for a status phrase
    bin_dir = Path(sys.executable).parent
    mypy = subprocess.run([str(bin_dir / "mypy"), "--strict", "--cache-dir", "/dev/null",
                           folder.name], cwd=folder.parent, capture_output=True, text=True,
                          check=False)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    ruff = subprocess.run([str(bin_dir / "ruff"), "check", "--no-cache", str(folder / "server.py")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
