"""Stage between lowering and rendering: keep only the operations a user names, and the
definitions they reach (for generating part of a large spec, say one operation of OpenAI's)."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from generator import ir


@dataclass(frozen=True, slots=True)
class Selection:
    """What to keep: operations matching any of these (all operations when all are empty)."""

    operation_ids: tuple[str, ...] = ()  # operationId, or the generated method name
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # shell-style patterns: /embeddings, /images/*, /v1/*/files

    def __bool__(self) -> bool:
        return bool(self.operation_ids or self.tags or self.paths)

    def matches(self, op: ir.Operation) -> bool:
        return (op.operation_id in self.operation_ids or op.py_name in self.operation_ids
                or any(tag in self.tags for tag in op.tags)
                or any(fnmatch.fnmatchcase(op.path, pattern) for pattern in self.paths))

    def describe(self) -> str:
        parts = [f"operation {name!r}" for name in self.operation_ids]
        parts += [f"tag {tag!r}" for tag in self.tags]
        parts += [f"path {pattern!r}" for pattern in self.paths]
        return ", ".join(parts)


def select(api: ir.Api, selection: Selection) -> ir.Api:
    """The API with only the selected operations and the definitions they reach. Raises
    ValueError when nothing matches."""
    if not selection:
        return api
    operations = tuple(op for op in api.operations if selection.matches(op))
    if not operations:
        raise ValueError(f"no operation matches {selection.describe()}")
    by_name = {d.name: d for d in api.definitions}
    reached = _reachable(by_name, (t for op in operations for t in _operation_types(op)))
    return dataclasses.replace(
        api, operations=operations,
        definitions=tuple(d for d in api.definitions if d.name in reached))


def _operation_types(op: ir.Operation) -> Iterator[ir.TypeRef]:
    yield from (p.type for p in op.parameters)
    if op.body is not None:
        yield op.body.type
    for response in op.responses:
        if response.type is not None:
            yield response.type
        yield from (h.type for h in response.headers)


def _reachable(by_name: dict[str, ir.Definition], roots: Iterable[ir.TypeRef]) -> set[str]:
    """Names of every definition the types reach: through properties, items, values,
    variants, aliases, and a polymorphic base's subtypes."""
    reached: set[str] = set()
    pending: list[ir.TypeRef] = list(roots)
    while pending:
        t = pending.pop()
        if isinstance(t, ir.NamedType):
            if t.name in reached or t.name not in by_name:
                continue
            reached.add(t.name)
            pending.extend(_definition_types(by_name[t.name]))
        elif isinstance(t, ir.ArrayType):
            pending.append(t.items)
        elif isinstance(t, ir.MapType):
            pending.append(t.values)
        elif isinstance(t, ir.UnionType):
            pending.extend(t.variants)
            if t.discriminator is not None:
                pending.extend(ir.NamedType(name=name) for _v, name in t.discriminator.mapping)
    return reached


def _definition_types(definition: ir.Definition) -> Sequence[ir.TypeRef]:
    if isinstance(definition, ir.Model):
        found: list[ir.TypeRef] = [p.type for p in definition.properties]
        if definition.additional is not None:
            found.append(definition.additional)
        if definition.discriminator is not None:
            found += [ir.NamedType(name=name) for _v, name in definition.discriminator.mapping]
        return found
    if isinstance(definition, ir.Alias):
        return [definition.type]
    return []
