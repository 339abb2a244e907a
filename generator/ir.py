"""The intermediate representation: plain frozen data, no behaviour that returns Python text.

Lowering (lower.py) builds it from an OpenAPI document; render.py and diff/ read it.
Every node carries `pointer`, its JSON pointer in the spec, so later stages can say where.
Names are resolved once, in lowering: `name` is the spec's, `py_name` the Python one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

JsonText: TypeAlias = str  # a JSON value kept as canonical JSON text, so nodes stay hashable


# ---- types -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PrimitiveType:
    kind: Literal["string", "integer", "number", "boolean", "null"]
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | int | None = None
    maximum: float | int | None = None
    exclusive_minimum: float | int | None = None
    exclusive_maximum: float | int | None = None
    # JSON Schema assertions the IR does not model otherwise (contains, not, if/then/else, ...):
    # (keyword, canonical JSON of its value), sorted. Only the diff reads them.
    keywords: tuple[tuple[str, JsonText], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AnyType:
    # JSON Schema assertions the IR does not model otherwise (contains, not, if/then/else, ...):
    # (keyword, canonical JSON of its value), sorted. Only the diff reads them.
    keywords: tuple[tuple[str, JsonText], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedType:
    """A reference to a named definition (a Model, an Enum or an Alias) of the same Api."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayType:
    items: TypeRef
    min_items: int | None = None
    max_items: int | None = None
    # JSON Schema assertions the IR does not model otherwise (contains, not, if/then/else, ...):
    # (keyword, canonical JSON of its value), sorted. Only the diff reads them.
    keywords: tuple[tuple[str, JsonText], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MapType:
    values: TypeRef
    # JSON Schema assertions the IR does not model otherwise (contains, not, if/then/else, ...):
    # (keyword, canonical JSON of its value), sorted. Only the diff reads them.
    keywords: tuple[tuple[str, JsonText], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UnionType:
    variants: tuple[TypeRef, ...]
    discriminator: Discriminator | None = None
    # JSON Schema assertions the IR does not model otherwise (contains, not, if/then/else, ...):
    # (keyword, canonical JSON of its value), sorted. Only the diff reads them.
    keywords: tuple[tuple[str, JsonText], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Discriminator:
    property: str  # wire name
    mapping: tuple[tuple[str, str], ...]  # (wire value, definition name)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiteralType:
    """A closed set of values given inline (`enum`, `const`)."""

    values: tuple[str | int | float | bool | None, ...]


TypeRef: TypeAlias = (
    PrimitiveType | AnyType | NamedType | ArrayType | MapType | UnionType | LiteralType
)


# ---- definitions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Property:
    name: str  # wire name
    py_name: str
    type: TypeRef
    required: bool
    description: str | None
    default: JsonText | None  # JSON text of the spec's default
    read_only: bool
    pointer: str
    write_only: bool = False  # sent by clients only: absent from responses


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    name: str
    py_name: str
    description: str | None
    properties: tuple[Property, ...]
    # Properties not named in `properties`: their type, or None when forbidden
    # (`additionalProperties: false`).
    additional: TypeRef | None
    pointer: str
    # Polymorphism (a base whose subtypes extend it through allOf): on the base, its
    # discriminator property and (value, subtype definition name) pairs; a reference to the
    # base stands for the base or any subtype, chosen by the value on the wire.
    discriminator: Discriminator | None = None
    # On a subtype: (discriminator property wire name, the value that selects this subtype).
    discriminator_value: tuple[str, str] | None = None
    # JSON Schema assertions the IR does not model otherwise (contains, not, if/then/else, ...):
    # (keyword, canonical JSON of its value), sorted. Only the diff reads them.
    keywords: tuple[tuple[str, JsonText], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumMember:
    value: str | int
    py_name: str
    description: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Enum:
    name: str
    py_name: str
    description: str | None
    members: tuple[EnumMember, ...]
    open: bool  # values beyond the members are valid (a newer service may send them)
    value_kind: Literal["string", "integer"]
    pointer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Alias:
    """A named schema that is neither an object nor an enum (a union, an array, ...)."""

    name: str
    py_name: str
    description: str | None
    type: TypeRef
    pointer: str


Definition: TypeAlias = Model | Enum | Alias


# ---- operations ----------------------------------------------------------------------------

ParameterRole = Literal["plain", "api_version", "extra_parameters"]

# Security requirements: alternatives (any one suffices), each the schemes it needs together
# with their scopes: ((("oauth", ("read",)), ("key", ())), ...). `()`: no requirement.
Requirements: TypeAlias = tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    name: str  # wire name
    py_name: str
    location: Literal["query", "header", "path"]
    type: TypeRef
    required: bool
    description: str | None
    role: ParameterRole
    pointer: str
    default: JsonText | None = None  # JSON text of the schema's default


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaType:
    """One entry of a body's `content`: every one, JSON or not (lowered for the diff only)."""

    name: str  # as the spec writes it: "application/xml", "image/*", "*/*"
    type: TypeRef | None  # None: no schema
    pointer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestBody:
    type: TypeRef
    required: bool
    media_type: str
    description: str | None
    pointer: str
    content: tuple[MediaType, ...] = ()  # lower(complete=True) only


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHeader:
    name: str
    type: TypeRef
    required: bool
    description: str | None
    pointer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    status: str  # "200", "4XX" or "default"
    description: str | None
    type: TypeRef | None  # None: no JSON body
    headers: tuple[ResponseHeader, ...]
    pointer: str
    content: tuple[MediaType, ...] = ()  # lower(complete=True) only


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    name: str
    summary: str | None
    request: JsonText | None
    status: str | None
    response: JsonText | None
    pointer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    operation_id: str
    py_name: str  # method name on clients and on the service Protocol
    method: str  # upper case
    path: str
    summary: str | None
    description: str | None
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    # Keyword names for the body's top-level properties on client methods, by wire name.
    body_field_names: tuple[tuple[str, str], ...]
    responses: tuple[Response, ...]
    examples: tuple[Example, ...]
    pointer: str
    security: Requirements | None = None  # its own `security`; None: the API's applies
    tags: tuple[str, ...] = ()


# ---- security ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityScheme:
    name: str
    kind: Literal["api_key", "bearer", "oauth2", "other"]
    location: Literal["header", "query", "cookie"] | None  # api_key only
    parameter_name: str | None  # api_key: the header/query name
    scopes: tuple[str, ...]
    flows: tuple[tuple[str, str], ...]  # (flow name, authorization or token URL)
    description: str | None
    pointer: str


# ---- the whole API -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    file: str  # machine-independent name, e.g. "spec/2024-05-01-preview.yaml"
    sha256: str
    openapi_version: str
    # The root document as JSON (what a generated server serves at /openapi.json).
    document_json: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    title: str
    api_version: str
    description: str | None
    package: str  # Python package name, e.g. "model_inference_2024_05_01_preview"
    class_prefix: str  # e.g. "ModelInference" for ModelInferenceClient
    source: Source
    definitions: tuple[Definition, ...]  # sorted by name
    operations: tuple[Operation, ...]  # sorted by (path, method)
    security: tuple[SecurityScheme, ...]
    security_requirements: Requirements = ()  # the top-level `security`
    # Webhooks (OpenAPI 3.1), as operations whose path is the webhook's name; lowered for the
    # diff only (lower(complete=True)): generation does not serve or call them.
    webhooks: tuple[Operation, ...] = ()
