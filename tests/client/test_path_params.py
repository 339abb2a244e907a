"""Path parameters reach the URL as one RFC 3986 path segment each: a value holding '/', '?',
'#', '%', spaces or non-ASCII text is percent-encoded (UTF-8), and "." / ".." are not taken
for dot segments. Sync, async and raw-response clients, over an httpx MockTransport."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.conftest import generated_package

SPEC = """\
openapi: 3.1.0
info: {title: Paths, version: 2030-03-01, x-codegen-package: path_params_test}
paths:
  /deployments/{deployment}/items/{item}:
    get:
      operationId: GetItem
      parameters:
        - {name: deployment, in: path, required: true, schema: {type: string}}
        - {name: item, in: path, required: true, schema: {type: integer}}
        - {name: api-version, in: query, required: true, schema: {type: string}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
components:
  schemas:
    Item:
      type: object
      properties:
        name: {type: string}
"""

# value -> the segment the URL must carry
CASES = {
    "plain-name_1.2~x": "plain-name_1.2~x",
    "a/b": "a%2Fb",
    "../admin": "..%2Fadmin",
    "..": "%2E%2E",
    ".": "%2E",
    "q?x=1#frag": "q%3Fx%3D1%23frag",
    "50% off": "50%25%20off",
    "a;b=c,d+e&f:g@h": "a%3Bb%3Dc%2Cd%2Be%26f%3Ag%40h",
    "café/東京": "caf%C3%A9%2F%E6%9D%B1%E4%BA%AC",
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with generated_package(SPEC, tmp_path_factory.mktemp("path_params"), "paths.yaml") as module:
        yield module


def _recorder(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"name": "x"})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("value", list(CASES))
def test_sync_client_encodes_each_path_parameter_as_one_segment(package: Any, value: str) -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=_recorder(seen))
    with package.PathParamsTestClient(
        "https://example.test/base/", api_key="k", http_client=http
    ) as client:
        result = client.get_item(deployment=value, item=7)
    assert result.name == "x"
    (request,) = seen
    assert request.url.raw_path.decode("ascii").split("?")[0] == (
        f"/base/deployments/{CASES[value]}/items/7"
    )
    # What a server decodes from the one segment is the value again.
    segments = request.url.raw_path.decode("ascii").split("?")[0].split("/")
    assert len(segments) == 6 and unquote(segments[3]) == value


def test_async_and_raw_clients_encode_path_parameters_too(package: Any) -> None:
    seen: list[httpx.Request] = []

    async def run() -> None:
        http = httpx.AsyncClient(transport=_recorder(seen))
        async with package.AsyncPathParamsTestClient(
            "https://example.test", api_key="k", http_client=http
        ) as client:
            await client.get_item(deployment="x/y?z", item=1)
            raw = await client.with_raw_response.get_item(deployment="..", item=2)
            assert raw.parse().name == "x"

    asyncio.run(run())
    paths = [r.url.raw_path.decode("ascii").split("?")[0] for r in seen]
    assert paths == ["/deployments/x%2Fy%3Fz/items/1", "/deployments/%2E%2E/items/2"]
    assert all(r.url.params["api-version"] == "2030-03-01" for r in seen)
