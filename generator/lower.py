"""Stage 3: a validated OpenAPI document -> ir.Api.

The only module that knows OpenAPI's shapes (3.1, 3.0 and Swagger 2.0 spellings, Azure's
x-ms-* extensions). Everything after it reads the IR.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import ir, naming
from generator.diagnostics import Diagnostic, SpecError, join_pointer
from generator.load import Document, LoadedSpec, Resolved
from generator.validate import HTTP_METHODS, detect_version, is_json_media_type

# Public names of every generated package that spec-defined names must not take.
RUNTIME_PUBLIC_NAMES = frozenset({
    "API_VERSION", "NOT_GIVEN", "NotGiven", "RequestContext", "ServiceError", "create_app",
    "Model", "FieldError", "ValidationError", "ASGIApp",
})
# Exception classes by role: the name each gets unless a definition already has it.
EXCEPTION_ROLES = (
    ("base", "APIError"),
    ("connection", "APIConnectionError"),
    ("timeout", "APITimeoutError"),
    ("status", "APIStatusError"),
    ("400", "BadRequestError"),
    ("401", "AuthenticationError"),
    ("403", "PermissionDeniedError"),
    ("404", "NotFoundError"),
    ("409", "ConflictError"),
    ("422", "UnprocessableEntityError"),
    ("429", "RateLimitError"),
    ("5xx", "InternalServerError"),
)
_PRIMITIVES = ("string", "integer", "number", "boolean", "null")


def lower(spec: LoadedSpec) -> ir.Api:
    """Raises SpecError with every problem found (names that cannot be made, unsupported shapes)."""
    return _Lowerer(spec).run()


@dataclass(slots=True)
class _Pending:
    name: str
    document: Document
    pointer: str
    schema: Any


class _Lowerer:
    def __init__(self, spec: LoadedSpec) -> None:
        self.spec = spec
        self.version = detect_version(spec)
        self.diagnostics: list[Diagnostic] = []
        self.named: dict[tuple[Path, str], str] = {}  # (document, pointer) -> definition name
        self.py_names: dict[str, str] = {}  # definition name -> class name
        self.taken: set[str] = set()
        self.definitions: dict[str, ir.Definition] = {}
        self.queue: list[_Pending] = []
        self.inline_guard: set[tuple[Path, str]] = set()

    # ---- entry ----------------------------------------------------------------------------

    def run(self) -> ir.Api:
        root = self.spec.root
        info = root.data.get("info") or {}
        title = str(info.get("title") or "API")
        api_version = str(info.get("version") or "")
        prefix = str(info.get("x-codegen-package") or naming.snake_case(title))
        self._register_named_schemas()
        while self.queue:
            pending = self.queue.pop(0)
            self.definitions[pending.name] = self._definition(pending)
        operations = self._operations()
        while self.queue:  # inline models met in operations
            pending = self.queue.pop(0)
            self.definitions[pending.name] = self._definition(pending)
        if any(d.level == "error" for d in self.diagnostics):
            raise SpecError(self.diagnostics)
        exception_taken = set(self.taken)
        class_prefix = naming.pascal_case(prefix)
        exception_names = tuple(
            (role, naming.unique(name if name not in exception_taken else "Api" + name,
                                 exception_taken))
            for role, name in EXCEPTION_ROLES)
        return ir.Api(
            title=title,
            api_version=api_version,
            description=_text(info.get("description")),
            package=naming.module_name(f"{prefix}_{api_version}"),
            class_prefix=class_prefix,
            source=ir.Source(file=root.source_name, sha256=root.sha256,
                             openapi_version=self.version),
            definitions=tuple(self.definitions[name] for name in sorted(self.definitions)),
            operations=operations,
            security=self._security(),
            exception_names=exception_names,
        )

    def _error(self, pointer: str, code: str, message: str, document: Document | None = None) -> None:
        self.diagnostics.append(self.spec.diagnostic(pointer, code, message, document=document))

    # ---- named schemas --------------------------------------------------------------------

    def _schema_sections(self, document: Document) -> list[tuple[str, dict[str, Any]]]:
        data = document.data
        sections = []
        components = data.get("components")
        if isinstance(components, dict) and isinstance(components.get("schemas"), dict):
            sections.append(("/components/schemas", components["schemas"]))
        if isinstance(data.get("definitions"), dict):
            sections.append(("/definitions", data["definitions"]))
        return sections

    def _register_named_schemas(self) -> None:
        found: list[tuple[str, Document, str, Any]] = []
        documents = [self.spec.root] + [d for d in self.spec.documents.values()
                                        if d is not self.spec.root]
        for document in documents:
            for base, schemas in self._schema_sections(document):
                for name, schema in schemas.items():
                    found.append((name, document, join_pointer(base, name), schema))
        names = [name for name, *_ in found]
        if len(set(names)) != len(names):  # the same name in two files: tell them apart
            counts: dict[str, int] = {}
            renamed = []
            for name, document, pointer, schema in found:
                counts[name] = counts.get(name, 0) + 1
                key = name if counts[name] == 1 else f"{name}{counts[name]}"
                renamed.append((key, document, pointer, schema))
            found = renamed
        py_names = naming.definition_names([n for n, *_ in found], set(RUNTIME_PUBLIC_NAMES))
        self.taken = set(RUNTIME_PUBLIC_NAMES) | set(py_names.values())
        for name, document, pointer, schema in found:
            self.named[(document.path, pointer)] = name
            self.py_names[name] = py_names[name]
            self.queue.append(_Pending(name, document, pointer, schema))

    def _synthesize(self, hint: str, document: Document, pointer: str, schema: Any) -> str:
        """Name an inline object schema, queue it for lowering and return its definition name."""
        key = (document.path, pointer)
        if key in self.named:
            return self.named[key]
        name = hint
        counter = 2
        while name in self.py_names:
            name = f"{hint}{counter}"
            counter += 1
        self.named[key] = name
        self.py_names[name] = naming.unique(naming.pascal_case(name), self.taken)
        self.queue.append(_Pending(name, document, pointer, schema))
        return name

    # ---- definitions ----------------------------------------------------------------------

    def _definition(self, pending: _Pending) -> ir.Definition:
        schema, document, pointer = pending.schema, pending.document, pending.pointer
        py_name = self.py_names[pending.name]
        if isinstance(schema, dict) and "$ref" in schema and len(schema) == 1:
            target = self._deref(schema, document, pointer)
            if target is not None:
                return ir.Alias(name=pending.name, py_name=py_name, description=None,
                                type=self._type(schema, document, pointer, pending.name),
                                pointer=pointer)
        description = _text(schema.get("description")) if isinstance(schema, dict) else None
        enum = self._enum_shape(schema, document, pointer)
        if enum is not None:
            values, open_, kind = enum
            return ir.Enum(name=pending.name, py_name=py_name, description=description,
                           members=self._enum_members(schema, values), open=open_,
                           value_kind=kind, pointer=pointer)
        if self._is_object(schema):
            return self._model(pending.name, py_name, description, schema, document, pointer)
        return ir.Alias(name=pending.name, py_name=py_name, description=description,
                        type=self._type(schema, document, pointer, pending.name), pointer=pointer)

    def _is_object(self, schema: Any) -> bool:
        if not isinstance(schema, dict):
            return False
        if "properties" in schema or schema.get("type") == "object" and (
                "additionalProperties" not in schema or "allOf" in schema):
            return True
        return "allOf" in schema and len(schema["allOf"]) > 1 or (
            "allOf" in schema and "properties" in schema)

    def _enum_shape(self, schema: Any, document: Document,
                    pointer: str) -> tuple[list[Any], bool, str] | None:
        """(values, open, kind) when the schema is an enumeration, else None."""
        if not isinstance(schema, dict):
            return None
        open_ = False
        x_ms_enum = schema.get("x-ms-enum")
        if isinstance(x_ms_enum, dict) and x_ms_enum.get("modelAsString") is True:
            open_ = True
        values = schema.get("enum")
        variants = schema.get("anyOf") or schema.get("oneOf")
        if values is None and isinstance(variants, list):
            # Azure's open enum: anyOf: [{type: string}, {type: string, enum: [...]}]
            enums = [v for v in variants if isinstance(v, dict) and "enum" in v]
            plain = [v for v in variants if isinstance(v, dict) and "enum" not in v
                     and set(v) <= {"type", "description"} and v.get("type") in ("string", "integer")]
            if len(enums) == 1 and len(plain) + 1 == len(variants):
                values = enums[0]["enum"]
                open_ = open_ or bool(plain)
        if not isinstance(values, list) or not values:
            return None
        values = [v for v in values if v is not None]
        if all(isinstance(v, str) for v in values):
            return values, open_, "string"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return values, open_, "integer"
        return None

    def _enum_members(self, schema: dict[str, Any], values: list[Any]) -> tuple[ir.EnumMember, ...]:
        descriptions: dict[str, str] = {}
        x_desc = schema.get("x-enum-descriptions")
        if isinstance(x_desc, dict):
            descriptions = {str(k): str(v) for k, v in x_desc.items()}
        x_ms_enum = schema.get("x-ms-enum")
        names: dict[str, str] = {}
        if isinstance(x_ms_enum, dict):
            for entry in x_ms_enum.get("values") or []:
                if isinstance(entry, dict) and "value" in entry:
                    if entry.get("description"):
                        descriptions.setdefault(str(entry["value"]), str(entry["description"]))
                    if entry.get("name"):
                        names[str(entry["value"])] = str(entry["name"])
        taken: set[str] = set()
        members = []
        for value in values:
            base = naming.constant_case(names.get(str(value), str(value)))
            members.append(ir.EnumMember(value=value, py_name=naming.unique(base, taken),
                                         description=descriptions.get(str(value))))
        return tuple(members)

    def _collect_object(self, schema: dict[str, Any], document: Document, pointer: str,
                        seen: set[tuple[Path, str]]) -> tuple[list[tuple[str, Any, Document, str]],
                                                               set[str], Any]:
        """Properties (in order), required names and additionalProperties, merging allOf."""
        properties: list[tuple[str, Any, Document, str]] = []
        required: set[str] = set()
        additional: Any = schema.get("additionalProperties", None)
        for i, part in enumerate(schema.get("allOf") or []):
            part_pointer = join_pointer(pointer, "allOf", i)
            resolved = self._deref(part, document, part_pointer)
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            key = (resolved.document.path, resolved.pointer)
            if key in seen:
                continue
            seen.add(key)
            props, req, add = self._collect_object(resolved.value, resolved.document,
                                                   resolved.pointer, seen)
            properties += props
            required |= req
            if add is not None and additional is None:
                additional = add
        for name, prop in (schema.get("properties") or {}).items():
            prop_pointer = join_pointer(pointer, "properties", name)
            properties = [p for p in properties if p[0] != name]
            properties.append((name, prop, document, prop_pointer))
        if isinstance(schema.get("required"), list):
            required |= {str(r) for r in schema["required"]}
        return properties, required, additional

    def _model(self, name: str, py_name: str, description: str | None, schema: dict[str, Any],
               document: Document, pointer: str) -> ir.Model:
        raw_properties, required, additional = self._collect_object(
            schema, document, pointer, {(document.path, pointer)})
        taken = set(naming.MODEL_MEMBER_NAMES)
        properties = []
        for wire, prop, prop_doc, prop_pointer in raw_properties:
            prop_schema = prop if isinstance(prop, dict) else {}
            client_name = prop_schema.get("x-ms-client-name")
            py = naming.unique(naming.snake_case(str(client_name or wire)), taken)
            prop_type = self._type(prop, prop_doc, prop_pointer, name + naming.pascal_case(wire))
            default = prop_schema.get("default", _NO_DEFAULT)
            properties.append(ir.Property(
                name=wire, py_name=py, type=prop_type, required=wire in required,
                description=_text(prop_schema.get("description")),
                default=None if default is _NO_DEFAULT else _json(default),
                read_only=prop_schema.get("readOnly") is True,
                pointer=prop_pointer))
        if additional is False:
            additional_type: ir.TypeRef | None = None
        elif additional is None or additional is True or additional == {}:
            additional_type = ir.AnyType()
        else:
            additional_type = self._type(additional, document,
                                         join_pointer(pointer, "additionalProperties"),
                                         name + "Value")
        return ir.Model(name=name, py_name=py_name, description=description,
                        properties=tuple(properties), additional=additional_type, pointer=pointer)

    # ---- types ----------------------------------------------------------------------------

    def _deref(self, value: Any, document: Document, pointer: str) -> Resolved | None:
        try:
            return self.spec.deref(value, document, pointer)
        except SpecError as exc:
            self.diagnostics += exc.diagnostics
            return None

    def _type(self, schema: Any, document: Document, pointer: str, hint: str) -> ir.TypeRef:
        if schema is True or schema is None or schema == {}:
            return ir.AnyType()
        if not isinstance(schema, dict):
            return ir.AnyType()
        if "$ref" in schema:
            resolved = self._deref({"$ref": schema["$ref"]}, document, pointer)
            if resolved is None:
                return ir.AnyType()
            key = (resolved.document.path, resolved.pointer)
            if key in self.named:
                target: ir.TypeRef = ir.NamedType(name=self.named[key])
            elif key in self.inline_guard:
                # A recursive inline schema: name it so the recursion has something to refer to.
                target = ir.NamedType(name=self._synthesize(
                    hint, resolved.document, resolved.pointer, resolved.value))
            else:
                self.inline_guard.add(key)
                try:
                    target = self._type(resolved.value, resolved.document, resolved.pointer, hint)
                finally:
                    self.inline_guard.discard(key)
            return _nullable(target) if self._is_nullable(schema) else target
        result = self._type_core(schema, document, pointer, hint)
        return _nullable(result) if self._is_nullable(schema) else result

    def _is_nullable(self, schema: dict[str, Any]) -> bool:
        return schema.get("nullable") is True or schema.get("x-nullable") is True

    def _type_core(self, schema: dict[str, Any], document: Document, pointer: str,
                   hint: str) -> ir.TypeRef:
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and "properties" not in schema:
            return self._type(all_of[0], document, join_pointer(pointer, "allOf", 0), hint)
        if self._is_object(schema) and "properties" in schema or (
                isinstance(all_of, list) and len(all_of) > 1):
            return ir.NamedType(name=self._synthesize(hint, document, pointer, schema))
        enum = self._enum_shape(schema, document, pointer)
        if enum is not None:
            values, open_, kind = enum
            if open_:
                return ir.PrimitiveType(kind=kind)  # type: ignore[arg-type]
            nullable = None in (schema.get("enum") or []) or _type_list_has_null(schema)
            return ir.LiteralType(values=tuple(values) + ((None,) if nullable else ()))
        if "const" in schema:
            return ir.LiteralType(values=(schema["const"],))
        for keyword in ("oneOf", "anyOf"):
            variants = schema.get(keyword)
            if isinstance(variants, list) and variants:
                return self._union(schema, variants, keyword, document, pointer, hint)
        kind = schema.get("type")
        if isinstance(kind, list):
            variants_types = []
            for k in kind:
                variants_types.append(self._single_type({**schema, "type": k}, document,
                                                        pointer, hint))
            return variants_types[0] if len(variants_types) == 1 else _flatten_union(
                variants_types, None)
        return self._single_type(schema, document, pointer, hint)

    def _union(self, schema: dict[str, Any], variants: list[Any], keyword: str,
               document: Document, pointer: str, hint: str) -> ir.TypeRef:
        lowered = [self._type(v, document, join_pointer(pointer, keyword, i), f"{hint}{i + 1}")
                   for i, v in enumerate(variants)]
        discriminator = None
        raw = schema.get("discriminator")
        if isinstance(raw, dict) and isinstance(raw.get("propertyName"), str):
            mapping = []
            for value, ref in (raw.get("mapping") or {}).items():
                resolved = self._deref({"$ref": ref}, document, join_pointer(
                    pointer, "discriminator", "mapping", value))
                if resolved is not None:
                    key = (resolved.document.path, resolved.pointer)
                    if key in self.named:
                        mapping.append((str(value), self.named[key]))
            discriminator = ir.Discriminator(property=raw["propertyName"],
                                             mapping=tuple(mapping))
        return _flatten_union(lowered, discriminator)

    def _single_type(self, schema: dict[str, Any], document: Document, pointer: str,
                     hint: str) -> ir.TypeRef:
        kind = schema.get("type")
        if kind == "null":
            return ir.PrimitiveType(kind="null")
        if kind in _PRIMITIVES:
            return ir.PrimitiveType(
                kind=kind,
                format=_str_or_none(schema.get("format")),
                min_length=_int_or_none(schema.get("minLength")),
                max_length=_int_or_none(schema.get("maxLength")),
                pattern=_str_or_none(schema.get("pattern")),
                minimum=_num_or_none(schema.get("minimum")),
                maximum=_num_or_none(schema.get("maximum")),
                exclusive_minimum=_num_or_none(schema.get("exclusiveMinimum")),
                exclusive_maximum=_num_or_none(schema.get("exclusiveMaximum")),
            )
        if kind == "array" or "items" in schema:
            items = schema.get("items")
            return ir.ArrayType(
                items=self._type(items, document, join_pointer(pointer, "items"), hint + "Item"),
                min_items=_int_or_none(schema.get("minItems")),
                max_items=_int_or_none(schema.get("maxItems")))
        if kind == "object" or "properties" in schema or "additionalProperties" in schema:
            if "properties" in schema:
                return ir.NamedType(name=self._synthesize(hint, document, pointer, schema))
            additional = schema.get("additionalProperties")
            if isinstance(additional, dict) and additional:
                return ir.MapType(values=self._type(
                    additional, document, join_pointer(pointer, "additionalProperties"),
                    hint + "Value"))
            return ir.MapType(values=ir.AnyType())
        if kind == "file":
            return ir.PrimitiveType(kind="string", format="binary")
        return ir.AnyType()

    # ---- operations -----------------------------------------------------------------------

    def _operations(self) -> tuple[ir.Operation, ...]:
        root = self.spec.root
        operations = []
        method_taken = {"close", "with_raw_response"}
        paths = root.data.get("paths") or {}
        for path in sorted(paths):
            item = paths[path]
            if not isinstance(item, dict):
                continue
            item_pointer = join_pointer("/paths", path)
            for method in sorted(m for m in HTTP_METHODS if isinstance(item.get(m), dict)):
                operations.append(self._operation(path, method, item, item_pointer, method_taken))
        return tuple(operations)

    def _operation(self, path: str, method: str, item: dict[str, Any], item_pointer: str,
                   method_taken: set[str]) -> ir.Operation:
        root = self.spec.root
        op = item[method]
        pointer = join_pointer(item_pointer, method)
        op_id = str(op.get("operationId") or naming.pascal_case(f"{method} {path}"))
        py_name = naming.unique(naming.snake_case(op_id), method_taken)
        raw_params: dict[tuple[str, str], tuple[dict[str, Any], Document, str]] = {}
        body: ir.RequestBody | None = None
        for params, base in ((item.get("parameters"), item_pointer), (op.get("parameters"), pointer)):
            for i, raw in enumerate(params or []):
                resolved = self._deref(raw, root, join_pointer(base, "parameters", i))
                if resolved is None or not isinstance(resolved.value, dict):
                    continue
                value = resolved.value
                raw_params[(str(value.get("in")), str(value.get("name")))] = (
                    value, resolved.document, resolved.pointer)
        hint = naming.pascal_case(op_id)
        # Swagger 2.0 puts the body among the parameters.
        for (location, _name), (value, document, ppointer) in list(raw_params.items()):
            if location == "body":
                del raw_params[(location, _name)]
                body = ir.RequestBody(
                    type=self._type(value.get("schema"), document, join_pointer(ppointer, "schema"),
                                    hint + "Body"),
                    required=value.get("required") is True,
                    media_type="application/json",
                    description=_text(value.get("description")), pointer=ppointer)
        request_body = op.get("requestBody")
        if request_body is not None:
            resolved = self._deref(request_body, root, join_pointer(pointer, "requestBody"))
            if resolved is not None and isinstance(resolved.value, dict):
                body = self._request_body(resolved, hint)
        body_field_names: list[tuple[str, str]] = []
        kwarg_taken = set(naming.CLIENT_CALL_NAMES)
        if body is not None and isinstance(body.type, ir.NamedType):
            definition = self.definitions.get(body.type.name)
            if isinstance(definition, ir.Model):
                for prop in definition.properties:
                    body_field_names.append((prop.name, naming.unique(prop.py_name, kwarg_taken)))
        parameters = []
        for (location, name), (value, document, ppointer) in raw_params.items():
            if location not in ("query", "header", "path"):
                continue
            role: ir.ParameterRole = "plain"
            if location == "query" and name == "api-version":
                role = "api_version"
            elif location == "header" and name.lower() == "extra-parameters":
                role = "extra_parameters"
            schema = value.get("schema", {k: v for k, v in value.items()
                                          if k in ("type", "format", "enum", "items",
                                                   "minLength", "maxLength", "x-ms-enum")})
            client_name = value.get("x-ms-client-name")
            parameters.append(ir.Parameter(
                name=name, py_name=naming.unique(naming.snake_case(str(client_name or name)),
                                                 kwarg_taken),
                location=location,  # type: ignore[arg-type]
                type=self._type(schema, document, join_pointer(ppointer, "schema"),
                                hint + naming.pascal_case(name)),
                required=value.get("required") is True or location == "path",
                description=_text(value.get("description")), role=role, pointer=ppointer))
        responses = self._responses(op, pointer, hint)
        return ir.Operation(
            operation_id=op_id, py_name=py_name, method=method.upper(), path=path,
            summary=_text(op.get("summary")), description=_text(op.get("description")),
            parameters=tuple(parameters), body=body, body_field_names=tuple(body_field_names),
            responses=responses, examples=self._examples(op, pointer, body, responses),
            pointer=pointer)

    def _request_body(self, resolved: Resolved, hint: str) -> ir.RequestBody | None:
        value = resolved.value
        for media_type, media in (value.get("content") or {}).items():
            if is_json_media_type(media_type) and isinstance(media, dict):
                media_pointer = join_pointer(resolved.pointer, "content", media_type)
                return ir.RequestBody(
                    type=self._type(media.get("schema"), resolved.document,
                                    join_pointer(media_pointer, "schema"), hint + "Body"),
                    required=value.get("required") is True, media_type=media_type,
                    description=_text(value.get("description")), pointer=resolved.pointer)
        self.diagnostics.append(self.spec.diagnostic(
            resolved.pointer, "W201", "request body has no JSON media type; it is not generated",
            document=resolved.document, level="warning"))
        return None

    def _responses(self, op: dict[str, Any], pointer: str, hint: str) -> tuple[ir.Response, ...]:
        root = self.spec.root
        result = []
        for status, raw in (op.get("responses") or {}).items():
            resolved = self._deref(raw, root, join_pointer(pointer, "responses", status))
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            value, document, rpointer = resolved.value, resolved.document, resolved.pointer
            body_type: ir.TypeRef | None = None
            schema_hint = hint + ("Error" if status == "default" else f"Response{status}")
            if "schema" in value:  # Swagger 2.0
                body_type = self._type(value["schema"], document, join_pointer(rpointer, "schema"),
                                       schema_hint)
            for media_type, media in (value.get("content") or {}).items():
                if is_json_media_type(media_type) and isinstance(media, dict):
                    body_type = self._type(media.get("schema"), document, join_pointer(
                        rpointer, "content", media_type, "schema"), schema_hint)
                    break
            headers = []
            for name, header in (value.get("headers") or {}).items():
                hpointer = join_pointer(rpointer, "headers", name)
                hresolved = self._deref(header, document, hpointer)
                if hresolved is None or not isinstance(hresolved.value, dict):
                    continue
                hvalue = hresolved.value
                headers.append(ir.ResponseHeader(
                    name=name, type=self._type(hvalue.get("schema", {"type": hvalue.get("type")}),
                                               hresolved.document, hresolved.pointer, schema_hint),
                    required=hvalue.get("required") is True,
                    description=_text(hvalue.get("description")), pointer=hpointer))
            result.append(ir.Response(status=str(status), description=_text(value.get("description")),
                                      type=body_type, headers=tuple(headers), pointer=rpointer))
        return tuple(sorted(result, key=lambda r: _status_order(r.status)))

    def _examples(self, op: dict[str, Any], pointer: str, body: ir.RequestBody | None,
                  responses: tuple[ir.Response, ...]) -> tuple[ir.Example, ...]:
        root = self.spec.root
        requests: dict[str, tuple[str | None, Any, str]] = {}
        if body is not None:
            body_value = self._deref(op.get("requestBody"), root, join_pointer(pointer, "requestBody"))
            media = ((body_value.value.get("content") or {}).get(body.media_type)
                     if body_value is not None and isinstance(body_value.value, dict) else None)
            if isinstance(media, dict):
                for name, example in (media.get("examples") or {}).items():
                    resolved = self._deref(example, root, join_pointer(
                        body.pointer, "content", body.media_type, "examples", name))
                    if resolved is not None and isinstance(resolved.value, dict):
                        requests[name] = (_text(resolved.value.get("summary")),
                                          resolved.value.get("value"), resolved.pointer)
        answers: dict[str, tuple[str, Any]] = {}
        for response in responses:
            resolved = self._deref({"$ref": "#" + response.pointer}, root, response.pointer)
            if resolved is None:
                continue
            for media_type, media in (resolved.value.get("content") or {}).items():
                if not is_json_media_type(media_type) or not isinstance(media, dict):
                    continue
                for name, example in (media.get("examples") or {}).items():
                    ex = self._deref(example, root, response.pointer)
                    if ex is not None and isinstance(ex.value, dict) and name not in answers:
                        answers[name] = (response.status, ex.value.get("value"))
        examples = []
        for name in sorted(set(requests) | set(answers)):
            summary, request, example_pointer = requests.get(name, (None, None, pointer))
            status, answer = answers.get(name, (None, None))
            examples.append(ir.Example(
                name=name, summary=summary,
                request=None if name not in requests else _json(request),
                status=status, response=None if name not in answers else _json(answer),
                pointer=example_pointer))
        return tuple(examples)

    # ---- security -------------------------------------------------------------------------

    def _security(self) -> tuple[ir.SecurityScheme, ...]:
        data = self.spec.root.data
        if self.version == "2.0":
            schemes, base = data.get("securityDefinitions") or {}, "/securityDefinitions"
        else:
            schemes = (data.get("components") or {}).get("securitySchemes") or {}
            base = "/components/securitySchemes"
        result = []
        for name, raw in schemes.items():
            pointer = join_pointer(base, name)
            resolved = self._deref(raw, self.spec.root, pointer)
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            value = resolved.value
            kind = value.get("type")
            scopes: list[str] = []
            flows: list[tuple[str, str]] = []
            location = None
            parameter_name = None
            if kind == "apiKey":
                ir_kind = "api_key"
                location = value.get("in")
                parameter_name = value.get("name")
            elif kind == "http" and str(value.get("scheme", "")).lower() == "bearer":
                ir_kind = "bearer"
            elif kind == "oauth2":
                ir_kind = "oauth2"
                if isinstance(value.get("flows"), dict):
                    for flow_name, flow in value["flows"].items():
                        if isinstance(flow, dict):
                            url = flow.get("authorizationUrl") or flow.get("tokenUrl") or ""
                            flows.append((flow_name, str(url)))
                            scopes += [s for s in (flow.get("scopes") or {}) if s not in scopes]
                else:
                    url = value.get("authorizationUrl") or value.get("tokenUrl") or ""
                    flows.append((str(value.get("flow")), str(url)))
                    scopes += list(value.get("scopes") or {})
            else:
                ir_kind = "other"
            result.append(ir.SecurityScheme(
                name=name, kind=ir_kind,  # type: ignore[arg-type]
                location=location, parameter_name=parameter_name,
                scopes=tuple(scopes), flows=tuple(flows),
                description=_text(value.get("description")), pointer=pointer))
        return tuple(result)


_NO_DEFAULT = object()


def _status_order(status: str) -> tuple[int, str]:
    if status.isdigit():
        return (0, status)
    if status.lower() == "default":
        return (2, status)
    return (1, status)


def _nullable(t: ir.TypeRef) -> ir.TypeRef:
    return _flatten_union([t, ir.PrimitiveType(kind="null")], None)


def _flatten_union(variants: list[ir.TypeRef],
                   discriminator: ir.Discriminator | None) -> ir.TypeRef:
    flat: list[ir.TypeRef] = []
    for variant in variants:
        inner = variant.variants if isinstance(variant, ir.UnionType) and (
            variant.discriminator is None) else (variant,)
        for t in inner:
            if t not in flat:
                flat.append(t)
    if any(isinstance(t, ir.AnyType) for t in flat):
        return ir.AnyType()
    if len(flat) == 1:
        return flat[0]
    return ir.UnionType(variants=tuple(flat), discriminator=discriminator)


def _type_list_has_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return isinstance(kind, list) and "null" in kind


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=False, ensure_ascii=False, separators=(",", ":"))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num_or_none(value: Any) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
