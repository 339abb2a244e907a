"""Stage 2: check a loaded spec, collecting every problem rather than stopping at the first.

Two layers: the official OpenAPI JSON Schema for the document's version (applied with
jsonschema), then the generator's own rules (references, names, examples).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator.diagnostics import Diagnostic, SpecError, join_pointer
from generator.load import Document, LoadedSpec, iter_refs

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def detect_version(spec: LoadedSpec) -> str:
    """'3.1', '3.0' or '2.0'; raises SpecError for anything else."""
    data = spec.root.data
    if "openapi" in data:
        version = str(data["openapi"])
        for known in ("3.1", "3.0"):
            if re.fullmatch(re.escape(known) + r"\.\d+(-.+)?", version):
                return known
        raise SpecError([spec.diagnostic("/openapi", "E010",
                                         f"unsupported OpenAPI version {version!r} "
                                         "(supported: 3.0.x, 3.1.x, Swagger 2.0)")])
    if "swagger" in data:
        if str(data["swagger"]) == "2.0":
            return "2.0"
        raise SpecError([spec.diagnostic("/swagger", "E010",
                                         f"unsupported Swagger version {data['swagger']!r}")])
    raise SpecError([spec.diagnostic("", "E010",
                                     "not an OpenAPI document: no 'openapi' or 'swagger' field")])


@functools.cache
def _official_schema(version: str) -> dict[str, Any]:
    folder = {"3.1": "v3.1", "3.0": "v3.0", "2.0": "v2.0"}[version]
    files = resources.files("openapi_spec_validator") / "resources" / "schemas" / folder
    schema: dict[str, Any] = json.loads((files / "schema.json").read_text("utf-8"))
    return schema


def validate(spec: LoadedSpec) -> list[Diagnostic]:
    """Every problem in the spec; an empty list means it may be lowered."""
    try:
        version = detect_version(spec)
    except SpecError as exc:
        return list(exc.diagnostics)
    diagnostics = list(_against_official_schema(spec, version))
    diagnostics += _references(spec)
    if version == "3.1":
        diagnostics += _schema_objects_3_1(spec)
    diagnostics += _operations(spec, version)
    if not any(d.level == "error" for d in diagnostics) and version == "3.1":
        diagnostics += _examples_3_1(spec)
    return _sorted_unique(diagnostics)


def _sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = {(d.file, d.line or 0, d.column or 0, d.pointer, d.code, d.message): d
              for d in diagnostics}
    return [unique[key] for key in sorted(unique)]


def _error_message(error: ValidationError) -> str:
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return message


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """The most relevant error under a oneOf/anyOf failure, which alone says little."""
    if error.context:
        best = best_match(error.context)
        yield from _leaf_errors(best)
    else:
        yield error


def _against_official_schema(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    schema = _official_schema(version)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    for error in validator.iter_errors(spec.root.data):
        for leaf in _leaf_errors(error):
            pointer = join_pointer("", *leaf.absolute_path)
            yield spec.diagnostic(pointer, "E020", _error_message(leaf))


def _references(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """Every `$ref` must resolve, and no chain of pure references may loop."""
    for document in spec.documents.values():
        for pointer, ref in iter_refs(document.data):
            resolved = spec.resolve_ref(ref, document)
            if resolved is None:
                yield spec.diagnostic(join_pointer(pointer, "$ref"), "E101",
                                      f"unresolved $ref {ref!r}", document=document)
                continue
            try:
                spec.deref({"$ref": ref}, document, pointer)
            except SpecError as exc:
                if exc.diagnostics[0].code == "E102":
                    yield spec.diagnostic(join_pointer(pointer, "$ref"), "E102",
                                          f"cyclic $ref {ref!r}: the chain of references "
                                          "never reaches a definition", document=document)


def iter_schema_objects(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The top-level schema objects of an OpenAPI 3 document, by pointer."""
    for name, schema in (data.get("components", {}).get("schemas") or {}).items():
        yield join_pointer("/components/schemas", name), schema
    for path, item in (data.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            base = join_pointer("/paths", path, method)
            for i, parameter in enumerate(operation.get("parameters") or []):
                if isinstance(parameter, dict) and "schema" in parameter:
                    yield join_pointer(base, "parameters", i, "schema"), parameter["schema"]
            body = operation.get("requestBody")
            if isinstance(body, dict):
                for media, content in (body.get("content") or {}).items():
                    if isinstance(content, dict) and "schema" in content:
                        yield join_pointer(base, "requestBody", "content", media, "schema"), \
                            content["schema"]


def _schema_objects_3_1(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """OpenAPI 3.1's own schema does not look inside Schema Objects: the 2020-12 metaschema does."""
    validator = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for pointer, schema in iter_schema_objects(spec.root.data):
        for error in validator.iter_errors(schema):
            for leaf in _leaf_errors(error):
                yield spec.diagnostic(join_pointer(pointer, *leaf.absolute_path), "E021",
                                      f"invalid schema: {_error_message(leaf)}")


_PATH_PARAM = re.compile(r"{([^{}]+)}")


def _operations(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    seen_ids: dict[str, str] = {}
    for path, item in (spec.root.data.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        item_pointer = join_pointer("/paths", path)
        templated = _PATH_PARAM.findall(path)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            pointer = join_pointer(item_pointer, method)
            op_id = operation.get("operationId")
            if isinstance(op_id, str):
                if op_id in seen_ids:
                    yield spec.diagnostic(join_pointer(pointer, "operationId"), "E110",
                                          f"duplicate operationId {op_id!r} "
                                          f"(first used at #{seen_ids[op_id]})")
                else:
                    seen_ids[op_id] = join_pointer(pointer, "operationId")
            declared: set[str] = set()
            for parameters, base in ((item.get("parameters"), item_pointer),
                                     (operation.get("parameters"), pointer)):
                for i, parameter in enumerate(parameters or []):
                    try:
                        value = spec.deref(parameter, spec.root,
                                           join_pointer(base, "parameters", i)).value
                    except SpecError:
                        continue  # reported by _references
                    if isinstance(value, dict) and value.get("in") == "path":
                        name = value.get("name")
                        declared.add(str(name))
                        if name not in templated:
                            yield spec.diagnostic(
                                join_pointer(base, "parameters", i), "E112",
                                f"path parameter {name!r} does not appear in the path {path!r}")
            for name in templated:
                if name not in declared:
                    yield spec.diagnostic(pointer, "E111",
                                          f"path template {path!r} uses {{{name}}}, "
                                          "which no parameter declares")


def _examples_3_1(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """Every example under a JSON media type must be valid against that media type's schema."""
    root = spec.root
    registry: Registry = Registry()
    for document in spec.documents.values():
        registry = registry.with_resource(
            document.path.as_uri(),
            Resource.from_contents(document.data, default_specification=DRAFT202012))
    for pointer, media in _iter_media(root.data):
        schema = media.get("schema")
        if schema is None:
            continue
        validator = jsonschema.Draft202012Validator(
            {"$ref": root.path.as_uri() + "#" + join_pointer(pointer, "schema")},
            registry=registry, format_checker=None)
        examples: list[tuple[str, Any]] = []
        if "example" in media:
            examples.append((join_pointer(pointer, "example"), media["example"]))
        for name, example in (media.get("examples") or {}).items():
            resolved = _example_value(spec, root, join_pointer(pointer, "examples", name), example)
            if resolved is not None:
                examples.append(resolved)
        for example_pointer, value in examples:
            for error in validator.iter_errors(value):
                for leaf in _leaf_errors(error):
                    yield spec.diagnostic(join_pointer(example_pointer, *leaf.absolute_path),
                                          "E130", f"example does not match its schema: "
                                          f"{_error_message(leaf)}")


def _example_value(spec: LoadedSpec, root: Document, pointer: str,
                   example: Any) -> tuple[str, Any] | None:
    try:
        resolved = spec.deref(example, root, pointer)
    except SpecError:
        return None
    if isinstance(resolved.value, dict) and "value" in resolved.value:
        return join_pointer(resolved.pointer, "value"), resolved.value["value"]
    return None


def _iter_media(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in (data.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            base = join_pointer("/paths", path, method)
            body = operation.get("requestBody")
            if isinstance(body, dict):
                yield from _json_media(body.get("content"), join_pointer(base, "requestBody"))
            for status, response in (operation.get("responses") or {}).items():
                if isinstance(response, dict):
                    yield from _json_media(response.get("content"),
                                           join_pointer(base, "responses", status))
    for name, response in (data.get("components", {}).get("responses") or {}).items():
        if isinstance(response, dict):
            yield from _json_media(response.get("content"),
                                   join_pointer("/components/responses", name))


def _json_media(content: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(content, dict):
        return
    for media_type, media in content.items():
        if isinstance(media, dict) and is_json_media_type(media_type):
            yield join_pointer(pointer, "content", media_type), media


def is_json_media_type(media_type: str) -> bool:
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or essence.endswith("+json")


__all__ = [
    "HTTP_METHODS",
    "detect_version",
    "is_json_media_type",
    "iter_schema_objects",
    "validate",
]
