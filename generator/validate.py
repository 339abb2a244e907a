"""Stage 2: check a loaded spec, collecting every problem rather than stopping at the first.

Two layers: the official OpenAPI JSON Schema for the document's version, then the generator's
own rules (references, names, examples). Each JSON Schema check asks jsonschema-rs first
(generator/fast_validation.py: fast, and it answers "valid" for almost every spec); jsonschema
explains what it refuses, and its errors are the diagnostics.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from generator import fast_validation
from generator.diagnostics import Diagnostic, SpecError, join_pointer
from generator.fast_validation import official_schema, schema_object_schema
from generator.load import Document, LoadedSpec, place_pointer

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

# Performance: jsonschema and referencing (0.05 s to import) are imported where they are
# used, which a valid spec never reaches: jsonschema-rs answers for it.

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


# Lenient mode: defects that leave the meaning clear, by code, and how they are read then.
LENIENT_READINGS = {
    "E022": "each name is required once",
    "E023": "read as OpenAPI 3.0's form: the bound beside it is exclusive",
    "E110": "each operation keeps its own method name",
    "E130": "the example is documentation only",
    "E131": "the default is documentation only",
    "E150": "the discriminator is ignored; variants are told apart by their shape",
}


def validate(spec: LoadedSpec, *, lenient: bool = False) -> list[Diagnostic]:
    """Every problem in the spec; no error means it may be lowered. `lenient`: the defects
    in LENIENT_READINGS are warnings, saying how they are read."""
    def read(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        if not lenient:
            return list(diagnostics)
        return [dataclasses.replace(d, level="warning", message=f"{d.message} (lenient: "
                                    f"{LENIENT_READINGS[d.code]})")
                if d.level == "error" and d.code in LENIENT_READINGS else d
                for d in diagnostics]

    diagnostics = read(_validate(spec))
    if not any(d.level == "error" for d in diagnostics) and _version_or_none(spec) == "3.1":
        # Examples are checked against schemas that are known to be sound.
        diagnostics = _sorted_unique(diagnostics + read(_examples_3_1(spec)))
    return diagnostics


def _version_or_none(spec: LoadedSpec) -> str | None:
    try:
        return detect_version(spec)
    except SpecError:
        return None


def _validate(spec: LoadedSpec) -> list[Diagnostic]:
    try:
        version = detect_version(spec)
    except SpecError as exc:
        return list(exc.diagnostics)
    diagnostics = list(_against_official_schema(spec, version))
    diagnostics += _references(spec)
    if version == "3.1":
        diagnostics += _schema_objects_3_1(spec)
    diagnostics += _schemas_in_other_files(spec, version)
    diagnostics += _operations(spec, version)
    diagnostics += _security(spec, version)
    diagnostics += _extensions_and_discriminators(spec, version)
    return _sorted_unique(diagnostics)


def _schema_error_code(leaf: ValidationError, code: str) -> str:
    """E022/E023 for the schema errors whose meaning is clear (lenient mode reads them)."""
    path = list(leaf.absolute_path)
    last = path[-1] if path else None
    if leaf.validator == "uniqueItems" and last == "required":
        return "E022"  # a name listed twice in `required`
    if last in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(leaf.instance, bool):
        return "E023"  # OpenAPI 3.0's boolean form in a 3.1 document
    return code


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
    """The errors that say what is wrong under a oneOf/anyOf failure, which alone says little.

    Of the alternatives, a Reference Object is left out when the value has no `$ref` (else
    every schema problem would read "'$ref' is a required property"); of the rest, the one
    that best_match ranks first, with every error it has.
    """
    if not error.context:
        yield error
        return
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None,
                            []).append(sub)
    candidates = {key: errors for key, errors in branches.items()
                  if not _wants_a_reference(errors, error.instance)} or branches
    # The alternatives told apart by one property's value (a parameter's `in`): when the value
    # fits none of them, say that alone, with every value allowed.
    merged = _merged_enum_error(list(candidates.values()))
    if merged is not None:
        yield merged
        return
    from jsonschema.exceptions import best_match

    ranked = sorted(candidates.items(), key=lambda item: _branch_rank(item[1]))
    best_rank = _branch_rank(ranked[0][1])
    best = best_match(sub for key, errors in ranked if _branch_rank(errors) == best_rank
                      for sub in errors)
    key = best.relative_schema_path[0] if best.relative_schema_path else None
    for sub in candidates.get(key, [best]):
        yield from _leaf_errors(sub)


def _branch_rank(errors: list[ValidationError]) -> tuple[bool, int]:
    """Alternatives whose own properties have the wrong fixed value fit worst; then the one
    with the fewest problems fits best."""
    wrong_value = any(e.validator in ("enum", "const") and len(e.relative_path) == 1
                      for e in errors)
    return wrong_value, len(errors)


def _merged_enum_error(branches: list[list[ValidationError]]) -> ValidationError | None:
    if len(branches) < 2:
        return None
    common: set[tuple[Any, ...]] | None = None
    for errors in branches:
        paths = {tuple(e.relative_path) for e in errors
                 if e.validator in ("enum", "const") and len(e.relative_path) == 1}
        common = paths if common is None else common & paths
    if not common:
        return None
    path = min(common, key=str)
    allowed: list[Any] = []
    first: ValidationError | None = None
    for errors in branches:
        for e in errors:
            if tuple(e.relative_path) == path and e.validator in ("enum", "const"):
                first = first or e
                values: Any = e.validator_value if e.validator == "enum" else [e.validator_value]
                allowed += [v for v in values if v not in allowed]
    assert first is not None
    from jsonschema.exceptions import ValidationError

    return ValidationError(f"{first.instance!r} is not one of {allowed!r}",
                           path=first.absolute_path, validator="enum",
                           validator_value=allowed, instance=first.instance)


def _listed(value: object) -> list[Any]:
    """A keyword's value when it is a list (jsonschema types it loosely), else []."""
    return value if isinstance(value, list) else []


def _wants_a_reference(errors: list[ValidationError], instance: Any) -> bool:
    return isinstance(instance, dict) and "$ref" not in instance and any(
        e.validator == "required" and "$ref" in _listed(e.validator_value) and not e.path
        for e in errors)


@functools.cache
def _official_validator(version: str) -> Any:
    """The official schema's validator, built once, over a registry crawled up front.

    Performance: the 3.1 schema resolves `$dynamicRef: "#meta"` at every Schema Object, and
    an uncrawled registry crawls itself anew on each such anchor lookup (registries are
    immutable, so the crawl is never kept): 2 to 4 s on a 1,000-schema spec, 0.3 s crawled.
    The errors found are the same.
    """
    import jsonschema
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schema = official_schema(version)
    validator_class = jsonschema.validators.validator_for(schema)
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(schema.get("$id", ""), resource)
    return validator_class(schema, registry=registry.combine(SPECIFICATIONS).crawl())


def _against_official_schema(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    if fast_validation.spec_is_valid(version, spec.root.data):
        return  # jsonschema would find nothing either
    validator = _official_validator(version)
    for error in validator.iter_errors(spec.root.data):
        for leaf in _leaf_errors(error):
            pointer = join_pointer("", *leaf.absolute_path)
            yield spec.diagnostic(pointer, _schema_error_code(leaf, "E020"), _error_message(leaf))


def _references(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """Every `$ref` must resolve, and no chain of pure references may loop."""
    for document in spec.documents.values():
        for pointer, ref in spec.refs(document):
            resolved = spec.resolve_ref(ref, document)
            if resolved is None:
                yield spec.diagnostic(join_pointer(pointer, "$ref"), "E101",
                                      f"unresolved $ref {ref!r}", document=document)
                continue
            if not isinstance(resolved.value, (dict, bool)):
                yield spec.diagnostic(join_pointer(pointer, "$ref"), "E105",
                                      f"$ref {ref!r} points to {_kind(resolved.value)}, not to "
                                      "an object", document=document)
                continue
            try:
                spec.deref({"$ref": ref}, document, pointer)
            except SpecError as exc:
                if exc.diagnostics[0].code == "E102":
                    yield spec.diagnostic(join_pointer(pointer, "$ref"), "E102",
                                          f"cyclic $ref {ref!r}: the chain of references "
                                          "never reaches a definition", document=document)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {str: "a string", list: "an array", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def _mapping(value: Any) -> dict[str, Any]:
    """A value that should be a mapping, or an empty one: the official schema reports what
    it is instead, and the other checks must not stumble on it."""
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def iter_schema_objects(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The top-level schema objects of an OpenAPI 3 document, by pointer."""
    for name, schema in _mapping(_mapping(data.get("components")).get("schemas")).items():
        yield join_pointer("/components/schemas", name), schema
    for path, item in _mapping(data.get("paths")).items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            base = join_pointer("/paths", path, method)
            for i, parameter in enumerate(_sequence(operation.get("parameters"))):
                if isinstance(parameter, dict) and "schema" in parameter:
                    yield join_pointer(base, "parameters", i, "schema"), parameter["schema"]
            body = operation.get("requestBody")
            if isinstance(body, dict):
                for media, content in _mapping(body.get("content")).items():
                    if isinstance(content, dict) and "schema" in content:
                        yield join_pointer(base, "requestBody", "content", media, "schema"), \
                            content["schema"]


def _schema_objects_3_1(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """OpenAPI 3.1's own schema does not look inside Schema Objects: the 2020-12 metaschema does."""
    for pointer, schema in iter_schema_objects(spec.root.data):
        if fast_validation.schema_object_is_valid("3.1", schema):
            continue  # jsonschema would find nothing either
        for error in _schema_object_validator("3.1").iter_errors(schema):
            for leaf in _leaf_errors(error):
                where = join_pointer(pointer, *leaf.absolute_path)
                if leaf.absolute_path and leaf.absolute_path[-1] == "$recursiveAnchor" and (
                        isinstance(leaf.instance, bool)):
                    # JSON Schema 2019-09's keyword, which 2020-12 replaced: no effect on types.
                    yield spec.diagnostic(where, "W022", "$recursiveAnchor is JSON Schema "
                                          "2019-09's keyword (2020-12 has $dynamicAnchor); "
                                          "ignored", level="warning")
                    continue
                yield spec.diagnostic(where, _schema_error_code(leaf, "E021"),
                                      f"invalid schema: {_error_message(leaf)}")


# ---- pattern checks, bounded in time ----------------------------------------------------
# A spec's `pattern` is applied to its examples. Python's re has no time limit, and a pattern
# such as ^(a+)+$ backtracks for ever on the wrong text; the `regex` module (the same syntax
# as re for these patterns) stops a search after PATTERN_SECONDS.

PATTERN_SECONDS = 0.1


class PatternTimeout(Exception):
    """A pattern check took longer than PATTERN_SECONDS: the example is not checked."""


def bounded_search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (re.search's answer), within
    PATTERN_SECONDS; raises PatternTimeout beyond."""
    import regex

    try:
        return regex.search(pattern, text, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        raise PatternTimeout(pattern) from None


def _regex_error() -> type[Exception]:
    import regex

    return regex.error  # type: ignore[no-any-return]


class _BoundedPattern:
    """What patternProperties needs of a compiled pattern, bounded in time."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: str) -> None:
        re.compile(pattern)
        self.pattern = pattern

    def search(self, text: str) -> bool | None:
        return True if bounded_search(self.pattern, text) else None


def _pattern_keyword(validator: Any, pattern: Any, instance: Any, schema: Any) -> Any:
    from jsonschema.exceptions import ValidationError as Invalid

    if validator.is_type(instance, "string") and not bounded_search(pattern, instance):
        yield Invalid(f"{instance!r} does not match {pattern!r}")


def _pattern_properties_keyword(validator: Any, patterns: Any, instance: Any,
                                schema: Any) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if bounded_search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


@functools.cache
def _bounded_validator_class() -> Any:
    """Draft 2020-12 with its pattern keywords bounded in time."""
    import jsonschema

    return jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {
        "pattern": _pattern_keyword, "patternProperties": _pattern_properties_keyword})


_PATH_PARAM = re.compile(r"{([^{}]+)}")


def _operations(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    seen_ids: dict[str, str] = {}
    paths = spec.root.data.get("paths")
    for path, item in (paths.items() if isinstance(paths, dict) else ()):
        try:  # a path item may be a reference
            resolved = spec.deref(item, spec.root, join_pointer("/paths", path))
        except SpecError:
            continue  # reported by _references
        item, document = resolved.value, resolved.document
        if not isinstance(item, dict):
            continue
        item_pointer = resolved.pointer
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
                                          f"(first used at #{seen_ids[op_id]})",
                                          document=document)
                else:
                    seen_ids[op_id] = join_pointer(pointer, "operationId")
            declared: set[str] = set()
            for parameters, base in ((item.get("parameters"), item_pointer),
                                     (operation.get("parameters"), pointer)):
                level: dict[tuple[str, str], int] = {}
                for i, parameter in enumerate(parameters if isinstance(parameters, list) else []):
                    try:
                        value = spec.deref(parameter, document,
                                           join_pointer(base, "parameters", i)).value
                    except SpecError:
                        continue  # reported by _references
                    if not isinstance(value, dict):
                        continue
                    key = (str(value.get("in")), str(value.get("name")))
                    if key in level:
                        yield spec.diagnostic(
                            join_pointer(base, "parameters", i), "E113",
                            f"parameter {key[1]!r} in {key[0]} is declared twice (first at "
                            f"#{join_pointer(base, 'parameters', level[key])})",
                            document=document)
                    level.setdefault(key, i)
                    if value.get("in") == "path":
                        name = value.get("name")
                        declared.add(str(name))
                        if name not in templated:
                            yield spec.diagnostic(
                                join_pointer(base, "parameters", i), "E112",
                                f"path parameter {name!r} does not appear in the path {path!r}",
                                document=document)
            for name in templated:
                if name not in declared:
                    yield spec.diagnostic(pointer, "E111",
                                          f"path template {path!r} uses {{{name}}}, "
                                          "which no parameter declares", document=document)


def _security(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    """Every security requirement names a scheme the spec defines."""
    data = spec.root.data
    if version == "2.0":
        schemes = data.get("securityDefinitions")
    else:
        components = data.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    defined = set(schemes) if isinstance(schemes, dict) else set()
    requirements: list[tuple[str, Any]] = [("/security", data.get("security"))]
    paths = data.get("paths")
    for path, item in (paths.items() if isinstance(paths, dict) else ()):
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                requirements.append((join_pointer("/paths", path, method, "security"),
                                     operation.get("security")))
    for pointer, requirement in requirements:
        for i, alternative in enumerate(requirement if isinstance(requirement, list) else []):
            for name in alternative if isinstance(alternative, dict) else ():
                if name not in defined:
                    yield spec.diagnostic(join_pointer(pointer, i, name), "E114",
                                          f"security requirement names {name!r}, which is not "
                                          "a defined security scheme")


def _walk(data: Any) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Every object of a document with its place (load.place_pointer makes its pointer): not
    example payloads, and not the maps whose keys are names (`properties`, `paths`, ...), whose
    keys say nothing themselves."""
    # Performance: a pointer is written out only for an object that has a problem.
    stack: list[tuple[Any, Any, bool]] = [(None, data, False)]
    while stack:
        place, value, names = stack.pop()
        if isinstance(value, dict):
            if not names:
                yield place, value
            # An extension's value (`x-...`) is the vendor's data, not OpenAPI: not walked.
            stack.extend(((place, k), v, not names and k in _NAME_MAPS)
                         for k, v in reversed(value.items())
                         if isinstance(v, (dict, list)) and (names or (
                             k not in _EXAMPLE_KEYS and not str(k).startswith("x-"))))
        elif isinstance(value, list):
            stack.extend(((place, i), v, False)
                         for i, v in reversed(list(enumerate(value)))
                         if isinstance(v, (dict, list)))


_EXAMPLE_KEYS = frozenset({"example", "examples", "x-ms-examples", "default", "enum", "const"})
_CHECKED_KEYS = frozenset({"default", "x-ms-client-name", "x-ms-discriminator-value",
                           "discriminator"})
_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "schemas",
                        "paths", "responses", "parameters", "securitySchemes", "headers",
                        "content", "links", "callbacks", "variables", "scopes", "encoding",
                        "mapping", "securityDefinitions", "requestBodies", "webhooks",
                        "pathItems", "dependentSchemas"})


def _extensions_and_discriminators(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    """Azure's x-ms-* names must be usable, and a discriminator must name a property."""
    for document in spec.documents.values():
        for place, node in _walk(document.data):
            if _CHECKED_KEYS.isdisjoint(node):
                continue
            pointer = place_pointer("", place)
            if "default" in node and not _default_fits(node):
                yield spec.diagnostic(join_pointer(pointer, "default"), "E131",
                                      f"default {node['default']!r} is not of type "
                                      f"{node['type']!r}"[:300], document=document)
            for key in ("x-ms-client-name", "x-ms-discriminator-value"):
                if key in node and not (isinstance(node[key], str) and node[key].strip()):
                    yield spec.diagnostic(join_pointer(pointer, key), "E151",
                                          f"{key} must be a non-empty string, not "
                                          f"{node[key]!r}"[:300], document=document)
            raw = node.get("discriminator")
            if raw is None:
                continue
            if isinstance(raw, str):
                name = raw
            elif isinstance(raw, dict) and isinstance(raw.get("propertyName"), str):
                name = raw["propertyName"]
                mapping = raw.get("mapping")
                for value, ref in (mapping.items() if isinstance(mapping, dict) else ()):
                    if not isinstance(ref, str):
                        continue
                    if "#" not in ref and "/" not in ref and "." not in ref:
                        ref = "#/components/schemas/" + ref
                    if spec.resolve_ref(ref, document) is None:
                        # The variants stay selectable by their schema names: a warning.
                        yield spec.diagnostic(
                            join_pointer(pointer, "discriminator", "mapping", value), "W104",
                            f"discriminator mapping {value!r} names {ref!r}, which does not "
                            "resolve; the entry is ignored", document=document, level="warning")
                if "oneOf" in node or "anyOf" in node:
                    continue
            else:
                continue
            if name not in _property_names(spec, document, node, set()):
                yield spec.diagnostic(join_pointer(pointer, "discriminator"), "E150",
                                      f"discriminator property {name!r} is not a property of "
                                      "this schema", document=document)


_JSON_TYPE_CHECKS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _default_fits(node: dict[str, Any]) -> bool:
    """Whether a schema's (or a Swagger parameter's) `default` has the schema's `type`."""
    kind, default = node.get("type"), node["default"]
    kinds = kind if isinstance(kind, list) else [kind]
    if not all(isinstance(k, str) and k in _JSON_TYPE_CHECKS for k in kinds) or not kinds:
        return True  # no type, or one the official schema reports
    if default is None and (node.get("nullable") is True or node.get("x-nullable") is True):
        return True
    return any(_JSON_TYPE_CHECKS[k](default) for k in kinds if isinstance(k, str))


def _property_names(spec: LoadedSpec, document: Document, schema: dict[str, Any],
                    seen: set[int]) -> set[str]:
    """Property names of a schema, its allOf parts included."""
    if id(schema) in seen:
        return set()
    seen.add(id(schema))
    names = set(schema.get("properties") or {}) if isinstance(
        schema.get("properties"), dict) else set()
    for i, part in enumerate(_listed(schema.get("allOf"))):
        try:
            resolved = spec.deref(part, document, "")
        except SpecError:
            continue
        if isinstance(resolved.value, dict):
            names |= _property_names(spec, resolved.document, resolved.value, seen)
    return names


def _schemas_in_other_files(spec: LoadedSpec, version: str) -> Iterator[Diagnostic]:
    """The official schema checks only the root file: check the schemas other files hold."""
    for document in spec.documents.values():
        if document is spec.root:
            continue
        sections = []
        components = document.data.get("components")
        if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
            sections.append(("/components/schemas", components["schemas"]))
        for key in ("definitions", "$defs"):
            if isinstance(document.data.get(key), dict):
                sections.append(("/" + key, document.data[key]))
        if not sections and _looks_like_schema(document.data):
            sections.append(("", {"": document.data}))
        for base, schemas in sections:
            for name, schema in schemas.items():
                if fast_validation.schema_object_is_valid(version, schema):
                    continue  # jsonschema would find nothing either
                pointer = join_pointer(base, name) if name else base
                for error in _schema_object_validator(version).iter_errors(schema):
                    for leaf in _leaf_errors(error):
                        yield spec.diagnostic(join_pointer(pointer, *leaf.absolute_path),
                                              _schema_error_code(leaf, "E021"),
                                              f"invalid schema: {_error_message(leaf)}",
                                              document=document)


def _looks_like_schema(data: dict[str, Any]) -> bool:
    return "openapi" not in data and "swagger" not in data and bool(
        {"type", "properties", "allOf", "oneOf", "anyOf", "enum", "items", "$ref"} & set(data))


@functools.cache
def _schema_object_validator(version: str) -> Any:
    """A validator for one Schema Object of the given OpenAPI version."""
    import jsonschema

    if version == "3.1":
        return jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    validator_class = jsonschema.validators.validator_for(official_schema(version))
    return validator_class(schema_object_schema(version))


def _examples_3_1(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """Every example under a JSON media type must be valid against that media type's schema."""
    root = spec.root
    registry: Registry | None = None
    fast = fast_validation.Examples((document.path.as_uri(), document.data)
                                    for document in spec.documents.values())
    for pointer, media in _iter_media(root.data):
        schema = media.get("schema")
        if schema is None:
            continue
        examples: list[tuple[str, Any]] = []
        if "example" in media:
            examples.append((join_pointer(pointer, "example"), media["example"]))
        for name, example in _mapping(media.get("examples")).items():
            resolved = _example_value(spec, root, join_pointer(pointer, "examples", name), example)
            if resolved is not None:
                examples.append(resolved)
        validator = None
        for example_pointer, value in examples:
            if fast.is_valid(root.path.as_uri(), join_pointer(pointer, "schema"), value):
                continue  # jsonschema would find nothing either
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            if registry is None:
                registry = Registry()
                for document in spec.documents.values():
                    registry = registry.with_resource(
                        document.path.as_uri(),
                        Resource.from_contents(document.data, default_specification=DRAFT202012))
            if validator is None:
                validator = _bounded_validator_class()(
                    {"$ref": root.path.as_uri() + "#" + join_pointer(pointer, "schema")},
                    registry=registry, format_checker=None)
            try:
                errors = list(validator.iter_errors(value))
            except (re.error, _regex_error()) as exc:  # an ECMA-262 pattern (\p{L}, say)
                yield spec.diagnostic(example_pointer, "W131",
                                      "example not checked: its schema has a pattern that "
                                      f"Python cannot compile ({exc})", level="warning")
                continue
            except PatternTimeout as exc:
                yield spec.diagnostic(example_pointer, "W132",
                                      f"example not checked: pattern {str(exc)[:100]!r} took "
                                      f"longer than {PATTERN_SECONDS} s", level="warning")
                continue
            except RecursionError:
                yield spec.diagnostic(example_pointer, "W133",
                                      "example not checked: its schema nests (through "
                                      "$ref) too deeply, or refers to itself without end",
                                      level="warning")
                continue
            for error in errors:
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
    for path, item in _mapping(data.get("paths")).items():
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
            for status, response in _mapping(operation.get("responses")).items():
                if isinstance(response, dict):
                    yield from _json_media(response.get("content"),
                                           join_pointer(base, "responses", status))
    for name, response in _mapping(_mapping(data.get("components")).get("responses")).items():
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
