"""The view models render.py builds and the templates print: typed named tuples holding
finished Python text (annotations, literals, docstrings) and booleans, so that templates only
loop, test and print. diff/surface.py reads the same views for the generated-code part of a
spec diff.

Performance: NamedTuple, not frozen dataclasses: these 23 classes are built at every run's
start, 5 ms as named tuples where frozen slotted dataclasses took 25 ms (Python 3.11 compiles
six methods a class). They are built with keywords only, by render.py.
"""

from __future__ import annotations

from typing import NamedTuple


class EnumMemberView(NamedTuple):
    name: str
    value: str  # a Python literal
    doc: str


class EnumView(NamedTuple):
    class_name: str
    base: str
    doc: str
    members: tuple[EnumMemberView, ...]


class FieldView(NamedTuple):
    attr: str
    wire: str  # a Python literal
    attr_repr: str  # a Python literal
    annotation: str
    has_default: bool
    default: str
    doc: str
    codec: str
    required: bool


class VectorHelperView(NamedTuple):
    """An encoding mixin a model takes, and the hook saying where its embedding(s) are."""

    mixin: str
    hook: str
    returns: str
    value: str


class ModelView(NamedTuple):
    class_name: str
    doc: str
    fields: tuple[FieldView, ...]
    slots: str  # the `__slots__` tuple, a Python literal: every field's attribute, sorted
    additional_codec: str
    vector_helpers: tuple[VectorHelperView, ...]


class AliasView(NamedTuple):
    name: str
    annotation: str  # a Python string literal holding the annotation
    annotation_text: str  # the annotation itself
    codec_name: str
    codec: str
    doc: str


class ArgumentView(NamedTuple):
    """A keyword of a client method."""

    kwarg: str
    annotation: str
    default: str  # " = NOT_GIVEN", or "" when required


class BodyFieldView(NamedTuple):
    kwarg: str
    wire: str  # a Python literal
    annotation: str
    required: bool


class ParameterView(NamedTuple):
    kwarg: str
    wire: str  # a Python literal
    location: str
    annotation: str
    required: bool


class ExtraParameterModes(NamedTuple):
    """Which extra-parameters header value means which behaviour (Python literals)."""

    error: str
    drop: str
    pass_through: str
    known: str  # a tuple literal of every documented value


class ExtraParametersView(NamedTuple):
    wire: str  # a Python literal
    kwarg: str
    modes: ExtraParameterModes


class BodyMethodView(NamedTuple):
    """`<operation>_from_body(model)`: the same call with a body model."""

    name: str
    body_name: str
    body_annotation: str
    arguments: tuple[ArgumentView, ...]
    call: tuple[str, ...]
    doc: str


class ErrorModelView(NamedTuple):
    status: str  # a Python literal
    model: str


class OperationView(NamedTuple):
    name: str
    name_literal: str
    operation_id: str  # a Python literal
    method: str  # a Python literal
    path: str  # a Python literal
    doc: str
    # client
    body_fields: tuple[BodyFieldView, ...]
    parameters: tuple[ParameterView, ...]
    arguments: tuple[ArgumentView, ...]
    #: The arguments of the runtime's Call, as `name=value` texts.
    call: tuple[str, ...]
    client_result: str
    #: The annotation the method casts the runtime's answer to (None: it returns Any).
    result_cast: str | None
    body_method: BodyMethodView | None
    error_models: tuple[ErrorModelView, ...]
    # both sides
    body_model: str | None
    body_required: bool
    has_body: bool
    result_model: str  # the success model's class name, or "_t.Any"
    result_is_model: bool
    result_annotation: str
    result_codec: str
    result_has_body: bool
    api_version_param: str | None  # a Python literal
    extra_parameters: ExtraParametersView | None
    # server
    server_body: str
    server_body_model: str
    server_result: str
    server_result_model: str
    required_params: str  # a tuple literal of (location, name)
    default_mode: str  # a Python literal
    server_errors: str  # the error table literal
    result_status: int


class ErrorShapeView(NamedTuple):
    constant: str
    name: str  # a Python literal
    #: The arguments of each of the runtime's ErrorField rows.
    fields: tuple[str, ...]


class ErrorShapesView(NamedTuple):
    shapes: tuple[ErrorShapeView, ...]
    api_errors: str  # the API-wide error table literal
    has_fields: bool  # some shape has fields: server.py needs ErrorField


class StatusExceptionView(NamedTuple):
    status: int | None
    name: str
    is_5xx: bool
    doc: str
    models: tuple[str, ...]
    error_annotation: str


class ClientView(NamedTuple):
    key_header: str  # a Python literal
    key_prefix: str  # a Python literal
    extra_secret_header: str  # a Python literal
    logger: str  # a Python literal
    scopes: str  # a tuple literal
    module_doc: str


class AuthView(NamedTuple):
    key_header: str  # a Python literal
    scopes: str  # a tuple literal


class DistributionView(NamedTuple):
    """pyproject.toml values, as TOML strings."""

    name: str
    version: str
    description: str
    package: str


class ReadmeRowView(NamedTuple):
    method_name: str
    http: str
    summary: str


class ReadmeView(NamedTuple):
    header: str
    title: str
    api_version: str
    source: str
    package: str
    class_prefix: str
    operations: tuple[ReadmeRowView, ...]
    example: str | None


class PackageView(NamedTuple):
    """Everything the templates of one package print."""

    header: str
    package: str
    class_prefix: str
    module_doc: str
    api_version: str  # a Python literal
    openapi_json: str  # a Python literal
    user_agent: str  # a Python literal
    client_doc: str
    async_client_doc: str
    enums: tuple[EnumView, ...]
    models: tuple[ModelView, ...]
    aliases: tuple[AliasView, ...]
    operations: tuple[OperationView, ...]
    status_exceptions: tuple[StatusExceptionView, ...]
    error_shape: ErrorShapesView
    client: ClientView
    auth: AuthView
    distribution: DistributionView
    readme: ReadmeView
    # names and imports
    model_names: tuple[str, ...]
    top_models: tuple[str, ...]
    exception_names: tuple[str, ...]
    init_all: tuple[str, ...]
    client_all: tuple[str, ...]
    aio_all: tuple[str, ...]
    server_all: tuple[str, ...]
    exception_all: tuple[str, ...]
    server_type_imports: str
    # which optional imports a module needs
    uses_encoding: bool
    uses_models_in_exceptions: bool
    client_uses_models: bool
    client_uses_runtime: bool
    server_models: bool
