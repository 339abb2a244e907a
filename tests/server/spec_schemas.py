"""The spec's own JSON Schemas, to check server answers against what the pages document."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator.load import load
from tests.conftest import SPEC_DIR


@functools.cache
def _document(version: str) -> tuple[str, Any, Registry[Any]]:
    document = load(SPEC_DIR / f"{version}.yaml").root
    uri = Path(document.path).as_uri()
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(document.data, default_specification=DRAFT202012))
    return uri, document.data, registry


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def response_errors(version: str, path: str, status: int, payload: Any,
                    method: str = "post") -> list[str]:
    """Why `payload` breaks the schema documented for `status` of `method path` ([] if it
    does not): the exact status, then `4XX`, then `default`, as OpenAPI resolves them."""
    uri, data, registry = _document(version)
    responses = data["paths"][path][method]["responses"]
    key = next(k for k in (str(status), f"{status // 100}XX", "default") if k in responses)
    pointer = f"/paths/{_escape(path)}/{method}/responses/{key}"
    response = responses[key]
    while "$ref" in response:  # a shared response under components/responses
        pointer = response["$ref"][1:]
        response = data
        for token in pointer.strip("/").split("/"):
            response = response[token.replace("~1", "/").replace("~0", "~")]
    schema_pointer = f"{pointer}/content/application~1json/schema"
    validator = jsonschema.Draft202012Validator({"$ref": f"{uri}#{schema_pointer}"},
                                                registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(payload)]


def response_schema_name(version: str, path: str, status: int, method: str = "post") -> str:
    """The name of the schema documented for that status (after the exact/4XX/default rule)."""
    _uri, data, _registry = _document(version)
    responses = data["paths"][path][method]["responses"]
    key = next(k for k in (str(status), f"{status // 100}XX", "default") if k in responses)
    response = responses[key]
    while "$ref" in response:
        target = data
        for token in response["$ref"][2:].split("/"):
            target = target[token]
        response = target
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]
