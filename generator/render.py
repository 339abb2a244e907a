"""Stage 4: ir.Api -> {relative path: file text}. Writes nothing.

Builds flat view models with every decision made here (annotations, codec expressions,
docstring literals), so templates only loop and test booleans. Spec text reaches Python
source only through `repr()` or `docstring()`: it can never become code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from generator import TOOL_NAME, __version__, ir
from generator.formatting import format_modules
from generator.views import (
    AliasView,
    ArgumentView,
    AuthView,
    BodyFieldView,
    BodyMethodView,
    ClientView,
    DistributionView,
    EnumMemberView,
    EnumView,
    ErrorModelView,
    ErrorShapesView,
    ErrorShapeView,
    ExtraParameterModes,
    ExtraParametersView,
    FieldView,
    ModelView,
    OperationView,
    PackageView,
    ParameterView,
    ReadmeRowView,
    ReadmeView,
    StatusExceptionView,
    VectorHelperView,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The runtime modules: ordinary Python, copied into every package under the header.
RUNTIME = Path(__file__).resolve().parent / "runtime"

# The package's documents (not Python, so not formatted).
_DOCUMENTS = (
    ("pyproject.toml.jinja", "pyproject.toml"),
    ("README.md.jinja", "README.md"),
)
# (template, output file) pairs: one template per generated module that depends on the spec.
_FILES = (
    ("__init__.py.jinja", "__init__.py"),
    ("models.py.jinja", "models.py"),
    ("exceptions.py.jinja", "exceptions.py"),
    ("client.py.jinja", "client.py"),
    ("aio.py.jinja", "aio.py"),
    ("server.py.jinja", "server.py"),
    ("_openapi.py.jinja", "_openapi.py"),
)


class _BestEffortBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's per-user bytecode cache (a 0700 directory under the temp dir, checked by
    Jinja), where a failed read or write only costs the next run the time to compile."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


# How the templates are read. Compiled code depends on these too, not only on the template
# text, so they name the cache files.
_TEMPLATE_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "autoescape": False,
}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    options = repr(sorted((k, getattr(v, "__name__", v)) for k, v in _TEMPLATE_OPTIONS.items()))
    fingerprint = hashlib.sha256(f"{jinja2.__version__} {options}".encode()).hexdigest()[:16]
    try:
        return _BestEffortBytecodeCache(pattern=f"__{TOOL_NAME}_{fingerprint}_%s.cache")
    except (OSError, RuntimeError):  # no safe temp directory: templates compile every run
        return None


@functools.cache
def environment() -> jinja2.Environment:
    """One per process, so several specs share the parsed templates. Compiling the templates
    is most of a small spec's render time; the bytecode cache keeps the compiled code between
    runs, keyed by each template's checksum (an edited template is compiled afresh) and by
    Jinja's version and the options above, and never changes what is rendered."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=_bytecode_cache(),
        **_TEMPLATE_OPTIONS,
    )


@functools.cache
def runtime_modules() -> dict[str, str]:
    """{file name: text} of the runtime modules (generator/runtime/*.py but its __init__)."""
    return {path.name: path.read_text(encoding="utf-8")
            for path in sorted(RUNTIME.glob("*.py")) if path.name != "__init__.py"}


def render(api: ir.Api) -> dict[str, str]:
    """Every file of the generated package, formatted, keyed by path relative to the output dir."""
    view = build_view(api)
    names = view._asdict()
    env = environment()
    modules = {f"{api.package}/{name}": env.get_template(template).render(**names)
               for template, name in _FILES}
    # The README's example is Python too: it goes through the same formatter pass.
    example_key = f"{api.package}/README example"
    if view.readme.example is not None:
        modules[example_key] = view.readme.example + "\n"
    # Every module is rendered first, then formatted in one go (one formatter process; see
    # generator/formatting.py): the bytes are what black would write.
    files = format_modules(modules)
    # The runtime as it is, under the header: it is kept in the formatter's style
    # (tests/runtime/test_copy.py), so it is not formatted again.
    files |= {f"{api.package}/{name}": f"{view.header}\n{text}"
              for name, text in runtime_modules().items()}
    if view.readme.example is not None:
        names["readme"] = view.readme._replace(example=files.pop(example_key).rstrip("\n"))
    # Files that are not Python: the package's pyproject.toml and README.md.
    documents = {f"{api.package}/{name}": env.get_template(template).render(**names)
                 for template, name in _DOCUMENTS}
    files[f"{api.package}/py.typed"] = view.header + "\n"
    files.update(documents)
    return files


# ---- literals ----------------------------------------------------------------------------

# Characters escaped in docstrings: controls, and what str.splitlines() (and so black) would
# treat as a line break.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _comment(text: str) -> str:
    """Spec text inside a `#` comment: on one line whatever it holds (repr's escapes)."""
    return repr(text)[1:-1]


def docstring(text: str | None, indent: str = "") -> str:
    """A triple-quoted docstring literal holding `text`, whatever characters it contains."""
    if not text:
        return ""
    body = text.replace("\r\n", "\n").replace("\r", "\n").replace("\\", "\\\\")
    body = body.replace('"""', '\\"\\"\\"')
    body = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", body)
    body = "\n".join(line.rstrip() for line in body.split("\n"))
    # A quote right before the closing quotes would end the string early, unless already
    # escaped: that is, unless an odd number of backslashes stands before it.
    if body.endswith('"') and (len(body) - 1 - len(body[:-1].rstrip("\\"))) % 2 == 0:
        body = body[:-1] + '\\"'
    if "\n" in body:
        body = body.replace("\n", "\n" + indent) + "\n" + indent
    return f'"""{body}"""'


def literal(value: Any) -> str:
    """A Python literal for a JSON value (repr is the only way spec data becomes source)."""
    return repr(value)


def python_sorted(names: Any, *, imports: bool = False) -> list[str]:
    """The order ruff expects in `__all__` (RUF022) or, with `imports`, in import lists (I001):
    CONSTANTS, then Classes, then everything else, each in natural order (`x2` before `x10`);
    import lists ignore case (`APIError, ApiNotFoundError, APIStatusError`), `__all__` does not."""

    def key(name: str) -> tuple[int, list[tuple[int, int, str]], str]:
        text = name.lower() if imports else name
        natural = [(0, int(part), "") if part.isdigit() else (1, 0, part)
                   for part in re.split(r"(\d+)", text) if part]
        if name.isupper() and len(name) > 1:
            return (0, natural, name)
        if name[:1].isupper():
            return (1, natural, name)
        return (2, natural, name)

    return sorted(set(names), key=key)


# ---- view models -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    api: ir.Api
    by_name: dict[str, ir.Definition]
    # How codec expressions name what the models module defines: "" inside models.py,
    # "_models." in the modules that import it as a whole (response codecs in client.py).
    models: str = ""
    # Error-body model name -> the generated constant writing it; computed once per API
    # (per operation it made build_view quadratic: 6 s of a kubernetes diff).
    error_shapes: Mapping[str, str] = field(default_factory=dict)


def build_view(api: ir.Api) -> PackageView:
    ctx = _Context(api, {d.name: d for d in api.definitions})
    ctx = _Context(api, ctx.by_name, error_shapes=_error_shape_names(ctx))
    header = (f"# Code generated by {TOOL_NAME} {__version__} from {_comment(api.source.file)} "
              f"(sha256:{api.source.sha256}, api-version {_comment(api.api_version)}). "
              "DO NOT EDIT.")
    enums = tuple(_enum_view(d) for d in api.definitions if isinstance(d, ir.Enum))
    models = tuple(_model_view(ctx, d) for d in api.definitions if isinstance(d, ir.Model))
    aliases = tuple(_alias_view(ctx, d) for d in api.definitions if isinstance(d, ir.Alias))
    operations = tuple(_operation_view(ctx, op) for op in api.operations)
    status_exceptions = _status_exception_views(ctx)
    title_doc = f"{api.title} (api-version {api.api_version})"
    prefix = api.class_prefix
    client_names = [f"{prefix}Client", f"Async{prefix}Client"]
    server_names = ["RequestContext", "ServiceError", f"{prefix}Service", "create_app"]
    runtime_names = ["API_VERSION", "NOT_GIVEN", "NotGiven", "FieldError", "ValidationError"]
    model_names = ([m.class_name for m in models] + [e.class_name for e in enums]
                   + [a.name for a in aliases])
    # Models live in `models`; the package also exports those whose names the fixed public
    # names (exceptions, clients, server, runtime) leave free.
    fixed = set(EXCEPTION_NAMES) | set(client_names) | set(server_names) | set(runtime_names)
    top_models = [name for name in model_names if name not in fixed]
    client_text = repr([(op.arguments, op.call, op.client_result, op.body_method)
                        for op in operations])
    return PackageView(
        header=header,
        package=api.package,
        class_prefix=prefix,
        module_doc=docstring(
            f"{api.title}, api-version {api.api_version}: generated from {api.source.file}."),
        api_version=literal(api.api_version),
        openapi_json=literal(api.source.document_json),
        user_agent=literal(f"{api.package}/{__version__} (api-version {api.api_version})"),
        client_doc=docstring(f"Synchronous client for {title_doc}.\n\n"
                             "Use it as a context manager, or call close(), to release "
                             "connections.", "    "),
        async_client_doc=docstring(f"Asynchronous client for {title_doc}.\n\n"
                                   "Use it as an async context manager, or await close(), to "
                                   "release connections.", "    "),
        enums=enums,
        models=models,
        aliases=aliases,
        operations=operations,
        status_exceptions=status_exceptions,
        error_shape=_error_shape_view(ctx),
        client=_client_view(ctx),
        auth=_auth_view(api),
        distribution=_distribution_view(api),
        readme=_readme_view(ctx, header, operations),
        model_names=tuple(python_sorted(model_names)),
        top_models=tuple(python_sorted(top_models, imports=True)),
        exception_names=tuple(python_sorted(EXCEPTION_NAMES, imports=True)),
        init_all=tuple(python_sorted([*runtime_names, *server_names, *client_names,
                                      *top_models, *EXCEPTION_NAMES, "models"])),
        client_all=tuple(python_sorted(["API_VERSION", "CLIENT_API", "CREDENTIAL_SCOPES",
                                        f"{prefix}Client", "AccessTokenLike",
                                        "AsyncTokenCredential", "RawResponse",
                                        "TokenCredential"])),
        aio_all=(f"Async{prefix}Client",),
        server_all=tuple(python_sorted([
            "API_VERSION", "ASGIApp", "Authenticator", "RequestContext", "DEFAULT_BODY_TIMEOUT",
            "DEFAULT_MAX_BODY_BYTES", "DEFAULT_REQUEST_TIMEOUT", "KEY_HEADER",
            "MAX_ERROR_DETAILS", "OPENAPI_JSON", "SERVER_API", "ServiceError",
            f"{prefix}Service", "create_app"])),
        exception_all=tuple(python_sorted([*EXCEPTION_NAMES, "status_error_class"])),
        server_type_imports=", ".join(python_sorted(server_names, imports=True)),
        uses_encoding=any(m.vector_helpers for m in models),
        uses_models_in_exceptions=any(v.models for v in status_exceptions),
        client_uses_models="_models." in client_text,
        client_uses_runtime="_rt." in client_text,
        server_models=any("_models." in f"{op.server_body} {op.server_result}"
                          for op in operations),
    )


def _distribution_view(api: ir.Api) -> DistributionView:
    """The pyproject.toml of a package: TOML strings (json.dumps writes valid TOML basic
    strings); the version is the generator's with the api-version as its local part."""
    # PEP 440's normal form: lower case, numbers without leading zeros.
    local = ".".join(str(int(part)) if part.isdigit() else part.lower()
                     for part in re.split(r"[^A-Za-z0-9]+", api.api_version) if part)
    return DistributionView(
        name=json.dumps(api.package.replace("_", "-")),
        version=json.dumps(f"{__version__}+api.{local or 'unknown'}"),
        description=json.dumps(f"Typed client and server stubs for {api.title} "
                               f"(api-version {api.api_version}), generated by {TOOL_NAME}."),
        package=json.dumps(api.package),
    )


def _markdown(text: str | None) -> str:
    """Spec text inside a Markdown table cell: one line, no table or HTML syntax."""
    text = " ".join((text or "").split())
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace("`", "'"))


def _readme_view(ctx: _Context, header: str, operations: tuple[OperationView, ...]
                 ) -> ReadmeView:
    api = ctx.api
    rows = tuple(ReadmeRowView(method_name=view.name,
                               http=_markdown(f"{op.method} {op.path}"),
                               summary=_markdown(op.summary or op.description or ""))
                 for op, view in zip(api.operations, operations))
    return ReadmeView(
        header=header[2:].replace("--", "- -"),
        title=_markdown(api.title),
        api_version=_markdown(api.api_version),
        source=_markdown(api.source.file),
        package=api.package,
        class_prefix=api.class_prefix,
        operations=rows,
        example=_readme_example(ctx, operations),
    )


def _readme_example(ctx: _Context, operations: tuple[OperationView, ...]) -> str | None:
    """A client call built from the spec's first request example that fits in a few lines:
    the first operation with a body model, an example request and no other required input."""
    api = ctx.api
    for op, view in zip(api.operations, operations):
        if view.body_model is None or any(p.required for p in view.parameters):
            continue
        names = dict(op.body_field_names)
        for example in op.examples:
            if example.request is None:
                continue
            try:
                body = json.loads(example.request)
            except ValueError:
                continue
            if not isinstance(body, dict) or not set(body) <= set(names):
                continue
            arguments = ", ".join(f"{names[wire]}={value!r}" for wire, value in body.items())
            lines = [f"from {api.package} import {api.class_prefix}Client",
                     "",
                     (f'with {api.class_prefix}Client("https://<your endpoint>", '
                      'api_key="<key>") as client:'),
                     f"    result = client.{view.name}({arguments})",
                     "    print(result)"]
            text = "\n".join(lines)
            if len(lines[3]) <= 200 and "`" not in text:
                return text
    return None


# The client exceptions, named as openai-python names them, whatever the spec's schemas are
# called (models live in their own namespace): (role, name); a role is a status, "5xx", or
# what the base classes stand for.
EXCEPTION_ROLES = (
    ("base", "APIError"),
    ("connection", "APIConnectionError"),
    ("timeout", "APITimeoutError"),
    ("status", "APIStatusError"),
    ("response", "APIResponseValidationError"),
    ("400", "BadRequestError"),
    ("401", "AuthenticationError"),
    ("403", "PermissionDeniedError"),
    ("404", "NotFoundError"),
    ("409", "ConflictError"),
    ("422", "UnprocessableEntityError"),
    ("429", "RateLimitError"),
    ("5xx", "InternalServerError"),
)
EXCEPTION_NAMES = tuple(name for _role, name in EXCEPTION_ROLES)


def _enum_view(enum: ir.Enum) -> EnumView:
    return EnumView(
        class_name=enum.py_name,
        base="_enum.StrEnum" if enum.value_kind == "string" else "_enum.IntEnum",
        doc=docstring(_with_note(enum.description, "Open: other values may also appear."
                                 if enum.open else None), "    "),
        members=tuple(EnumMemberView(name=m.py_name, value=literal(m.value),
                                     doc=docstring(m.description, "    "))
                      for m in enum.members),
    )


def _with_note(text: str | None, note: str | None) -> str | None:
    if not note:
        return text
    return f"{text}\n\n{note}" if text else note


def _model_view(ctx: _Context, model: ir.Model) -> ModelView:
    fields = []
    for prop in model.properties:
        annotation = annotation_of(ctx, prop.type)
        discriminator_value = None
        if model.discriminator_value is not None and model.discriminator_value[0] == prop.name:
            discriminator_value = literal(model.discriminator_value[1])
        doc = prop.description
        if prop.default is not None:
            doc = _with_note(doc, f"Service default: {prop.default}")
        fields.append(FieldView(
            attr=prop.py_name,
            wire=literal(prop.name),
            attr_repr=literal(prop.py_name),
            annotation=annotation if prop.required else f"{annotation} | _rt.NotGiven",
            has_default=not prop.required or discriminator_value is not None,
            # A subtype's discriminator holds its one value: it need not be passed.
            default="_rt.NOT_GIVEN" if discriminator_value is None else discriminator_value,
            doc=docstring(doc, "    "),
            codec=codec_of(ctx, prop.type),
            required=prop.required,
        ))
    return ModelView(
        class_name=model.py_name,
        doc=docstring(model.description, "    "),
        fields=tuple(fields),
        slots=literal(tuple(python_sorted([*(f.attr for f in fields), "additional_properties"]))),
        additional_codec="None" if model.additional is None else codec_of(ctx, model.additional),
        vector_helpers=_vector_helpers(ctx, model),
    )


def _alias_view(ctx: _Context, alias: ir.Alias) -> AliasView:
    return AliasView(
        name=alias.py_name,
        annotation=literal(annotation_of(ctx, alias.type)),
        annotation_text=annotation_of(ctx, alias.type),
        codec_name=f"_codec_{alias.py_name}",
        codec=codec_of(ctx, alias.type),
        doc=docstring(alias.description),
    )


def annotation_of(ctx: _Context, t: ir.TypeRef, models: str = "") -> str:
    """The Python type annotation for an IR type: inside the models module, or with
    `models="_models."` in a module that imports it as `_models`."""
    if isinstance(t, ir.PrimitiveType):
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool",
                "null": "None"}[t.kind]
    if isinstance(t, ir.AnyType):
        return "_t.Any"
    if isinstance(t, (ir.NamedType, ir.UnionType, ir.LiteralType)):
        parts = list(dict.fromkeys(_annotation_parts(ctx, t, models)))
        # Literal values become one Literal[...] (ruff's PYI030), where the first one was.
        literals = [part for part in parts if part.startswith(_LITERAL)]
        if literals:
            merged = f"{_LITERAL}{', '.join(p[len(_LITERAL):-1] for p in literals)}]"
            parts = [merged if part == literals[0] else part for part in parts
                     if part == literals[0] or not part.startswith(_LITERAL)]
        if "None" in parts:  # None last reads best: `int | None`
            parts.remove("None")
            parts.append("None")
        return " | ".join(parts)
    if isinstance(t, ir.ArrayType):
        return f"list[{annotation_of(ctx, t.items, models)}]"
    if isinstance(t, ir.MapType):
        return f"dict[str, {annotation_of(ctx, t.values, models)}]"
    raise TypeError(f"unknown IR type {t!r}")


_LITERAL = "_t.Literal["


def _annotation_parts(ctx: _Context, t: ir.TypeRef, models: str = "") -> list[str]:
    """The members of the union an annotation is, each a complete annotation."""
    if isinstance(t, ir.NamedType):
        target = ctx.by_name[t.name]
        if isinstance(target, ir.Enum) and target.open:
            return [models + target.py_name, "str" if target.value_kind == "string" else "int"]
        # A polymorphic base stands for its subtypes and itself.
        return [models + ctx.by_name[name].py_name for name in _polymorphic_names(ctx, target)]
    if isinstance(t, ir.UnionType):
        return [part for variant in t.variants
                for part in _annotation_parts(ctx, variant, models)]
    if isinstance(t, ir.LiteralType):  # one part per value: annotation_of joins them
        parts = [f"{_LITERAL}{literal(v)}]" for v in t.values if v is not None]
        return parts + (["None"] if None in t.values else [])
    return [annotation_of(ctx, t, models)]


def _polymorphic_names(ctx: _Context, target: ir.Definition) -> list[str]:
    """A definition's name, preceded by the subtypes a discriminator can select."""
    if not isinstance(target, ir.Model) or target.discriminator is None:
        return [target.name]
    names = [name for _value, name in target.discriminator.mapping
             if name != target.name and isinstance(ctx.by_name.get(name), ir.Model)]
    return [*dict.fromkeys(names), target.name]


def codec_of(ctx: _Context, t: ir.TypeRef) -> str:
    """A Python expression building the runtime codec for an IR type (inside models.py)."""
    if isinstance(t, ir.PrimitiveType):
        if t.kind == "string":
            return _call("_rt.StringCodec", min_length=t.min_length, max_length=t.max_length,
                         pattern=t.pattern)
        if t.kind in ("integer", "number"):
            return _call("_rt.NumberCodec", integer=True if t.kind == "integer" else None,
                         format=t.format if t.kind == "integer" else None,
                         minimum=t.minimum, maximum=t.maximum,
                         exclusive_minimum=t.exclusive_minimum,
                         exclusive_maximum=t.exclusive_maximum)
        return {"boolean": "_rt.BooleanCodec()", "null": "_rt.NullCodec()"}[t.kind]
    if isinstance(t, ir.AnyType):
        return "_rt.ANY"
    if isinstance(t, ir.NamedType):
        target = ctx.by_name[t.name]
        if isinstance(target, ir.Model) and len(_polymorphic_names(ctx, target)) > 1:
            assert target.discriminator is not None
            mapping = ", ".join(
                f"{literal(value)}: _rt.ModelCodec(lambda: {ctx.models}{ctx.by_name[name].py_name})"
                for value, name in target.discriminator.mapping
                if name != target.name and isinstance(ctx.by_name.get(name), ir.Model))
            return (f"_rt.UnionCodec((_rt.ModelCodec(lambda: {ctx.models}{target.py_name}),), "
                    f"discriminator={literal(target.discriminator.property)}, "
                    f"mapping={{{mapping}}})")
        if isinstance(target, ir.Model):
            return f"_rt.ModelCodec(lambda: {ctx.models}{target.py_name})"
        if isinstance(target, ir.Enum):
            return f"_rt.EnumCodec({ctx.models}{target.py_name}, open={target.open!r})"
        return f"_rt.LazyCodec(lambda: {ctx.models}_codec_{target.py_name})"
    if isinstance(t, ir.ArrayType):
        return _call("_rt.ArrayCodec", codec_of(ctx, t.items),
                     min_items=t.min_items, max_items=t.max_items)
    if isinstance(t, ir.MapType):
        return f"_rt.MapCodec({codec_of(ctx, t.values)})"
    if isinstance(t, ir.UnionType):
        non_null = [v for v in t.variants
                    if not (isinstance(v, ir.PrimitiveType) and v.kind == "null")]
        if len(non_null) == len(t.variants) - 1 and t.discriminator is None:
            inner = non_null[0] if len(non_null) == 1 else ir.UnionType(variants=tuple(non_null))
            return f"_rt.NullableCodec({codec_of(ctx, inner)})"
        variants = ", ".join(codec_of(ctx, v) for v in t.variants)
        if t.discriminator is None:
            return f"_rt.UnionCodec(({variants},))"
        mapping = ", ".join(f"{literal(value)}: {codec_of(ctx, ir.NamedType(name=name))}"
                            for value, name in t.discriminator.mapping)
        return (f"_rt.UnionCodec(({variants},), discriminator={literal(t.discriminator.property)}, "
                f"mapping={{{mapping}}})")
    if isinstance(t, ir.LiteralType):
        return f"_rt.LiteralCodec(({', '.join(literal(v) for v in t.values)},))"
    raise TypeError(f"unknown IR type {t!r}")


def _call(function: str, *args: str, **kwargs: Any) -> str:
    parts = list(args)
    parts += [f"{k}={literal(v)}" for k, v in kwargs.items() if v is not None]
    return f"{function}({', '.join(parts)})"


def _operation_view(ctx: _Context, op: ir.Operation) -> OperationView:
    body_model = None
    body_fields: list[BodyFieldView] = []
    if op.body is not None and isinstance(op.body.type, ir.NamedType):
        target = ctx.by_name[op.body.type.name]
        if isinstance(target, ir.Model):
            body_model = target.py_name
            names = dict(op.body_field_names)
            for prop in target.properties:
                # A required field of an optional body is optional: the body may be left out.
                required = prop.required and op.body.required
                annotation = annotation_of(ctx, prop.type, "_models.")
                body_fields.append(BodyFieldView(
                    kwarg=names[prop.name],
                    wire=literal(prop.name),
                    annotation=annotation if required else f"{annotation} | NotGiven",
                    required=required,
                ))
    parameters: list[ParameterView] = []
    api_version_param = None
    extra_parameters = None
    for param in op.parameters:
        if param.role == "api_version":
            api_version_param = literal(param.name)
            continue
        annotation = annotation_of(ctx, param.type, "_models.")
        parameters.append(ParameterView(
            kwarg=param.py_name,
            wire=literal(param.name),
            location=param.location,
            annotation=annotation if param.required else f"{annotation} | NotGiven",
            required=param.required,
        ))
        if param.role == "extra_parameters":
            extra_parameters = ExtraParametersView(
                wire=literal(param.name), kwarg=param.py_name,
                modes=_extra_parameter_modes(ctx, param.type))
    success = [r for r in op.responses if r.status.startswith("2")]
    result = success[0] if success else None
    result_model = None
    if result is not None and isinstance(result.type, ir.NamedType) and isinstance(
            ctx.by_name[result.type.name], ir.Model):
        result_model = ctx.by_name[result.type.name].py_name
    # What a call returns, typed from the first success response's schema: a model, a list,
    # a primitive..., None when that response has no body, Any when no success is documented.
    if result is None:
        result_annotation, result_codec = "_t.Any", "None"
    elif result.type is None:
        result_annotation, result_codec = "None", "None"
    else:
        result_annotation = annotation_of(ctx, result.type, "_models.")
        result_codec = codec_of(_Context(ctx.api, ctx.by_name, "_models."), result.type)
    doc_lines = [op.summary or "", op.description or ""]
    error_models = []
    for response in op.responses:
        if response.status.startswith("2") or not isinstance(response.type, ir.NamedType):
            continue
        target = ctx.by_name[response.type.name]
        if isinstance(target, ir.Model):
            error_models.append(ErrorModelView(status=literal(response.status),
                                               model=target.py_name))
    arguments = [ArgumentView(kwarg=f.kwarg, annotation=f.annotation,
                              default="" if f.required else " = NOT_GIVEN") for f in body_fields]
    arguments += [ArgumentView(kwarg=p.kwarg, annotation=p.annotation,
                               default="" if p.required else " = NOT_GIVEN") for p in parameters]

    def mapping(pairs: list[tuple[str, str]]) -> str:
        return "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"

    query = [(api_version_param, "self.api_version")] if api_version_param else []
    query += [(p.wire, p.kwarg) for p in parameters if p.location == "query"]
    call = [f"name={literal(op.py_name)}", f"method={literal(op.method)}",
            f"path={literal(op.path)}"]
    path_params = [(p.wire, p.kwarg) for p in parameters if p.location == "path"]
    headers = [(p.wire, p.kwarg) for p in parameters if p.location == "header"]
    call += [f"path_params={mapping(path_params)}"] if path_params else []
    call += [f"query={mapping(query)}"] if query else []
    call += [f"headers={mapping(headers)}"] if headers else []
    if body_model is not None:
        call.append(f"body={mapping([(f.wire, f.kwarg) for f in body_fields])}")
    if extra_parameters is not None:
        call.append(f"extra_parameters=({extra_parameters.wire}, "
                    f"{extra_parameters.modes.pass_through})")
    if result_codec != "None":
        call.append(f"result={result_codec}")
    if result is not None and result.type is None:
        call.append("answer_has_body=False")
    if error_models:
        call.append("errors=" + mapping([(e.status, f"_models.{e.model}") for e in error_models]))
    call += [f"{name}={name}" for name in _CALL_OPTIONS]
    body_method = None
    if body_model is not None:
        # The same call with a body model instead of its fields as keywords.
        body_name = "body"
        while body_name in {p.kwarg for p in parameters} | set(_CALL_OPTIONS):
            body_name += "_"
        body_method = BodyMethodView(
            name=f"{op.py_name}_from_body",
            body_name=body_name,
            body_annotation=f"_models.{body_model}",
            arguments=tuple(arguments[len(body_fields):]),
            call=tuple(f"body={body_name}" if part.startswith("body=") else part
                       for part in call),
            doc=docstring(_wrap(f"As {op.py_name}(), with the body given as one "
                                f"{body_model} instead of its fields as keywords."), "        "),
        )
    return OperationView(
        name=op.py_name,
        name_literal=literal(op.py_name),
        operation_id=literal(op.operation_id),
        method=literal(op.method),
        path=literal(op.path),
        doc=docstring("\n\n".join(line for line in doc_lines if line) or None, "        "),
        body_fields=tuple(body_fields),
        parameters=tuple(parameters),
        arguments=tuple(arguments),
        call=tuple(call),
        client_result=result_annotation,
        # mypy --strict: the runtime's answer is Any; the method says what it is.
        result_cast=None if result_annotation == "_t.Any" else result_annotation,
        body_method=body_method,
        error_models=tuple(error_models),
        body_model=body_model,
        body_required=bool(op.body and op.body.required),
        has_body=op.body is not None,
        result_model=result_model or "_t.Any",
        result_is_model=result_model is not None,
        result_annotation=result_annotation,
        result_codec=result_codec,
        result_has_body=result is None or result.type is not None,
        api_version_param=api_version_param,
        extra_parameters=extra_parameters,
        server_body=f"_models.{body_model}" if body_model else "_t.Any",
        server_body_model=f"_models.{body_model}" if body_model else "None",
        server_result=result_annotation,
        server_result_model=f"_models.{result_model}" if result_model else "None",
        required_params=literal(tuple(
            (p.location, p.name) for p in op.parameters
            if p.required and p.location != "path" and p.role == "plain")),
        # Without an extra-parameters header the body schema decides alone: unknown properties
        # are kept (JSON Schema allows them unless additionalProperties is false, which the
        # model's own validation refuses); with one, its `error` value is the default.
        default_mode=extra_parameters.modes.error if extra_parameters
        else literal("pass-through"),
        server_errors=_errors_literal(_server_errors(ctx, op)),
        result_status=int(result.status) if result is not None and result.status.isdigit()
        else 200,
    )


# The per-call options every client method takes after the operation's own arguments.
_CALL_OPTIONS = ("extra_body", "extra_headers", "extra_query", "timeout", "max_retries",
                 "total_timeout")


def _extra_parameter_modes(ctx: _Context, t: ir.TypeRef) -> ExtraParameterModes:
    """Which header value means which behaviour."""
    values: list[str] = []
    if isinstance(t, ir.NamedType) and isinstance(ctx.by_name.get(t.name), ir.Enum):
        target = ctx.by_name[t.name]
        assert isinstance(target, ir.Enum)
        values = [str(m.value) for m in target.members]
    elif isinstance(t, ir.LiteralType):
        values = [str(v) for v in t.values if v is not None]
    if not values:
        values = ["error", "drop", "pass-through"]
    modes = {"error": "error", "drop": "drop", "pass_through": "pass-through"}
    for value in values:
        lowered = value.lower()
        if "pass" in lowered:
            modes["pass_through"] = value
        elif lowered in ("drop", "ignore"):
            modes["drop"] = value
        elif "error" in lowered:
            modes["error"] = value
    return ExtraParameterModes(error=literal(modes["error"]), drop=literal(modes["drop"]),
                               pass_through=literal(modes["pass_through"]),
                               known=literal(tuple(values)))


def _auth_view(api: ir.Api) -> AuthView:
    api_key = next((s for s in api.security if s.kind == "api_key" and s.location == "header"),
                   None)
    scopes = [scope for s in api.security for scope in s.scopes]
    return AuthView(
        # The header that carries a key; Authorization: Bearer when the spec has no key header.
        key_header=literal((api_key.parameter_name if api_key and api_key.parameter_name
                            else "authorization").lower()),
        scopes=literal(tuple(scopes)),
    )


# ---- server error bodies ------------------------------------------------------------------
#
# Every documented error response has a body schema; the server writes each failure in the
# schema documented for its status (exact, then `4XX`, then `default`). What goes in each
# property is decided here, from the property's name and type: the template only lays out.

_FALLBACK_SHAPE = "_asgi.AZURE_ERROR_SHAPE"


def _resolved(ctx: _Context, t: ir.TypeRef) -> ir.TypeRef | ir.Definition:
    """`t` with aliases followed and a nullable union's null left out."""
    for _ in range(32):  # alias chains are short; the bound only guards against cycles
        if isinstance(t, ir.NamedType):
            target = ctx.by_name[t.name]
            if not isinstance(target, ir.Alias):
                return target
            t = target.type
        elif isinstance(t, ir.UnionType):
            non_null = [v for v in t.variants
                        if not (isinstance(v, ir.PrimitiveType) and v.kind == "null")]
            if len(non_null) != 1:
                return t
            t = non_null[0]
        else:
            return t
    return t


def _scalar_kind(ctx: _Context, t: ir.TypeRef) -> str | None:
    """"string", "integer", "number" or "boolean" when `t` holds one such scalar."""
    target = _resolved(ctx, t)
    if isinstance(target, ir.PrimitiveType):
        return target.kind
    if isinstance(target, ir.Enum):
        return target.value_kind
    if isinstance(target, ir.UnionType):  # an open enum: a string or one of the known strings
        variant_kinds = {_scalar_kind(ctx, v) for v in target.variants}
        return variant_kinds.pop() if len(variant_kinds) == 1 else None
    if isinstance(target, ir.LiteralType):
        kinds = {type(v).__name__ for v in target.values}
        return {"str": "string", "int": "integer"}.get(kinds.pop()) if len(kinds) == 1 else None
    return None


def _object_of(ctx: _Context, t: ir.TypeRef) -> ir.Model | None:
    target = _resolved(ctx, t)
    return target if isinstance(target, ir.Model) else None


def _items_object(ctx: _Context, t: ir.TypeRef) -> ir.Model | None:
    target = _resolved(ctx, t)
    return _object_of(ctx, target.items) if isinstance(target, ir.ArrayType) else None


def _is_azure_error(model: ir.Model | None) -> bool:
    return model is not None and {"code", "message"} <= {p.name for p in model.properties}


def _is_detail(model: ir.Model | None) -> bool:
    return model is not None and "loc" in {p.name for p in model.properties}


def _zero_value(ctx: _Context, t: ir.TypeRef) -> Any:
    target = _resolved(ctx, t)
    if isinstance(target, ir.ArrayType):
        return []
    if isinstance(target, (ir.Model, ir.MapType)):
        return {}
    return {"string": "", "integer": 0, "number": 0.0, "boolean": False}.get(
        _scalar_kind(ctx, t) or "", None)


def _azure_writes_all(model: ir.Model) -> bool:
    """Whether the runtime's Azure core Error object (code, message, target?, details?) fills
    every required property of `model`; OpenAI's error also requires `type` and `param`."""
    return all(p.name in ("code", "message") for p in model.properties if p.required)


def _is_nullable(t: ir.TypeRef) -> bool:
    return isinstance(t, ir.UnionType) and any(
        isinstance(v, ir.PrimitiveType) and v.kind == "null" for v in t.variants)


def _error_field_arguments(ctx: _Context, model: ir.Model, prop: ir.Property,
                           in_error: bool = False) -> str | None:
    """The arguments of the runtime's ErrorField saying how the server fills one property of
    an error body, or None to leave the property out. `in_error`: the property belongs to a
    nested error object (where `type` is the error's category)."""
    names = {p.name for p in model.properties}
    scalar = _scalar_kind(ctx, prop.type)
    nested = _object_of(ctx, prop.type)
    items = _items_object(ctx, prop.type)
    kind = None
    if (prop.name == "error" and nested is not None and _is_azure_error(nested)
            and not _azure_writes_all(nested)):
        kind = "object"
    elif prop.name == "error" and _is_azure_error(nested):
        kind = "azure_error"
    elif in_error and prop.name == "type" and scalar == "string":
        kind = "error_type"
    elif prop.name == "error" and scalar == "string":
        # The flat shapes' `error` describes the failure: the code when there is no `code`.
        kind = "phrase" if "code" in names else "code"
    elif prop.name == "code" and scalar == "string":
        kind = "code"
    elif prop.name in ("message", "msg") and scalar == "string":
        kind = "message"
    elif prop.name in ("status", "statusCode", "status_code") and scalar in ("integer", "number"):
        kind = "status"
    elif prop.name in ("status", "statusCode", "status_code") and scalar == "string":
        kind = "status_text"
    elif prop.name in ("param", "target", "parameter") and scalar == "string":
        kind = "target"
    elif prop.name in ("detail", "details") and _is_detail(nested):
        kind = "detail_object"
    elif prop.name in ("detail", "details") and _is_detail(items):
        kind = "detail_list"
    elif prop.name == "details" and _is_azure_error(items):
        kind = "azure_details"
    elif prop.required:
        kind = "zero"
    if kind is None:
        return None
    options: dict[str, Any] = {}
    if kind == "zero":
        options["zero"] = _zero_value(ctx, prop.type)
    if kind == "target" and prop.required and _is_nullable(prop.type):
        options["nullable"] = True
    if kind == "azure_error":
        assert nested is not None
        inner_names = {p.name for p in nested.properties}
        options["error_target"] = "target" in inner_names or None
        options["error_details"] = "details" in inner_names or None
    detail = nested if kind == "detail_object" else items if kind == "detail_list" else None
    if detail is not None:
        detail_names = [p.name for p in detail.properties]

        def key(*candidates: str) -> str | None:
            return next((c for c in candidates if c in detail_names), None)

        options |= {"loc_key": key("loc"), "value_key": key("value", "input"),
                    "message_key": key("msg", "message"), "code_key": key("type", "code")}
    arguments = [literal(prop.name), literal(kind)]
    if prop.required:
        arguments.append("required=True")
    arguments += [f"{name}={literal(value)}" for name, value in options.items()
                  if value is not None]
    if kind == "object":
        assert nested is not None
        inner = [f"ErrorField({view})" for p in nested.properties
                 if (view := _error_field_arguments(ctx, nested, p, in_error=True)) is not None]
        arguments.append("fields=(" + "".join(f"{view}, " for view in inner).rstrip() + ")")
    return ", ".join(arguments)


def _error_shape_names(ctx: _Context) -> dict[str, str]:
    """Error-body model name -> the generated function writing it."""
    names = sorted({t.name for op in ctx.api.operations for r in op.responses
                    if not r.status.startswith("2") and isinstance(t := r.type, ir.NamedType)
                    and isinstance(ctx.by_name[t.name], ir.Model)})
    return {name: f"_ERROR_SHAPE_{index}" for index, name in enumerate(names)}


def _server_errors(ctx: _Context, op: ir.Operation) -> list[tuple[str, str]]:
    """(status key, function writing its body or "None") for each documented error of `op`."""
    shapes = ctx.error_shapes
    errors = []
    for response in op.responses:
        if response.status.startswith("2"):
            continue
        t = response.type
        if isinstance(t, ir.NamedType) and t.name in shapes:
            errors.append((response.status, shapes[t.name]))
        elif t is None:
            errors.append((response.status, "None"))
        else:  # a documented body that is not an object: written in the fallback shape
            errors.append((response.status, _FALLBACK_SHAPE))
    if not any(status == "default" for status, _ in errors):
        errors.append(("default", _FALLBACK_SHAPE))
    return errors


def _errors_literal(errors: list[tuple[str, str]]) -> str:
    return "(" + "".join(f"({literal(status)}, {shape}), " for status, shape in errors) + ")"


def _error_shape_view(ctx: _Context) -> ErrorShapesView:
    """The error-body shapes, one per error schema (the runtime's Azure core shape is the
    fallback for statuses a spec documents no object body for), and which one each status
    uses API-wide (for requests that match no operation)."""
    per_op = [_server_errors(ctx, op) for op in ctx.api.operations]
    api_errors: dict[str, str] = {}
    for errors in per_op:
        for status, shape in errors:
            api_errors.setdefault(status, shape)
    if not api_errors:
        api_errors["default"] = _FALLBACK_SHAPE
    shapes = []
    for name, constant in ctx.error_shapes.items():
        model = ctx.by_name[name]
        assert isinstance(model, ir.Model)
        fields = [view for prop in model.properties
                  if (view := _error_field_arguments(ctx, model, prop)) is not None]
        shapes.append(ErrorShapeView(constant=constant, name=literal(name), fields=tuple(fields)))
    return ErrorShapesView(shapes=tuple(shapes),
                           api_errors=_errors_literal(sorted(api_errors.items())),
                           has_fields=any(shape.fields for shape in shapes))


# ---- clients and their exceptions -----------------------------------------------------------

# Statuses a client tries again: the request may well succeed later.
_RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
# Header names whose values are never logged nor kept in exceptions, besides the key header.
_SECRET_HEADERS = ("api-key", "authorization", "cookie", "ocp-apim-subscription-key",
                   "proxy-authorization", "set-cookie", "x-api-key")


def _client_view(ctx: _Context) -> ClientView:
    """What the client modules declare about this API (the runtime's ClientApi)."""
    api = ctx.api
    api_key = next((s for s in api.security if s.kind == "api_key" and s.location == "header"),
                   None)
    key_header = (api_key.parameter_name if api_key and api_key.parameter_name
                  else "authorization").lower()
    return ClientView(
        key_header=literal(key_header),
        key_prefix=literal("Bearer " if key_header == "authorization" else ""),
        # The runtime's SECRET_HEADERS, with this API's key header when it is another.
        extra_secret_header=literal(key_header),
        logger=literal(api.package),
        scopes=literal(tuple(scope for s in api.security for scope in s.scopes)),
        module_doc=docstring(_wrap(
            f"The synchronous client of {api.title} (api-version {api.api_version}): one "
            "method per operation, each describing its call (method, path, where each "
            "argument goes, the result model).\n\nThe HTTP machinery (auth, retries, errors, "
            "raw responses) is `_http.py`'s; the async client is in `aio.py`, so that this "
            "module never imports asyncio. A misspelled keyword is a TypeError (and a type "
            "error); fields the spec does not define go in `extra_body=`, and reach the model "
            "with the extra-parameters header set to pass them through, unless you set it.")),
    )


def _wrap(text: str, width: int = 88) -> str:
    """Paragraphs wrapped to `width` columns (docstrings stay within black's line length)."""
    return "\n".join(
        "\n".join(textwrap.wrap(line, width)) if line else "" for line in text.split("\n"))


def _status_exception_views(ctx: _Context) -> tuple[StatusExceptionView, ...]:
    """One exception class per status role: the error model(s) its `error` may hold (those the
    operations document for that status, else for its range, else by default) and its doc."""
    api = ctx.api
    views = []
    for role, name in EXCEPTION_ROLES:
        if not (role.isdigit() or role == "5xx"):
            continue
        models: set[str] = set()
        descriptions: list[str] = []
        for op in api.operations:
            by_status = {r.status: r for r in op.responses}
            if role == "5xx":
                chosen = [r for r in op.responses if re.fullmatch(r"5(\d\d|XX)", r.status)]
                if "5XX" not in by_status and "default" in by_status:
                    chosen.append(by_status["default"])
            else:
                response = (by_status.get(role) or by_status.get(role[0] + "XX")
                            or by_status.get("default"))
                chosen = [response] if response is not None else []
                text = by_status[role].description if role in by_status else None
                if text and text not in descriptions:
                    descriptions.append(text)
            for response in chosen:
                if isinstance(response.type, ir.NamedType) and isinstance(
                        ctx.by_name.get(response.type.name), ir.Model):
                    models.add(ctx.by_name[response.type.name].py_name)
        title = "HTTP 5xx: a failure on the service's side." if role == "5xx" else f"HTTP {role}."
        doc = title + ("\n\n" + "\n\n".join(descriptions) if len(descriptions) == 1 else "")
        views.append(StatusExceptionView(
            status=int(role) if role.isdigit() else None,
            name=name,
            is_5xx=role == "5xx",
            doc=docstring(doc, "    "),
            models=tuple(sorted(models)),
            error_annotation=" | ".join([f"_models.{m}" for m in sorted(models)] + ["None"]),
        ))
    return tuple(views)


# ---- embedding helpers on models ---------------------------------------------------------
#
# A model with an `embedding` property shaped as an array of numbers (or a union of that and a
# string: base64) gets `vector()` / `vector_array()` / `vector_numpy()`; a model with an array
# of such models gets `vectors()` / `vectors_array()` / `vectors_numpy()`. They decode through
# the generated encoding.py.

_EMBEDDING_PROPERTY = "embedding"


def _is_embedding_type(ctx: _Context, t: ir.TypeRef) -> bool:
    target = _resolved(ctx, t)
    if isinstance(target, ir.ArrayType):
        items = _resolved(ctx, target.items)
        return isinstance(items, ir.PrimitiveType) and items.kind in ("number", "integer")
    if isinstance(target, ir.UnionType):
        arrays = [v for v in target.variants if _is_embedding_type(ctx, v)]
        others = [v for v in target.variants if not _is_embedding_type(ctx, v)]
        return bool(arrays) and all(_scalar_kind(ctx, v) == "string" for v in others)
    return False


def _embedding_property(ctx: _Context, model: ir.Model | None) -> ir.Property | None:
    if model is None:
        return None
    return next((p for p in model.properties
                 if p.name == _EMBEDDING_PROPERTY and _is_embedding_type(ctx, p.type)), None)


def _vector_helpers(ctx: _Context, model: ir.Model) -> tuple[VectorHelperView, ...]:
    """The encoding mixins a model takes (their helper methods), each with the hook that says
    where its embedding(s) are; none whose method names a property already takes."""
    taken = {p.py_name for p in model.properties}
    helpers: list[VectorHelperView] = []
    vector = _embedding_property(ctx, model)
    if vector is not None and not taken & {"vector", "vector_array", "vector_numpy"}:
        helpers.append(VectorHelperView(mixin="_encoding.EmbeddingVector", hook="_embedding_value",
                                        returns="_t.Any", value=f"self.{vector.py_name}"))
    if not taken & {"vectors", "vectors_array", "vectors_numpy"}:
        for prop in model.properties:
            target = _resolved(ctx, prop.type)
            if not isinstance(target, ir.ArrayType):
                continue
            item = _embedding_property(ctx, _object_of(ctx, target.items))
            if item is None:
                continue
            helpers.append(VectorHelperView(
                mixin="_encoding.EmbeddingVectors", hook="_embedding_values",
                returns="list[_t.Any]",
                value=f"[item.{item.py_name} for item in self.{prop.py_name}]"))
            break
    return tuple(helpers)
