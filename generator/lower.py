"""Stage 3: a validated OpenAPI document -> ir.Api.

The only module that knows OpenAPI's shapes (3.1, 3.0 and Swagger 2.0 spellings, Azure's
x-ms-* extensions). Everything after it reads the IR.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from generator import ir, naming
from generator.diagnostics import Diagnostic, SpecError, join_pointer
from generator.load import Document, LoadedSpec, Resolved
from generator.validate import HTTP_METHODS, detect_version, is_json_media_type

# Public names of every generated package that spec-defined names must not take.
RUNTIME_PUBLIC_NAMES = frozenset({
    "API_VERSION", "NOT_GIVEN", "NotGiven", "RequestContext", "ServiceError", "create_app",
    "Model", "FieldError", "ValidationError", "ASGIApp",
})
_PRIMITIVES = ("string", "integer", "number", "boolean", "null")
# What a Swagger 2.0 parameter (no `schema`) says about its type.
_SWAGGER_PARAMETER_SCHEMA_KEYS = frozenset({
    "type", "format", "enum", "items", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "x-ms-enum", "x-nullable",
    "default",
})


def lower(spec: LoadedSpec, warnings: list[Diagnostic] | None = None, *,
          complete: bool = False) -> ir.Api:
    """Raises SpecError with every problem found (names that cannot be made, unsupported shapes);
    appends the warnings of a successful lowering to `warnings` when given.

    `complete` (for the diff) also lowers what generation leaves out: the bodies that are not
    JSON (XML, text, forms, wildcards) into RequestBody.content and Response.content, and
    the webhooks; their inline objects become definitions of their own, so generation never
    asks for it."""
    lowerer = _Lowerer(spec, complete=complete)
    api = lowerer.run()
    if warnings is not None:
        warnings.extend(d for d in lowerer.diagnostics if d.level != "error")
    return api


@dataclass(slots=True)
class _Pending:
    name: str
    document: Document
    pointer: str
    schema: Any


class _Lowerer:
    def __init__(self, spec: LoadedSpec, *, complete: bool = False) -> None:
        self.spec = spec
        self.complete = complete
        self.version = detect_version(spec)
        self.diagnostics: list[Diagnostic] = []
        self.named: dict[tuple[Path, str], str] = {}  # (document, pointer) -> definition name
        self.py_names: dict[str, str] = {}  # definition name -> class name
        self.taken: set[str] = set()
        self.definitions: dict[str, ir.Definition] = {}
        self.queue: deque[_Pending] = deque()
        self.inline_guard: set[tuple[Path, str]] = set()
        # Polymorphism: base definition -> its discriminator; subtype -> (property, value).
        self.polymorphic: dict[str, ir.Discriminator] = {}
        self.subtype_of: dict[str, tuple[str, str]] = {}
        # Inline enums that x-ms-enum names: name -> (definition name, values).
        self.ms_enums: dict[str, tuple[str, tuple[Any, ...]]] = {}
        info = spec.root.data.get("info")
        info = info if isinstance(info, dict) else {}
        self.prefix = str(info.get("x-codegen-package") or naming.snake_case(
            str(info.get("title") or "API")))
        # Class names (`<prefix>Client`, `<prefix>Service`): x-codegen-class-prefix where the
        # package prefix does not spell them well ("OpenAIEmbeddings", not "OpenaiEmbeddings").
        given = info.get("x-codegen-class-prefix")
        self.class_prefix = (given if isinstance(given, str) and given.isidentifier()
                             and given[:1].isupper() else naming.pascal_case(self.prefix))
        self.client_names = set(naming.client_names(self.class_prefix))

    # ---- entry ----------------------------------------------------------------------------

    def run(self) -> ir.Api:
        root = self.spec.root
        info = root.data.get("info")
        info = info if isinstance(info, dict) else {}
        title = str(info.get("title") or "API")
        api_version = str(info.get("version") or "")
        prefix = self.prefix
        self._register_named_schemas()
        self._lower_queued()
        operations = self._operations()
        webhooks = self._webhooks() if self.complete else ()
        self._lower_queued()  # inline models met in operations' parameters and responses
        self._check_alias_cycles()
        if any(d.level == "error" for d in self.diagnostics):
            raise SpecError(self.diagnostics)
        class_prefix = self.class_prefix
        return ir.Api(
            title=title,
            api_version=api_version,
            description=_text(info.get("description")),
            package=naming.module_name(f"{prefix}_{api_version}"),
            class_prefix=class_prefix,
            source=ir.Source(file=root.source_name, sha256=self._source_hash(),
                             openapi_version=self.version,
                             document_json=json.dumps(root.data, ensure_ascii=True,
                                                      sort_keys=True, default=str)),
            definitions=tuple(self.definitions[name] for name in sorted(self.definitions)),
            operations=operations,
            security=self._security(),
            security_requirements=_requirements(root.data.get("security")) or (),
            webhooks=webhooks,
        )

    def _lower_queued(self) -> None:
        """Lower every inline model queued so far (lowering one may queue more)."""
        while self.queue:
            pending = self.queue.popleft()
            self.definitions[pending.name] = self._definition(pending)

    def _check_alias_cycles(self) -> None:
        """A schema that is only a union or alias of itself has no values: `A = A | B`.

        Recursion through an array, a map or an object is fine; directly it is not.
        """
        direct: dict[str, list[str]] = {}
        for definition in self.definitions.values():
            if isinstance(definition, ir.Alias):
                direct[definition.name] = [
                    n for n in _direct_names(definition.type)
                    if isinstance(self.definitions.get(n), ir.Alias)]
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for start in sorted(direct):
            if start in state:
                continue
            stack = [(start, iter(direct[start]))]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(child) == 1:
                    definition = self.definitions[child]
                    cycle = [n for n, _ in stack][[n for n, _ in stack].index(child):]
                    self._error(definition.pointer, "E103",
                                "schema is defined only in terms of itself: "
                                + " -> ".join([*cycle, child]),
                                self._document_of(child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(direct[child])))

    def _document_of(self, name: str) -> Document | None:
        for (path, _pointer), named in self.named.items():
            if named == name:
                return self.spec.documents.get(path)
        return None

    def _source_hash(self) -> str:
        """The spec file's sha256; with `$ref`s into other files, one hash over all of them
        (each file's name relative to the spec and its own hash, in name order), so that a
        change in any file the code came from changes the header."""
        root = self.spec.root
        if len(self.spec.documents) == 1:
            return root.sha256
        parts = []
        for document in self.spec.documents.values():
            name = os.path.relpath(document.path, root.path.parent).replace(os.sep, "/")
            parts.append(f"{name}\0{document.sha256}\n")
        return hashlib.sha256("".join(sorted(parts)).encode("utf-8")).hexdigest()

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
        # Root first, then the other files by path; names sorted: the order of keys in the
        # spec never changes a name.
        found: list[tuple[str, Document, str, Any]] = []
        others = sorted((d for d in self.spec.documents.values() if d is not self.spec.root),
                        key=lambda d: str(d.path))
        for document in [self.spec.root, *others]:
            for base, schemas in self._schema_sections(document):
                for name in sorted(schemas):
                    found.append((name, document, join_pointer(base, name), schemas[name]))
        names = [name for name, *_ in found]
        if len(set(names)) != len(names):  # the same name in two files: tell them apart
            counts: dict[str, int] = {}
            used = set(names)
            renamed = []
            for name, document, pointer, schema in found:
                counts[name] = counts.get(name, 0) + 1
                key = name
                if counts[name] > 1:
                    key = naming.unique(f"{name}{counts[name]}", used)
                renamed.append((key, document, pointer, schema))
            found = renamed
        reserved = set(RUNTIME_PUBLIC_NAMES) | set(naming.MODULE_NAMES) | self.client_names
        explicit = self._explicit_class_names(found, reserved)
        py_names = naming.definition_names([n for n, *_ in found if n not in explicit],
                                           reserved | set(explicit.values()))
        py_names.update(explicit)
        self.taken = reserved | set(py_names.values())
        for name, document, pointer, schema in found:
            self.named[(document.path, pointer)] = name
            self.py_names[name] = py_names[name]
            self.queue.append(_Pending(name, document, pointer, schema))
            enum = self._enum_shape(schema, document, pointer)
            if enum is not None and isinstance(schema, dict):
                # An inline enum that x-ms-enum names after this definition is this definition.
                x_ms_enum = schema.get("x-ms-enum")
                ms_name = x_ms_enum.get("name") if isinstance(x_ms_enum, dict) else None
                for enum_name in (ms_name, name):
                    if isinstance(enum_name, str):
                        self.ms_enums.setdefault(enum_name, (name, tuple(enum[0])))
        self._register_polymorphism(found)

    def _explicit_class_names(self, found: list[tuple[str, Document, str, Any]],
                              reserved: set[str]) -> dict[str, str]:
        """Class names given by `x-ms-client-name` on schemas; two equal ones are an error."""
        explicit: dict[str, str] = {}
        owners: dict[str, str] = {}
        for name, document, pointer, schema in found:
            client_name = schema.get("x-ms-client-name") if isinstance(schema, dict) else None
            if not isinstance(client_name, str):
                continue
            py = naming.pascal_case(client_name)
            where = join_pointer(pointer, "x-ms-client-name")
            if py in owners:
                self._error(where, "E142", f"x-ms-client-name {client_name!r} gives the class "
                            f"name {py!r}, which schema {owners[py]!r} already has", document)
            elif py in reserved:
                self._error(where, "E142", f"x-ms-client-name {client_name!r} gives the class "
                            f"name {py!r}, which the generated package already uses", document)
            else:
                owners[py] = name
                explicit[name] = py
        return explicit

    def _register_polymorphism(self, found: list[tuple[str, Document, str, Any]]) -> None:
        """Bases with a discriminator and the subtypes that extend them through `allOf`."""
        children: dict[str, list[tuple[str, Any]]] = {}
        for name, document, pointer, schema in found:
            if not isinstance(schema, dict) or not isinstance(schema.get("allOf"), list):
                continue
            for i, part in enumerate(schema["allOf"]):
                if not (isinstance(part, dict) and isinstance(part.get("$ref"), str)):
                    continue
                resolved = self._deref(part, document, join_pointer(pointer, "allOf", i))
                if resolved is None:
                    continue
                parent = self.named.get((resolved.document.path, resolved.pointer))
                if parent is not None and parent != name:
                    children.setdefault(parent, []).append((name, schema))
        for name, document, pointer, schema in found:
            if not isinstance(schema, dict) or "oneOf" in schema or "anyOf" in schema:
                continue
            raw = schema.get("discriminator")
            explicit: Any
            if isinstance(raw, str):  # Swagger 2.0
                prop, explicit = raw, {}
            elif isinstance(raw, dict) and isinstance(raw.get("propertyName"), str):
                prop, explicit = raw["propertyName"], raw.get("mapping") or {}
            else:
                continue
            mapping: dict[str, str] = {}
            for value, ref in explicit.items() if isinstance(explicit, dict) else ():
                target = self._mapping_target(ref, document, join_pointer(
                    pointer, "discriminator", "mapping", value))
                if target is not None and target != name:
                    mapping.setdefault(str(value), target)
            mapped = set(mapping.values())
            for child, child_schema in children.get(name, ()):
                value = child_schema.get("x-ms-discriminator-value")
                if not isinstance(value, str):
                    if child in mapped:
                        continue
                    value = child.rsplit("/", 1)[-1]
                mapping.setdefault(value, child)
            for value, child in mapping.items():
                self.subtype_of.setdefault(child, (prop, value))
            self.polymorphic[name] = ir.Discriminator(
                property=prop, mapping=tuple(sorted(mapping.items())))

    def _mapping_target(self, ref: Any, document: Document, pointer: str) -> str | None:
        """The definition a discriminator mapping value names: a reference or a schema name."""
        if not isinstance(ref, str):
            return None
        if "#" not in ref and "/" not in ref and "." not in ref:
            base = "/definitions" if self.version == "2.0" else "/components/schemas"
            ref = "#" + join_pointer(base, ref)
        try:
            resolved = self.spec.deref({"$ref": ref}, document, pointer)
        except SpecError:
            return None  # validate warned (W104): the entry is ignored
        return self.named.get((resolved.document.path, resolved.pointer))

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
                           members=self._enum_members(schema, values, document, pointer),
                           open=open_,
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
                    pointer: str
                    ) -> tuple[list[Any], bool, Literal["string", "integer"]] | None:
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
        if not isinstance(values, list):
            return None
        values = list(dict.fromkeys(v for v in values if v is not None and not isinstance(
            v, (dict, list))))  # unique, in spec order
        if not values:
            return None
        if all(isinstance(v, str) for v in values):
            return values, open_, "string"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return values, open_, "integer"
        return None

    def _enum_members(self, schema: dict[str, Any], values: list[Any], document: Document,
                      pointer: str) -> tuple[ir.EnumMember, ...]:
        descriptions: dict[str, str] = {}
        x_desc = schema.get("x-enum-descriptions")
        if isinstance(x_desc, dict):
            descriptions = {str(k): str(v) for k, v in x_desc.items()}
        x_ms_enum = schema.get("x-ms-enum")
        names: dict[str, str] = {}
        taken: set[str] = set()
        if isinstance(x_ms_enum, dict) and isinstance(x_ms_enum.get("values"), list):
            owners: dict[str, str] = {}
            for i, entry in enumerate(x_ms_enum["values"]):
                if isinstance(entry, dict) and "value" in entry:
                    if entry.get("description"):
                        descriptions.setdefault(str(entry["value"]), str(entry["description"]))
                    if isinstance(entry.get("name"), str) and entry["name"]:
                        py = naming.constant_case(entry["name"])
                        if py in owners and owners[py] != str(entry["value"]):
                            self._error(join_pointer(pointer, "x-ms-enum", "values", i, "name"),
                                        "E143", f"x-ms-enum name {entry['name']!r} gives the "
                                        f"member name {py!r}, which value {owners[py]!r} "
                                        "already has", document)
                            continue
                        owners[py] = str(entry["value"])
                        names[str(entry["value"])] = py
            taken = set(owners)
        members = []
        for value in values:
            explicit = names.get(str(value))
            py = explicit if explicit is not None else naming.unique(
                naming.constant_case(str(value)), taken)
            members.append(ir.EnumMember(value=value, py_name=py,
                                         description=descriptions.get(str(value))))
        return tuple(members)

    def _collect_object(self, schema: dict[str, Any], document: Document, pointer: str,
                        seen: set[tuple[Path, str]]) -> tuple[list[tuple[str, Any, Document, str]],
                                                               set[str], Any]:
        """Properties (in order), required names and additionalProperties, merging allOf."""
        properties: dict[str, tuple[str, Any, Document, str]] = {}
        required: set[str] = set()
        additional: Any = schema.get("additionalProperties", None)
        all_of = schema.get("allOf")
        for i, part in enumerate(all_of if isinstance(all_of, list) else []):
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
            for prop in props:
                properties[prop[0]] = prop
            required |= req
            if add is not None and additional is None:
                additional = add
        own = schema.get("properties")
        if isinstance(own, dict):
            # A property declared here replaces one of the same name from allOf, and moves last.
            for name, prop in own.items():
                properties.pop(name, None)
                properties[name] = (name, prop, document, join_pointer(pointer, "properties", name))
        if isinstance(schema.get("required"), list):
            required |= {str(r) for r in schema["required"]}
        return list(properties.values()), required, additional

    def _model(self, name: str, py_name: str, description: str | None, schema: dict[str, Any],
               document: Document, pointer: str) -> ir.Model:
        raw_properties, required, additional = self._collect_object(
            schema, document, pointer, {(document.path, pointer)})
        taken = set(naming.MODEL_MEMBER_NAMES)
        explicit: dict[str, str] = {}  # wire name -> Python name given by x-ms-client-name
        owners: dict[str, str] = {}
        for wire, prop, prop_doc, prop_pointer in raw_properties:
            client_name = prop.get("x-ms-client-name") if isinstance(prop, dict) else None
            if not isinstance(client_name, str):
                continue
            py = naming.snake_case(client_name)
            where = join_pointer(prop_pointer, "x-ms-client-name")
            if py in owners:
                self._error(where, "E140", f"x-ms-client-name {client_name!r} gives the Python "
                            f"name {py!r}, which property {owners[py]!r} of {name!r} already has",
                            prop_doc)
            elif py in taken:
                self._error(where, "E140", f"x-ms-client-name {client_name!r} gives the Python "
                            f"name {py!r}, which every generated model already uses", prop_doc)
            else:
                owners[py] = wire
                explicit[wire] = py
        taken |= set(explicit.values())
        subtype = self.subtype_of.get(name)
        properties = []
        for wire, prop, prop_doc, prop_pointer in raw_properties:
            prop_schema = prop if isinstance(prop, dict) else {}
            py = explicit.get(wire) or naming.unique(naming.snake_case(wire), taken)
            prop_type = self._type(prop, prop_doc, prop_pointer, name + naming.pascal_case(wire))
            is_required = wire in required
            if subtype is not None and subtype[0] == wire:
                # A subtype of a polymorphic base: its discriminator holds exactly its value.
                prop_type, is_required = ir.LiteralType(values=(subtype[1],)), True
            default = prop_schema.get("default", _NO_DEFAULT)
            properties.append(ir.Property(
                name=wire, py_name=py, type=prop_type, required=is_required,
                description=_text(prop_schema.get("description")),
                default=None if default is _NO_DEFAULT else _json(default),
                read_only=prop_schema.get("readOnly") is True,
                write_only=prop_schema.get("writeOnly") is True,
                pointer=prop_pointer))
        if additional is False:
            additional_type: ir.TypeRef | None = None
        elif additional is None or additional is True or additional == {}:
            additional_type = ir.AnyType()
        else:
            additional_type = self._type(additional, document,
                                         join_pointer(pointer, "additionalProperties"),
                                         name + "Value")
        return ir.Model(
            name=name, py_name=py_name, description=description,
            properties=tuple(properties), additional=additional_type, pointer=pointer,
            discriminator=self.polymorphic.get(name),
            discriminator_value=subtype if subtype is not None and any(
                p.name == subtype[0] for p in properties) else None,
            keywords=_assertions(schema))

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
                if self._is_nullable(resolved.value):  # a nullable named schema
                    target = _nullable(target)
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
        keywords = _assertions(schema)
        if keywords and isinstance(result, (ir.PrimitiveType, ir.AnyType, ir.ArrayType,
                                            ir.MapType, ir.UnionType)):
            result = dataclasses.replace(result, keywords=keywords)
        return _nullable(result) if self._is_nullable(schema) else result

    def _is_nullable(self, schema: Any) -> bool:
        """Null allowed, in any of the three spellings (3.0, Swagger 2.0 and 3.1)."""
        if not isinstance(schema, dict):
            return False
        if schema.get("nullable") is True or schema.get("x-nullable") is True:
            return True
        return _type_list_has_null(schema) or (
            isinstance(schema.get("enum"), list) and None in schema["enum"])

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
            values, open_, enum_kind = enum
            x_ms_enum = schema.get("x-ms-enum")
            ms_name = x_ms_enum.get("name") if isinstance(x_ms_enum, dict) else None
            if isinstance(ms_name, str) and naming.pascal_case(ms_name) != "Model":
                # Swagger's inline enum with a name: one definition, however often repeated.
                known = self.ms_enums.get(ms_name)
                if known is not None and known[1] == tuple(values):
                    return ir.NamedType(name=known[0])
                name = self._synthesize(ms_name, document, pointer, schema)
                self.ms_enums.setdefault(ms_name, (name, tuple(values)))
                return ir.NamedType(name=name)
            if open_:
                return ir.PrimitiveType(kind=enum_kind)
            return ir.LiteralType(values=tuple(values))
        if "const" in schema:
            const = schema["const"]
            if const is None or isinstance(const, (str, int, bool)):
                return ir.LiteralType(values=(const,))
            return ir.PrimitiveType(kind="number") if isinstance(const, float) else ir.AnyType()
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
            if not variants_types:
                return ir.AnyType()
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
            mapping: dict[str, str] = {}
            explicit = raw.get("mapping")
            for value, ref in explicit.items() if isinstance(explicit, dict) else ():
                target = self._mapping_target(ref, document, join_pointer(
                    pointer, "discriminator", "mapping", value))
                if target is not None:
                    mapping.setdefault(str(value), target)
            # Variants the mapping leaves out are selected by their schema's name.
            mapped = set(mapping.values())
            for variant in lowered:
                if isinstance(variant, ir.NamedType) and variant.name not in mapped:
                    value = self.subtype_of.get(variant.name, ("", variant.name))[1]
                    mapping.setdefault(value, variant.name)
            discriminator = ir.Discriminator(property=raw["propertyName"],
                                             mapping=tuple(mapping.items()))
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
                pattern=self._pattern(schema.get("pattern"), document, pointer),
                minimum=_num_or_none(schema.get("minimum")),
                maximum=_num_or_none(schema.get("maximum")),
                exclusive_minimum=_exclusive(schema, "exclusiveMinimum", "minimum"),
                exclusive_maximum=_exclusive(schema, "exclusiveMaximum", "maximum"),
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

    def _pattern(self, pattern: Any, document: Document, pointer: str) -> str | None:
        """A `pattern` the generated code can check; one Python cannot compile is not checked."""
        if not isinstance(pattern, str):
            return None
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            self.diagnostics.append(self.spec.diagnostic(
                join_pointer(pointer, "pattern"), "W202",
                f"pattern {pattern!r} is not a regular expression Python accepts ({exc}); "
                "values are not checked against it", document=document, level="warning"))
            return None
        return pattern

    # ---- operations -----------------------------------------------------------------------

    def _operations(self) -> tuple[ir.Operation, ...]:
        root = self.spec.root
        operations = []
        method_taken = set(naming.CLIENT_MEMBER_NAMES)
        paths = root.data.get("paths") or {}
        for path in sorted(paths):
            resolved = self._deref(paths[path], root, join_pointer("/paths", path))
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            item = resolved.value
            for method in sorted(m for m in HTTP_METHODS if isinstance(item.get(m), dict)):
                operations.append(self._operation(path, method, item, resolved, method_taken))
        return tuple(operations)

    def _webhooks(self) -> tuple[ir.Operation, ...]:
        root = self.spec.root
        webhooks = []
        method_taken: set[str] = set()  # never generated: their names take nothing away
        hooks = root.data.get("webhooks")
        for name in sorted(hooks if isinstance(hooks, dict) else ()):
            resolved = self._deref(hooks[name], root, join_pointer("/webhooks", name))
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            item = resolved.value
            for method in sorted(m for m in HTTP_METHODS if isinstance(item.get(m), dict)):
                webhooks.append(self._operation(str(name), method, item, resolved,
                                                method_taken))
        return tuple(webhooks)

    def _operation(self, path: str, method: str, item: dict[str, Any], item_at: Resolved,
                   method_taken: set[str]) -> ir.Operation:
        document, item_pointer = item_at.document, item_at.pointer
        op = item[method]
        pointer = join_pointer(item_pointer, method)
        op_id = str(op.get("operationId") or naming.pascal_case(f"{method} {path}"))
        py_name = naming.unique(naming.snake_case(op_id), method_taken)
        raw_params: dict[tuple[str, str], tuple[dict[str, Any], Document, str]] = {}
        body: ir.RequestBody | None = None
        for params, base in ((item.get("parameters"), item_pointer), (op.get("parameters"), pointer)):
            for i, raw in enumerate(params if isinstance(params, list) else []):
                resolved = self._deref(raw, document, join_pointer(base, "parameters", i))
                if resolved is None or not isinstance(resolved.value, dict):
                    continue
                value = resolved.value
                raw_params[(str(value.get("in")), str(value.get("name")))] = (
                    value, resolved.document, resolved.pointer)
        hint = naming.pascal_case(op_id)
        # Swagger 2.0 puts the body among the parameters.
        for (location, _name), (value, param_doc, ppointer) in list(raw_params.items()):
            if location == "body":
                del raw_params[(location, _name)]
                body = ir.RequestBody(
                    type=self._type(value.get("schema"), param_doc,
                                    join_pointer(ppointer, "schema"), hint + "Body"),
                    required=value.get("required") is True,
                    media_type="application/json",
                    description=_text(value.get("description")), pointer=ppointer)
        request_body = op.get("requestBody")
        if request_body is not None:
            resolved = self._deref(request_body, document, join_pointer(pointer, "requestBody"))
            if resolved is not None and isinstance(resolved.value, dict):
                body = self._request_body(resolved, hint)
        # Keyword names: x-ms-client-name first (two equal ones are an error), then the body's
        # fields, then the other parameters, each made unique.
        kwarg_taken = set(naming.CLIENT_CALL_NAMES)
        explicit: dict[tuple[str, str], str] = {}
        owners: dict[str, str] = {}
        for key, (value, param_doc, ppointer) in raw_params.items():
            client_name = value.get("x-ms-client-name")
            if key[0] not in ("query", "header", "path") or not isinstance(client_name, str):
                continue
            py = naming.snake_case(client_name)
            where = join_pointer(ppointer, "x-ms-client-name")
            if py in owners:
                self._error(where, "E141", f"x-ms-client-name {client_name!r} gives the Python "
                            f"name {py!r}, which parameter {owners[py]!r} already has", param_doc)
            elif py in kwarg_taken:
                self._error(where, "E141", f"x-ms-client-name {client_name!r} gives the Python "
                            f"name {py!r}, which every generated method already uses", param_doc)
            else:
                owners[py] = key[1]
                explicit[key] = py
        kwarg_taken |= set(explicit.values())
        body_field_names: list[tuple[str, str]] = []
        if body is not None and isinstance(body.type, ir.NamedType):
            # An inline body object was only queued by _type(): its fields name keywords now.
            self._lower_queued()
            definition = self.definitions.get(body.type.name)
            if isinstance(definition, ir.Model):
                for prop in definition.properties:
                    body_field_names.append((prop.name, naming.unique(prop.py_name, kwarg_taken)))
        parameters = []
        for (location, name), (value, param_doc, ppointer) in raw_params.items():
            if location not in ("query", "header", "path"):
                continue
            role: ir.ParameterRole = "plain"
            if location == "query" and name == "api-version":
                role = "api_version"
            elif location == "header" and name.lower() == "extra-parameters":
                role = "extra_parameters"
            schema = value.get("schema", {k: v for k, v in value.items()
                                          if k in _SWAGGER_PARAMETER_SCHEMA_KEYS})
            py = explicit.get((location, name)) or naming.unique(naming.snake_case(name),
                                                                 kwarg_taken)
            parameters.append(ir.Parameter(
                name=name, py_name=py,
                location=location,  # type: ignore[arg-type]
                type=self._type(schema, param_doc, join_pointer(ppointer, "schema"),
                                hint + naming.pascal_case(name)),
                required=value.get("required") is True or location == "path",
                description=_text(value.get("description")), role=role, pointer=ppointer,
                default=_json(schema["default"]) if isinstance(schema, dict) and (
                    "default" in schema) else None))
        responses = self._responses(op, document, pointer, hint)
        return ir.Operation(
            operation_id=op_id, py_name=py_name, method=method.upper(), path=path,
            summary=_text(op.get("summary")), description=_text(op.get("description")),
            parameters=tuple(parameters), body=body, body_field_names=tuple(body_field_names),
            responses=responses, examples=self._examples(op, document, pointer, body, responses),
            pointer=pointer,
            security=_requirements(op["security"]) if "security" in op else None,
            tags=tuple(str(t) for t in op.get("tags") or () if isinstance(t, (str, int, float))))

    def _content(self, value: dict[str, Any], document: Document, pointer: str,
                 hint: str) -> tuple[ir.MediaType, ...]:
        """Every media type of a `content` (for the diff), JSON ones under the hint
        generation uses, so that they lower to the same definitions."""
        result = []
        for i, (name, media) in enumerate(_mapping(value.get("content")).items()):
            media_pointer = join_pointer(pointer, "content", name)
            schema = media.get("schema") if isinstance(media, dict) else None
            media_hint = hint if is_json_media_type(name) else f"{hint}Media{i + 1}"
            result.append(ir.MediaType(
                name=str(name), pointer=media_pointer,
                type=None if schema is None else self._type(
                    schema, document, join_pointer(media_pointer, "schema"), media_hint)))
        return tuple(result)

    def _request_body(self, resolved: Resolved, hint: str) -> ir.RequestBody | None:
        value = resolved.value
        content = (self._content(value, resolved.document, resolved.pointer, hint + "Body")
                   if self.complete else ())
        for media_type, media in _mapping(value.get("content")).items():
            if is_json_media_type(media_type) and isinstance(media, dict):
                media_pointer = join_pointer(resolved.pointer, "content", media_type)
                return ir.RequestBody(
                    type=self._type(media.get("schema"), resolved.document,
                                    join_pointer(media_pointer, "schema"), hint + "Body"),
                    required=value.get("required") is True, media_type=media_type,
                    description=_text(value.get("description")), pointer=resolved.pointer,
                    content=content)
        if content:  # no JSON media type: the diff still compares the others
            return ir.RequestBody(
                type=content[0].type or ir.AnyType(), required=value.get("required") is True,
                media_type=content[0].name, description=_text(value.get("description")),
                pointer=resolved.pointer, content=content)
        self.diagnostics.append(self.spec.diagnostic(
            resolved.pointer, "W201", "request body has no JSON media type; it is not generated",
            document=resolved.document, level="warning"))
        return None

    def _responses(self, op: dict[str, Any], root: Document, pointer: str,
                   hint: str) -> tuple[ir.Response, ...]:
        result = []
        for status, raw in _mapping(op.get("responses")).items():
            resolved = self._deref(raw, root, join_pointer(pointer, "responses", status))
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            value, document, rpointer = resolved.value, resolved.document, resolved.pointer
            body_type: ir.TypeRef | None = None
            schema_hint = hint + ("Error" if status == "default" else f"Response{status}")
            if "schema" in value:  # Swagger 2.0
                body_type = self._type(value["schema"], document, join_pointer(rpointer, "schema"),
                                       schema_hint)
            for media_type, media in _mapping(value.get("content")).items():
                if is_json_media_type(media_type) and isinstance(media, dict):
                    body_type = self._type(media.get("schema"), document, join_pointer(
                        rpointer, "content", media_type, "schema"), schema_hint)
                    break
            headers = []
            for name, header in _mapping(value.get("headers")).items():
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
            result.append(ir.Response(
                status=str(status), description=_text(value.get("description")),
                type=body_type, headers=tuple(headers), pointer=rpointer,
                content=self._content(value, document, rpointer, schema_hint)
                if self.complete else ()))
        return tuple(sorted(result, key=lambda r: _status_order(r.status)))

    def _examples(self, op: dict[str, Any], root: Document, pointer: str,
                  body: ir.RequestBody | None,
                  responses: tuple[ir.Response, ...]) -> tuple[ir.Example, ...]:
        requests: dict[str, tuple[str | None, Any, str]] = {}
        if body is not None and op.get("requestBody") is not None:
            body_value = self._deref(op["requestBody"], root, join_pointer(pointer, "requestBody"))
            content = (body_value.value.get("content")
                       if body_value is not None and isinstance(body_value.value, dict) else None)
            media = content.get(body.media_type) if isinstance(content, dict) else None
            if body_value is not None and isinstance(media, dict) and isinstance(
                    media.get("examples"), dict):
                for name, example in media["examples"].items():
                    resolved = self._deref(example, body_value.document, join_pointer(
                        body.pointer, "content", body.media_type, "examples", name))
                    if resolved is not None and isinstance(resolved.value, dict):
                        requests[name] = (_text(resolved.value.get("summary")),
                                          resolved.value.get("value"), resolved.pointer)
        answers: dict[str, tuple[str, Any]] = {}
        raw_responses = op.get("responses")
        raw_responses = raw_responses if isinstance(raw_responses, dict) else {}
        for status in sorted(raw_responses, key=lambda s: _status_order(str(s))):
            resolved = self._deref(raw_responses[status], root,
                                   join_pointer(pointer, "responses", status))
            if resolved is None or not isinstance(resolved.value, dict):
                continue
            content = resolved.value.get("content")
            for media_type, media in (content.items() if isinstance(content, dict) else ()):
                if not is_json_media_type(media_type) or not isinstance(media, dict) or (
                        not isinstance(media.get("examples"), dict)):
                    continue
                for name, example in media["examples"].items():
                    ex = self._deref(example, resolved.document, resolved.pointer)
                    if ex is not None and isinstance(ex.value, dict) and name not in answers:
                        answers[name] = (str(status), ex.value.get("value"))
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
                if location != "header":
                    self.diagnostics.append(self.spec.diagnostic(
                        join_pointer(pointer, "in"), "W204",
                        f"an API key in the {location} is not supported: generated clients send "
                        "the key as `Authorization: Bearer`, servers read that header",
                        document=resolved.document, level="warning"))
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
    if isinstance(t, ir.LiteralType):
        return t if None in t.values else ir.LiteralType(values=(*t.values, None))
    return _flatten_union([t, ir.PrimitiveType(kind="null")], None)


def _flatten_union(variants: list[ir.TypeRef],
                   discriminator: ir.Discriminator | None) -> ir.TypeRef:
    flat: dict[ir.TypeRef, None] = {}  # ordered and linear: IR nodes are hashable
    for variant in variants:
        inner = variant.variants if isinstance(variant, ir.UnionType) and (
            variant.discriminator is None) else (variant,)
        for t in inner:
            flat[t] = None
    if any(isinstance(t, ir.AnyType) for t in flat):
        return ir.AnyType()
    if len(flat) == 1:
        return next(iter(flat))
    return ir.UnionType(variants=tuple(flat), discriminator=discriminator)


def _direct_names(t: ir.TypeRef) -> list[str]:
    """Definitions a type is made of directly: not through an array, a map or an object."""
    if isinstance(t, ir.NamedType):
        return [t.name]
    if isinstance(t, ir.UnionType):
        return [name for variant in t.variants for name in _direct_names(variant)]
    return []


def _type_list_has_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return isinstance(kind, list) and "null" in kind


def _mapping(value: Any) -> dict[str, Any]:
    """A value that should be a mapping (a file reached by $ref is not checked by the official
    schema), or an empty one."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# JSON Schema 2020-12 assertions kept for the diff only (ir.*.keywords): lowering maps the
# others (type, enum, bounds, properties, ...) to IR fields.
ASSERTION_KEYWORDS = (
    "contains", "minContains", "maxContains", "dependentRequired", "dependentSchemas", "if",
    "then", "else", "not", "patternProperties", "prefixItems", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "contentSchema", "contentMediaType",
    "contentEncoding",
)


# Keywords whose subschema applies to each item, property or name: an empty schema ({} or
# true, as TypeSpec's `...Record<unknown>` emits) accepts everything, so asserts nothing.
_NO_ASSERTION_WHEN_EMPTY = frozenset({"unevaluatedItems", "unevaluatedProperties",
                                      "propertyNames", "contentSchema"})


def _assertions(schema: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(schema, dict):
        return ()
    return tuple(sorted((k, json.dumps(schema[k], sort_keys=True, ensure_ascii=False,
                                       separators=(",", ":")))
                        for k in ASSERTION_KEYWORDS
                        if k in schema and not _asserts_nothing(k, schema[k])))


def _asserts_nothing(keyword: str, value: Any) -> bool:
    return keyword in _NO_ASSERTION_WHEN_EMPTY and (value is True or value == {})


def _requirements(raw: Any) -> ir.Requirements | None:
    """A `security` list: alternatives, each {scheme: [scopes]}; None when it is not a list."""
    if not isinstance(raw, list):
        return None
    return tuple(
        tuple(sorted((str(scheme), tuple(str(s) for s in scopes if isinstance(s, str))
                      if isinstance(scopes, list) else ())
                     for scheme, scopes in alternative.items()))
        for alternative in raw if isinstance(alternative, dict))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=False, ensure_ascii=False, separators=(",", ":"))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num_or_none(value: Any) -> int | float | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # `inf` has no literal in Python source
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _exclusive(schema: dict[str, Any], keyword: str, bound: str) -> int | float | None:
    """3.1 writes `exclusiveMinimum: 5`; 3.0 and Swagger 2.0 `minimum: 5, exclusiveMinimum: true`."""
    value = schema.get(keyword)
    if value is True:
        return _num_or_none(schema.get(bound))
    return _num_or_none(value)
