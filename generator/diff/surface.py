"""The generated packages' public Python surface, compared: names that appear, disappear
or change signature, read from render.build_view (the view models the templates print).

Kept apart from the spec comparison: it is the one part of the diff that depends on how
packages are rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator import ir
from generator.diff.results import CodeChange
from generator.render import build_view
from generator.views import PackageView


def code_changes(old: ir.Api, new: ir.Api) -> tuple[CodeChange, ...]:
    """Public names of the generated packages that appear, disappear or change signature,
    read from the same view models the templates render."""
    old_view, new_view = build_view(old), build_view(new)
    changes: list[CodeChange] = []
    if old.package != new.package:
        changes.append(CodeChange(module="package", name="package", kind="changed",
                                  old=old.package, new=new.package))
    old_surface, new_surface = _surface(old_view, old), _surface(new_view, new)
    for name in sorted(old_surface.keys() | new_surface.keys(),
                       key=lambda k: (_MODULE_ORDER.index(k[0]), k[1])):
        o, n = old_surface.get(name), new_surface.get(name)
        if o is None and n is not None:
            changes.append(CodeChange(module=name[0], name=name[1], kind="added", old=None,
                                      new=n.signature))
        elif n is None and o is not None:
            changes.append(CodeChange(module=name[0], name=name[1], kind="removed",
                                      old=o.signature, new=None))
        elif o is not None and n is not None and o != n:
            changes.append(CodeChange(module=name[0], name=name[1], kind="changed",
                                      old=o.signature, new=n.signature,
                                      details=_member_details(o.members, n.members)))
    return tuple(changes)


_MODULE_ORDER = ("package", "models", "exceptions", "client", "server", "__init__")


@dataclass(frozen=True, slots=True)
class _Member:
    signature: str
    parts: tuple[tuple[str, str], ...] = ()  # (part name, its text): a method's parameters


@dataclass(frozen=True, slots=True)
class _Public:
    signature: str
    members: tuple[tuple[str, _Member], ...]  # (member name, member)


def _py(annotation: str) -> str:
    """An annotation as users read it: without the generated modules' private prefixes."""
    return re.sub(r"(?<![\w.])_(?:rt|t|models)\.", "", annotation)


def _surface(view: PackageView, api: ir.Api) -> dict[tuple[str, str], _Public]:
    surface: dict[tuple[str, str], _Public] = {}
    described: set[str] = set()
    for model in view.models:
        members = tuple((f.attr, _Member(f"{f.attr}: {_py(f.annotation)}"
                                            + ("" if f.required else " = NOT_GIVEN")))
                        for f in model.fields)
        surface[("models", model.class_name)] = _Public(
            f"class {model.class_name}("
            + ", ".join(m.signature for _, m in members) + ")", members)
        described.add(model.class_name)
    for enum in view.enums:
        members = tuple((m.name, _Member(f"{m.name} = {m.value}"))
                        for m in enum.members)
        surface[("models", enum.class_name)] = _Public(
            f"class {enum.class_name}({', '.join(m.signature for _, m in members)})", members)
        described.add(enum.class_name)
    for alias in view.aliases:
        # The view holds the annotation as a Python string literal (it is printed in source).
        surface[("models", alias.name)] = _Public(
            f"{alias.name} = {_py(alias.annotation_text)}", ())
        described.add(alias.name)
    statuses = {str(e.status): e.name for e in view.status_exceptions}
    for name in view.exception_names:
        raised_for = sorted(status for status, n in statuses.items() if n == name)
        surface[("exceptions", name)] = _Public(
            f"class {name}" + (f"  # status {', '.join(raised_for)}" if raised_for else ""), ())
        described.add(name)
    methods = []
    for op in view.operations:
        parts = [(a.kwarg, f"{a.kwarg}: {_py(a.annotation)}{a.default}")
                 for a in op.arguments]
        parts.append(("return", f"-> {op.result_model}"))
        keywords = [text for _name, text in parts[:-1]]
        text = ", ".join(["*"] * bool(keywords) + keywords)
        methods.append((op.name, _Member(f"{op.name}({text}) {parts[-1][1]}",
                                            tuple(parts))))
        if op.body_method:
            method = op.body_method
            parts = [("body", f"{method.body_name}: {_py(method.body_annotation)}")]
            parts += [(a.kwarg, f"{a.kwarg}: {_py(a.annotation)}{a.default}")
                      for a in method.arguments]
            parts.append(("return", f"-> {op.result_model}"))
            text = ", ".join([parts[0][1], "/"] + ["*"] * (len(parts) > 2)
                             + [t for _n, t in parts[1:-1]])
            methods.append((method.name, _Member(f"{method.name}({text}) {parts[-1][1]}",
                                                    tuple(parts))))
    for client in (f"{api.class_prefix}Client", f"Async{api.class_prefix}Client"):
        surface[("client", client)] = _Public(f"class {client}", tuple(methods))
        described.add(client)
    service = f"{api.class_prefix}Service"
    surface[("server", service)] = _Public(f"class {service}(Protocol)", tuple(
        (op.name, _Member(
            f"async {op.name}(body: {_py(op.server_body)}, context: RequestContext) -> "
            f"{op.result_model}", (("body", f"body: {_py(op.server_body)}"),
                                      ("return", f"-> {op.result_model}"))))
        for op in view.operations))
    described.add(service)
    for name in view.init_all:  # the rest of the package's public names
        if name not in described:
            surface[("__init__", name)] = _Public(name, ())
    return surface


def _member_details(old: tuple[tuple[str, _Member], ...],
                    new: tuple[tuple[str, _Member], ...]) -> tuple[str, ...]:
    """Diff lines: `- removed`, `+ added`, and for a changed method its changed parameters."""
    olds, news = dict(old), dict(new)
    details = []
    for name, member in old:
        if name not in news:
            details.append(f"- {member.signature}")
        elif news[name] != member:
            if not member.parts:
                details.append(f"- {member.signature}")
                details.append(f"+ {news[name].signature}")
                continue
            old_parts, new_parts = dict(member.parts), dict(news[name].parts)
            details.append(f"  {name}(...):")
            for part, text in member.parts:
                if part not in new_parts:
                    details.append(f"-     {text}")
                elif new_parts[part] != text:
                    details += [f"-     {text}", f"+     {new_parts[part]}"]
            details += [f"+     {text}" for part, text in news[name].parts
                        if part not in old_parts]
    details += [f"+ {member.signature}" for name, member in new if name not in olds]
    return tuple(details)
