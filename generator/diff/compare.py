"""Two ir.Api -> classified changes, each tied to its JSON pointer in both files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator import ir
from generator.diff.results import Change, Locator, Side
from generator.diff.rules import RULES_BY_ID, SECTIONS, Context, classify, level
from generator.validate import is_json_media_type


@dataclass(frozen=True, slots=True)
class _Site:
    contexts: frozenset[Context]
    where: str
    old_pointer: str
    new_pointer: str


@dataclass(slots=True)
class _Scalar:
    kind: str  # string, integer, number, boolean
    values: tuple[Any, ...] | None  # documented values, None when any
    open: bool  # values beyond `values` are valid
    format: str | None
    bounds: dict[str, Any] = field(default_factory=dict)
    pattern: str | None = None
    repeated: bool = False  # a parameter's array: one or several values


_LOWER_BOUNDS = ("min_length", "minimum", "exclusive_minimum", "min_items", "min_contains")
_UPPER_BOUNDS = ("max_length", "maximum", "exclusive_maximum", "max_items")
_CONTEXT_ORDER: tuple[Context, ...] = ("request", "parameter", "response", "api")
_OPERATION_SUBJECTS = frozenset({"operation", "parameter", "request body", "response",
                                 "media type", "response header"})


def compare(old: ir.Api, new: ir.Api, locate_old: Locator | None = None,
            locate_new: Locator | None = None) -> tuple[Change, ...]:
    """Every change from `old` to `new`, classified, in report order."""
    return _Differ(old, new, locate_old, locate_new).run()


class _Differ:
    def __init__(self, old: ir.Api, new: ir.Api, locate_old: Locator | None,
                 locate_new: Locator | None) -> None:
        self.old, self.new = old, new
        self.old_defs = {d.name: d for d in old.definitions}
        self.new_defs = {d.name: d for d in new.definitions}
        self.locate_old = locate_old or (lambda pointer: (old.source.file, None))
        self.locate_new = locate_new or (lambda pointer: (new.source.file, None))
        self.pairs: dict[tuple[str, str], set[Context]] = {}
        self.pending: list[tuple[str, str]] = []
        self.emitting = False
        self.webhook = False  # comparing a webhook: its requests flow from the API
        self.scheme_renames = {o.name: n.name for o, n in self._scheme_pairs()[0]
                               if o.name != n.name}
        self.changes: list[Change] = []
        # Type pairs being compared: a recursive alias (a union that holds a map of itself,
        # say) is compared once, not until the recursion limit.
        self.comparing: set[tuple[ir.TypeRef, ir.TypeRef]] = set()

    def run(self) -> tuple[Change, ...]:
        # Pass 1 finds which definition pairs are reached and in which directions, pass 2
        # reports, so that a schema reached from a request and a response gets both verdicts.
        self._operations()
        self._webhooks()
        while self.pending:
            self._pair(*self.pending.pop())
        self.emitting = True
        self._api()
        self._operations()
        self._webhooks()
        for old_name, new_name in sorted(self.pairs):
            self._pair(old_name, new_name)
        self._unpaired_definitions()
        self._security()
        unique: dict[tuple[Any, ...], Change] = {}
        for change in self.changes:
            key = (change.rule, change.where, change.message)
            unique.setdefault(key, change)
        return tuple(sorted(unique.values(), key=lambda c: (
            SECTIONS.index(c.subject), c.where, c.message)))

    # ---- recording ----------------------------------------------------------------------

    def _add(self, rule: str, contexts: Iterable[Context], where: str, message: str,
             old_pointer: str | None, new_pointer: str | None, old_value: str | None = None,
             new_value: str | None = None) -> None:
        if not self.emitting:
            return
        ordered = tuple(c for c in _CONTEXT_ORDER if c in set(contexts))
        clients, servers = classify(rule, ordered)
        grade = level(rule, ordered)
        if self.webhook and RULES_BY_ID[rule].subject in _OPERATION_SUBJECTS:
            # A webhook's request is sent by the API to its consumers, who answer it: what
            # breaks the webhook's "clients" breaks the API, its "servers" are the consumers.
            clients, servers = servers, clients
            grade = "ERR" if clients else "INFO"
        self.changes.append(Change(
            rule=rule, where=where, message=message, contexts=ordered,
            level=grade,
            breaks_clients=clients, breaks_servers=servers,
            old=self._side(self.locate_old, old_pointer, old_value),
            new=self._side(self.locate_new, new_pointer, new_value)))

    @staticmethod
    def _side(locate: Locator, pointer: str | None, value: str | None) -> Side | None:
        if pointer is None:
            return None
        file, line = locate(pointer)
        return Side(file=file, pointer=pointer, line=line, value=value)

    # ---- api and operations -------------------------------------------------------------

    def _api(self) -> None:
        if self.old.api_version != self.new.api_version:
            self._add("api-version-changed", ["api"], "api", "api-version changes", "/info/version",
                      "/info/version", _show(self.old.api_version), _show(self.new.api_version))

    def _operations(self) -> None:
        # Keyed by path template without parameter names: /books/{bookId} and /books/{id}
        # are the same URLs, so renaming a path parameter is not a new operation.
        old_ops = {(op.method, _template(op.path)): op for op in self.old.operations}
        new_ops = {(op.method, _template(op.path)): op for op in self.new.operations}
        for key in sorted(old_ops.keys() | new_ops.keys()):
            old_op, new_op = old_ops.get(key), new_ops.get(key)
            where = f"{key[0]} {(new_op or old_op).path}"  # type: ignore[union-attr]
            if old_op is None and new_op is not None:
                self._add("operation-added", ["api"], where, f"operation {new_op.operation_id} "
                          "added", None, new_op.pointer)
            elif new_op is None and old_op is not None:
                self._add("operation-removed", ["api"], where, f"operation {old_op.operation_id} "
                          "removed", old_op.pointer, None)
            elif old_op is not None and new_op is not None:
                self._operation(where, old_op, new_op)

    def _webhooks(self) -> None:
        old_hooks = {(op.path, op.method): op for op in self.old.webhooks}
        new_hooks = {(op.path, op.method): op for op in self.new.webhooks}
        for key in sorted(old_hooks.keys() | new_hooks.keys()):
            old_hook, new_hook = old_hooks.get(key), new_hooks.get(key)
            where = f"webhook {key[0]} ({key[1]})"
            if old_hook is None and new_hook is not None:
                self._add("webhook-added", ["api"], where, "webhook added", None,
                          new_hook.pointer)
            elif new_hook is None and old_hook is not None:
                self._add("webhook-removed", ["api"], where, "webhook removed",
                          old_hook.pointer, None)
            elif old_hook is not None and new_hook is not None:
                self.webhook = True
                try:
                    self._operation(where, old_hook, new_hook)
                finally:
                    self.webhook = False

    def _data(self, context: Context) -> frozenset[Context]:
        """The contexts of what a request or a response carries: swapped in a webhook, whose
        request the API sends (as it sends responses) and whose response consumers send."""
        if self.webhook and context != "api":
            return frozenset({"request" if context == "response" else "response"})
        return frozenset({context})

    def _operation(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        if old.operation_id != new.operation_id:
            self._add("operation-id-changed", ["api"], where, "operationId changes",
                      old.pointer, new.pointer, _show(old.operation_id), _show(new.operation_id))
        if not self.webhook:
            self._security_requirements(where, old, new)
        self._parameters(where, old, new)
        self._request_body(where, old, new)
        self._responses(where, old, new)

    def _parameters(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        olds = {_parameter_key(p, old): p for p in old.parameters}
        news = {_parameter_key(p, new): p for p in new.parameters}
        request: list[Context] = ["request"]
        for k in sorted(olds.keys() | news.keys()):
            o, n = olds.get(k), news.get(k)
            label = f"{where} {k[0]} parameter `{(n or o).name}`"  # type: ignore[union-attr]
            if o is not None and n is not None and o.name != n.name:
                self._add("path-parameter-renamed", request, label,
                          f"path parameter `{o.name}` renamed", o.pointer, n.pointer,
                          _show(o.name), _show(n.name))
            if o is None and n is not None:
                self._add("parameter-added-required" if n.required else "parameter-added",
                          request, label, "parameter added" + (" (required)" if n.required
                                                               else ""), None, n.pointer)
            elif n is None and o is not None:
                self._add("parameter-removed-required" if o.required else "parameter-removed",
                          request, label, "parameter removed", o.pointer, None)
            elif o is not None and n is not None:
                if o.required != n.required:
                    self._add("parameter-became-required" if n.required
                              else "parameter-became-optional", request, label,
                              "becomes required" if n.required else "becomes optional",
                              o.pointer, n.pointer)
                if o.default != n.default:
                    rule = ("parameter-default-added" if o.default is None
                            else "parameter-default-removed" if n.default is None
                            else "parameter-default-changed")
                    self._add(rule, request, label, "default changes", o.pointer, n.pointer,
                              o.default, n.default)
                self._types(o.type, n.type, _Site(self._data("parameter"), label, o.pointer,
                                                  n.pointer))

    def _request_body(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        label = f"{where} request body"
        request: list[Context] = ["request"]
        o, n = old.body, new.body
        if o is None and n is not None:
            self._add("request-body-added-required" if n.required else "request-body-added",
                      request, label, "request body added", None, n.pointer)
        elif n is None and o is not None:
            self._add("request-body-removed", request, label, "request body removed",
                      o.pointer, None)
        elif o is not None and n is not None:
            if o.required != n.required:
                self._add("request-body-became-required" if n.required
                          else "request-body-became-optional", request, label,
                          "becomes required" if n.required else "becomes optional",
                          o.pointer, n.pointer)
            self._media(label, "request", _body_content(o), _body_content(n))

    def _media(self, label: str, context: Context, olds: tuple[ir.MediaType, ...],
               news: tuple[ir.MediaType, ...]) -> None:
        """A body's media types: the same ones compared by schema, then a wildcard (or a
        `+json` suffix) that now covers one (generalized) or one it covered (specialized),
        then what is left: added or removed (in a request, one for one: changed)."""
        contexts: list[Context] = [context]
        lone_old, lone_new = list(olds), list(news)
        pairs: list[tuple[ir.MediaType, ir.MediaType, str | None]] = []
        for o in olds:
            same = next((n for n in lone_new if _media_key(n.name) == _media_key(o.name)), None)
            if same is not None:
                pairs.append((o, same, None))
                lone_old.remove(o)
                lone_new.remove(same)
        for o in list(lone_old):
            wider = next((n for n in lone_new if _covers(n.name, o.name)), None)
            narrower = next((n for n in lone_new if _covers(o.name, n.name)), None)
            match, rule = ((wider, "media-type-generalized") if wider is not None
                           else (narrower, "media-type-specialized"))
            if match is not None:
                pairs.append((o, match, rule))
                lone_old.remove(o)
                lone_new.remove(match)
        if context == "request" and len(lone_old) == len(lone_new) == 1:
            o, n = lone_old.pop(), lone_new.pop()
            self._add("media-type-changed", contexts, label, "media type changes", o.pointer,
                      n.pointer, _show(o.name), _show(n.name))
        for o in lone_old:
            self._add("media-type-removed", contexts, label, f"media type {o.name} removed",
                      o.pointer, None, _show(o.name), None)
        for n in lone_new:
            self._add("media-type-added", contexts, label, f"media type {n.name} added", None,
                      n.pointer, None, _show(n.name))
        for o, n, paired_rule in pairs:
            if paired_rule is not None:
                self._add(paired_rule, contexts, label, f"media type {o.name} becomes {n.name}",
                          o.pointer, n.pointer, _show(o.name), _show(n.name))
            where = label if is_json_media_type(n.name) else f"{label} ({n.name})"
            if o.type is not None and n.type is not None:
                if not is_json_media_type(n.name) and self._text_either_way(o.type, n.type):
                    self._add("type-compatible", contexts, where, "type changes",
                              o.pointer, n.pointer, self._describe_old(o.type),
                              self._describe_new(n.type))
                    continue
                self._types(o.type, n.type, _Site(self._data(context), where, o.pointer,
                                                  n.pointer))
            elif o.type is not None or n.type is not None:
                self._add("media-type-schema-added" if o.type is None
                          else "media-type-schema-removed", contexts, where,
                          "schema " + ("added" if o.type is None else "removed"), o.pointer,
                          n.pointer)

    def _text_either_way(self, o: ir.TypeRef, n: ir.TypeRef) -> bool:
        """One side a plain string, the other not: in XML or text, both are text on the wire."""
        old_string = _is_string(self._resolve(o, self.old_defs))
        new_string = _is_string(self._resolve(n, self.new_defs))
        return old_string != new_string

    def _responses(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        olds = {r.status.lower(): r for r in old.responses}
        news = {r.status.lower(): r for r in new.responses}
        response: list[Context] = ["response"]
        for status in sorted(olds.keys() | news.keys(), key=_status_key):
            o, n = olds.get(status), news.get(status)
            label = f"{where} response {status}"
            if o is None and n is not None:
                cover = _covering(status, olds)
                if cover is None:
                    self._add("response-added", response, label, "response added", None,
                              n.pointer)
                    continue
                self._add("response-added-covered", response, label,
                          f"response added (was covered by {cover.status})", cover.pointer,
                          n.pointer)
                o = cover
            elif n is None and o is not None:
                cover = _covering(status, news)
                if cover is None:
                    self._add("response-removed", response, label, "response removed",
                              o.pointer, None)
                    continue
                self._add("response-removed-covered", response, label,
                          f"response removed (now covered by {cover.status})", o.pointer,
                          cover.pointer)
                n = cover
            assert o is not None and n is not None
            self._response(label, o, n)

    def _response(self, label: str, o: ir.Response, n: ir.Response) -> None:
        response: list[Context] = ["response"]
        old_content, new_content = _response_content(o), _response_content(n)
        if not old_content and new_content:
            self._add("response-body-added", response, label, "body added", o.pointer,
                      n.pointer, None, ", ".join(m.name for m in new_content))
        elif not new_content and old_content:
            self._add("response-body-removed", response, label, "body removed", o.pointer,
                      n.pointer, ", ".join(m.name for m in old_content), None)
        else:
            self._media(f"{label} body", "response", old_content, new_content)
        old_headers = {h.name.lower(): h for h in o.headers}
        new_headers = {h.name.lower(): h for h in n.headers}
        for name in sorted(old_headers.keys() | new_headers.keys()):
            oh, nh = old_headers.get(name), new_headers.get(name)
            hlabel = f"{label} header `{(nh or oh).name}`"  # type: ignore[union-attr]
            if oh is None and nh is not None:
                self._add("header-added-required" if nh.required else "header-added", response,
                          hlabel, "header added", None, nh.pointer)
            elif nh is None and oh is not None:
                self._add("header-removed", response, hlabel, "header removed", oh.pointer, None)
            elif oh is not None and nh is not None:
                if oh.required != nh.required:
                    self._add("header-became-required" if nh.required
                              else "header-became-optional", response, hlabel,
                              "becomes required" if nh.required else "becomes optional",
                              oh.pointer, nh.pointer)
                self._types(oh.type, nh.type, _Site(self._data("response"), hlabel, oh.pointer,
                                                    nh.pointer))

    # ---- types ----------------------------------------------------------------------------

    def _resolve(self, t: ir.TypeRef, defs: Mapping[str, ir.Definition]) -> ir.TypeRef:
        seen: set[str] = set()
        while isinstance(t, ir.NamedType) and isinstance(defs.get(t.name), ir.Alias):
            if t.name in seen:
                break
            seen.add(t.name)
            alias = defs[t.name]
            assert isinstance(alias, ir.Alias)
            t = alias.type
        return t

    def _reach(self, old_name: str, new_name: str, contexts: frozenset[Context]) -> None:
        if self.emitting:
            return
        known = self.pairs.setdefault((old_name, new_name), set())
        if not contexts <= known:
            known |= contexts
            self.pending.append((old_name, new_name))

    def _types(self, old_t: ir.TypeRef, new_t: ir.TypeRef, site: _Site) -> None:
        pair = (old_t, new_t)
        if pair in self.comparing:
            return
        self.comparing.add(pair)
        try:
            self._types_once(old_t, new_t, site)
        finally:
            self.comparing.discard(pair)

    def _types_once(self, old_t: ir.TypeRef, new_t: ir.TypeRef, site: _Site) -> None:
        old_t, new_t = self._resolve(old_t, self.old_defs), self._resolve(new_t, self.new_defs)
        if isinstance(old_t, ir.UnionType) or isinstance(new_t, ir.UnionType):
            self._keywords(_union_keywords(old_t), _union_keywords(new_t), site)
            self._discriminator(_union_discriminator(old_t), _union_discriminator(new_t), site)
        old_null, old_parts = _split_null(old_t)
        new_null, new_parts = _split_null(new_t)
        if old_null != new_null:
            self._add("nullable-added" if new_null else "nullable-removed", site.contexts,
                      site.where, "null becomes allowed" if new_null else "null no longer allowed",
                      site.old_pointer, site.new_pointer)
        if _as_text(site) and self._text_change(old_parts, new_parts, site):
            return
        if len(old_parts) == 1 and len(new_parts) == 1:
            self._single(old_parts[0], new_parts[0], site)
            return
        pairs, lone_old, lone_new = self._match_variants(old_parts, new_parts)
        for n in lone_new:
            cover = next((o for o in old_parts if self._accepts(o, n)), None)
            if cover is not None:
                self._add("variant-added-covered", site.contexts, site.where,
                          f"may now be {self._variant_text(n, self.new_defs)}, which "
                          f"{self._describe_old(cover)} already accepted", site.old_pointer,
                          site.new_pointer, None, self._describe_new(n))
                continue
            self._add("variant-added", site.contexts, site.where,
                      f"may now be {self._variant_text(n, self.new_defs)}", site.old_pointer,
                      site.new_pointer, None, self._describe_new(n))
        for o in lone_old:
            self._add("variant-removed", site.contexts, site.where,
                      f"may no longer be {self._variant_text(o, self.old_defs)}",
                      site.old_pointer, site.new_pointer, self._describe_old(o), None)
        for o, n in pairs:
            self._single(o, n, site)

    def _text_change(self, old_parts: list[ir.TypeRef], new_parts: list[ir.TypeRef],
                     site: _Site) -> bool:
        """A parameter's union, compared by the text it accepts: [string, integer] to an
        array of strings is wider (`?p=5` is one); reported as one change when it is."""
        old_values = [self._text_values(p, self.old_defs) for p in old_parts]
        new_values = [self._text_values(p, self.new_defs) for p in new_parts]
        if None in old_values or None in new_values:
            return False
        olds = [v for v in old_values if v is not None]
        news = [v for v in new_values if v is not None]
        if {(v.kind, v.repeated) for v in olds} == {(v.kind, v.repeated) for v in news}:
            return False  # the same kinds: compared as usual (values, bounds, format)
        wider = all(any(_text_accepts(n, o) for n in news) for o in olds)
        narrower = all(any(_text_accepts(o, n) for o in olds) for n in news)
        if wider == narrower:
            return False
        self._add("type-widened" if wider else "type-narrowed", site.contexts, site.where,
                  "type changes (compared as the text a parameter carries)", site.old_pointer,
                  site.new_pointer, " | ".join(self._describe_old(p) for p in old_parts),
                  " | ".join(self._describe_new(p) for p in new_parts))
        return True

    def _text_values(self, t: ir.TypeRef, defs: Mapping[str, ir.Definition]) -> _Scalar | None:
        """A scalar, or an array of one (a parameter's repeated values), as a _Scalar whose
        `open` says "or several"; None for anything else."""
        t = self._resolve(t, defs)
        if isinstance(t, ir.ArrayType):
            items = _scalar(self._resolve(t.items, defs), defs)
            return None if items is None else _Scalar(
                kind=items.kind, values=items.values, open=items.open, format=items.format,
                bounds=items.bounds, pattern=items.pattern, repeated=True)
        return _scalar(t, defs)

    def _match_variants(self, old_parts: list[ir.TypeRef], new_parts: list[ir.TypeRef]) -> tuple[
            list[tuple[ir.TypeRef, ir.TypeRef]], list[ir.TypeRef], list[ir.TypeRef]]:
        """Union variants paired: the same variant first (same schema name, same values), then
        the one variant of a shape left on each side (an integer whose bounds changed, a
        renamed object). Two enums of strings stay two variants, never one "string"."""
        lone_old, lone_new = list(old_parts), list(new_parts)
        pairs = []
        for o in old_parts:
            if o in lone_new:
                pairs.append((o, o))
                lone_old.remove(o)
                lone_new.remove(o)
        for o in list(lone_old):
            shape = self._shape(o, self.old_defs)
            olds = [x for x in lone_old if self._shape(x, self.old_defs) == shape]
            news = [x for x in lone_new if self._shape(x, self.new_defs) == shape]
            if len(olds) == 1 and len(news) == 1:
                pairs.append((o, news[0]))
                lone_old.remove(o)
                lone_new.remove(news[0])
        return pairs, lone_old, lone_new

    def _accepts(self, old: ir.TypeRef, new: ir.TypeRef) -> bool:
        """Whether every value of `new` (a variant of the new spec) was valid for `old` (one of
        the old spec): for objects, `old` admits unknown properties, and every property `old`
        requires, `new` requires, with the same type where both have it."""
        od = self.old_defs.get(old.name) if isinstance(old, ir.NamedType) else None
        nd = self.new_defs.get(new.name) if isinstance(new, ir.NamedType) else None
        if not isinstance(od, ir.Model) or not isinstance(nd, ir.Model) or od.additional is None:
            return False
        news = {p.name: p for p in nd.properties}
        for prop in od.properties:
            other = news.get(prop.name)
            if prop.required and (other is None or not other.required):
                return False
            if other is not None and (self._describe_old(prop.type)
                                      != self._describe_new(other.type)):
                return False
        known = {q.name for q in od.properties}
        return isinstance(od.additional, ir.AnyType) or all(p.name in known
                                                            for p in nd.properties)

    def _variant_text(self, t: ir.TypeRef, defs: Mapping[str, ir.Definition]) -> str:
        shape = self._shape(t, defs)
        if isinstance(t, (ir.NamedType, ir.LiteralType)):
            return f"{shape} ({_describe(t, defs)})"
        return shape

    def _shape(self, t: ir.TypeRef, defs: Mapping[str, ir.Definition]) -> str:
        if isinstance(t, ir.PrimitiveType):
            return "a number" if t.kind in ("integer", "number") else f"a {t.kind}"
        if isinstance(t, ir.LiteralType):
            kinds = {_value_kind(v) for v in t.values if v is not None}
            return f"a {kinds.pop()}" if len(kinds) == 1 else "a literal"
        if isinstance(t, ir.NamedType):
            target = defs.get(t.name)
            if isinstance(target, ir.Enum):
                return f"a {target.value_kind}"
            return "an object"
        if isinstance(t, ir.ArrayType):
            return "an array"
        if isinstance(t, ir.MapType):
            return "an object"
        return "anything"

    def _describe_old(self, t: ir.TypeRef) -> str:
        return _describe(t, self.old_defs)

    def _describe_new(self, t: ir.TypeRef) -> str:
        return _describe(t, self.new_defs)

    def _single(self, o: ir.TypeRef, n: ir.TypeRef, site: _Site) -> None:
        od = self.old_defs.get(o.name) if isinstance(o, ir.NamedType) else None
        nd = self.new_defs.get(n.name) if isinstance(n, ir.NamedType) else None
        if isinstance(od, ir.Model) and isinstance(nd, ir.Model) or (
                isinstance(od, ir.Enum) and isinstance(nd, ir.Enum)):
            assert od is not None and nd is not None
            if od.name != nd.name:
                self._add("schema-replaced", ["api"], site.where,
                          f"schema {od.name} becomes {nd.name} (compared by structure)",
                          site.old_pointer, site.new_pointer, od.name, nd.name)
            self._reach(od.name, nd.name, site.contexts)
            return
        self._keywords(_own_keywords(o), _own_keywords(n), site)
        if isinstance(o, ir.AnyType) or isinstance(n, ir.AnyType):
            if isinstance(o, ir.AnyType) != isinstance(n, ir.AnyType):
                rule = "type-widened" if isinstance(n, ir.AnyType) else "type-narrowed"
                self._add(rule, site.contexts, site.where, "type changes",
                          site.old_pointer, site.new_pointer, self._describe_old(o),
                          self._describe_new(n))
            return
        if isinstance(o, ir.ArrayType) and isinstance(n, ir.ArrayType):
            self._bounds({"min_items": o.min_items, "max_items": o.max_items},
                         {"min_items": n.min_items, "max_items": n.max_items}, site)
            self._types(o.items, n.items, _Site(site.contexts, site.where + " items",
                                                site.old_pointer, site.new_pointer))
            return
        if isinstance(o, ir.MapType) and isinstance(n, ir.MapType):
            self._types(o.values, n.values, _Site(site.contexts, site.where + " values",
                                                  site.old_pointer, site.new_pointer))
            return
        old_scalar, new_scalar = _scalar(o, self.old_defs), _scalar(n, self.new_defs)
        if old_scalar is not None and new_scalar is not None:
            self._scalars(old_scalar, new_scalar, site)
            return
        self._add("type-changed", site.contexts, site.where, "type changes", site.old_pointer,
                  site.new_pointer, self._describe_old(o), self._describe_new(n))

    def _scalars(self, o: _Scalar, n: _Scalar, site: _Site) -> None:
        if o.kind != n.kind:
            if (o.kind, n.kind) == ("integer", "number") or _as_text(site) and _text_accepts(
                    n, o):
                rule = "type-widened"
            elif (o.kind, n.kind) == ("number", "integer") or _as_text(site) and (
                    _text_accepts(o, n)):
                rule = "type-narrowed"
            else:
                rule = "type-changed"
            self._add(rule, site.contexts, site.where, "type changes", site.old_pointer,
                      site.new_pointer, o.kind, n.kind)
            return
        if o.format != n.format:
            rule = ("format-added" if o.format is None else "format-removed" if n.format is None
                    else "format-changed")
            self._add(rule, site.contexts, site.where, "format changes", site.old_pointer,
                      site.new_pointer, _opt(o.format), _opt(n.format))
        old_pattern, new_pattern = _pattern(o.pattern), _pattern(n.pattern)
        if old_pattern != new_pattern:
            rule = ("pattern-added" if old_pattern is None else "pattern-removed"
                    if new_pattern is None else "pattern-changed")
            self._add(rule, site.contexts, site.where, "pattern changes", site.old_pointer,
                      site.new_pointer, _opt(o.pattern), _opt(n.pattern))
        self._bounds(o.bounds, n.bounds, site)
        self._values(o, n, site, site.old_pointer, site.new_pointer)

    def _values(self, o: _Scalar, n: _Scalar, site: _Site, old_pointer: str,
                new_pointer: str) -> None:
        old_closed = o.values is not None and not o.open
        new_closed = n.values is not None and not n.open
        if old_closed and not new_closed:
            self._add("enum-opened", site.contexts, site.where, "any value becomes allowed",
                      old_pointer, new_pointer)
        elif new_closed and not old_closed:
            self._add("enum-closed", site.contexts, site.where,
                      "only the listed values are allowed now", old_pointer, new_pointer)
        old_values, new_values = list(o.values or ()), list(n.values or ())
        if o.values is None or n.values is None:
            return
        if old_closed and new_closed and len(old_values) == len(new_values) == 1 and (
                old_values != new_values):
            self._add("const-changed", site.contexts, site.where, "constant changes",
                      old_pointer, new_pointer, _show(old_values[0]), _show(new_values[0]))
            return
        for value in new_values:
            if value not in old_values:
                self._add("enum-value-added" if old_closed else "enum-value-added-open",
                          site.contexts, site.where, f"value {_show(value)} added",
                          old_pointer, new_pointer, None, _show(value))
        for value in old_values:
            if value not in new_values:
                self._add("enum-value-removed" if new_closed else "enum-value-removed-open",
                          site.contexts, site.where, f"value {_show(value)} removed",
                          old_pointer, new_pointer, _show(value), None)

    def _keywords(self, o: tuple[tuple[str, str], ...], n: tuple[tuple[str, str], ...],
                  site: _Site) -> None:
        """JSON Schema assertions beyond the IR's own fields (ir.*.keywords), keyword by
        keyword: one that appears narrows what is valid, one that goes widens it."""
        olds, news = dict(o), dict(n)
        bounds: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        for keyword in sorted(olds.keys() | news.keys()):
            before, after = olds.get(keyword), news.get(keyword)
            if before == after:
                continue
            if keyword in ("minContains", "maxContains"):
                for side, text in zip(bounds, (before, after), strict=True):
                    if text is not None:
                        side["min_contains" if keyword == "minContains" else "max_contains"] = (
                            json.loads(text))
            elif keyword in ("contentMediaType", "contentEncoding"):
                self._add("content-encoding-changed", site.contexts, site.where,
                          f"{keyword} changes", site.old_pointer, site.new_pointer, before, after)
            elif keyword == "prefixItems":
                rule = ("prefix-items-added" if before is None else "prefix-items-removed"
                        if after is None else _DIRECTED.get(
                            _direction(json.loads(before), json.loads(after)),
                            "prefix-items-changed"))
                self._add(rule, site.contexts, site.where, f"{keyword} changes",
                          site.old_pointer, site.new_pointer, before, after)
            elif keyword == "dependentRequired" and before is not None and after is not None:
                self._dependent_required(json.loads(before), json.loads(after), site)
            else:
                rule = ("assertion-added" if before is None else "assertion-removed"
                        if after is None else _DIRECTED.get(_keyword_direction(
                            keyword, json.loads(before), json.loads(after)),
                            "assertion-changed"))
                verb = {"assertion-added": "added", "assertion-removed": "removed"}.get(
                    rule, "changes")
                self._add(rule, site.contexts, site.where, f"{keyword} {verb}",
                          site.old_pointer, site.new_pointer, before, after)
        if bounds != ({}, {}):
            self._bounds(*bounds, site)

    def _discriminator(self, o: ir.Discriminator | None, n: ir.Discriminator | None,
                       site: _Site) -> None:
        """The property whose value picks a variant, and the values that pick each one. The
        variants' own schemas are compared where they change; this is how readers choose."""
        if o is None and n is None:
            return
        if o is None or n is None:
            present = n or o
            assert present is not None
            self._add("discriminator-added" if o is None else "discriminator-removed",
                      site.contexts, site.where,
                      f"discriminator `{present.property}` " + (
                          "added" if o is None else "removed"),
                      site.old_pointer, site.new_pointer)
            return
        if o.property != n.property:
            self._add("discriminator-property-changed", site.contexts, site.where,
                      "discriminator property changes", site.old_pointer, site.new_pointer,
                      o.property, n.property)
        olds, news = dict(o.mapping), dict(n.mapping)
        for value in sorted(olds.keys() | news.keys()):
            before, after = olds.get(value), news.get(value)
            if before is None:
                self._add("discriminator-mapping-added", site.contexts, site.where,
                          f"discriminator value {_show(value)} added (selects {after})",
                          site.old_pointer, site.new_pointer, None, after)
            elif after is None:
                self._add("discriminator-mapping-removed", site.contexts, site.where,
                          f"discriminator value {_show(value)} removed", site.old_pointer,
                          site.new_pointer, before, None)
            elif before != after and (before, after) not in self.pairs:
                self._add("discriminator-mapping-changed", site.contexts, site.where,
                          f"discriminator value {_show(value)} selects {after}, not {before}",
                          site.old_pointer, site.new_pointer, before, after)

    def _dependent_required(self, o: Any, n: Any, site: _Site) -> None:
        o = o if isinstance(o, dict) else {}
        n = n if isinstance(n, dict) else {}
        for key in sorted(o.keys() | n.keys()):
            before = [str(x) for x in o.get(key) or [] if isinstance(o.get(key), list)]
            after = [str(x) for x in n.get(key) or [] if isinstance(n.get(key), list)]
            for name in after:
                if name not in before:
                    self._add("assertion-added", site.contexts, site.where,
                              f"dependentRequired: `{key}` now requires `{name}`",
                              site.old_pointer, site.new_pointer, None, _show(name))
            for name in before:
                if name not in after:
                    self._add("assertion-removed", site.contexts, site.where,
                              f"dependentRequired: `{key}` no longer requires `{name}`",
                              site.old_pointer, site.new_pointer, _show(name), None)

    def _bounds(self, o: Mapping[str, Any], n: Mapping[str, Any], site: _Site) -> None:
        for name in sorted(o.keys() | n.keys()):
            before, after = o.get(name), n.get(name)
            if before == after:
                continue
            lower = name in _LOWER_BOUNDS
            if before is None:
                rule = "constraint-added"
            elif after is None:
                rule = "constraint-loosened"
            else:
                rule = "constraint-tightened" if (after > before) == lower else "constraint-loosened"
            self._add(rule, site.contexts, site.where, f"{_camel(name)} changes",
                      site.old_pointer, site.new_pointer, _opt(before), _opt(after))

    # ---- definitions ----------------------------------------------------------------------

    def _pair(self, old_name: str, new_name: str) -> None:
        o, n = self.old_defs[old_name], self.new_defs[new_name]
        contexts = frozenset(self.pairs.get((old_name, new_name), set()))
        where = f"schema {old_name}" if old_name == new_name else f"schema {old_name} → {new_name}"
        if isinstance(o, ir.Model) and isinstance(n, ir.Model):
            self._model(o, n, contexts, where)
        elif isinstance(o, ir.Enum) and isinstance(n, ir.Enum):
            site = _Site(contexts, where, o.pointer, n.pointer)
            if o.value_kind != n.value_kind:
                self._add("type-changed", contexts, where, "type changes", o.pointer, n.pointer,
                          o.value_kind, n.value_kind)
                return
            self._values(_enum_scalar(o), _enum_scalar(n), site, o.pointer, n.pointer)

    def _model(self, o: ir.Model, n: ir.Model, contexts: frozenset[Context], where: str) -> None:
        olds = {p.name: p for p in o.properties}
        news = {p.name: p for p in n.properties}
        self._keywords(o.keywords, n.keywords, _Site(contexts, where, o.pointer, n.pointer))
        self._discriminator(o.discriminator, n.discriminator,
                            _Site(contexts, where, o.pointer, n.pointer))
        if (o.additional is None) != (n.additional is None):
            self._add("additional-properties-forbidden" if n.additional is None
                      else "additional-properties-allowed", contexts, where,
                      "unknown properties " + ("forbidden" if n.additional is None
                                               else "allowed"), o.pointer, n.pointer)
        elif o.additional is not None and n.additional is not None:
            self._types(o.additional, n.additional, _Site(
                contexts, where + " additional properties", o.pointer, n.pointer))
        for name in [p.name for p in o.properties] + [p.name for p in n.properties
                                                      if p.name not in olds]:
            op, np_ = olds.get(name), news.get(name)
            flows = _flows(contexts, op, np_)
            if op is None and np_ is not None:
                self._add("property-added-required" if np_.required else "property-added",
                          flows, where, f"property `{name}` added"
                          + (" (required)" if np_.required else ""), o.pointer, np_.pointer,
                          None, self._describe_new(np_.type))
            elif np_ is None and op is not None:
                self._add("property-removed-required" if op.required else "property-removed",
                          flows, where, f"property `{name}` removed", op.pointer, n.pointer,
                          self._describe_old(op.type), None)
            elif op is not None and np_ is not None:
                self._property(op, np_, contexts, where)

    def _property(self, o: ir.Property, n: ir.Property, contexts: frozenset[Context],
                  where: str) -> None:
        label = f"{where}: `{o.name}`"
        if o.write_only != n.write_only and "response" in contexts:
            self._add(("write-only-added-required" if o.required else "write-only-added")
                      if n.write_only else "write-only-removed",
                      contexts, label, "writeOnly " + ("added" if n.write_only else "removed"),
                      o.pointer, n.pointer)
        if o.read_only != n.read_only and "request" in contexts:
            self._add("read-only-added" if n.read_only else "read-only-removed",
                      contexts, label, "readOnly " + ("added" if n.read_only else "removed"),
                      o.pointer, n.pointer)
        contexts = _flows(contexts, o, n)
        if o.required != n.required:
            self._add("property-became-required" if n.required else "property-became-optional",
                      contexts, label, "becomes required" if n.required else "becomes optional",
                      o.pointer, n.pointer)
        if o.default != n.default:
            rule = ("default-added" if o.default is None else "default-removed"
                    if n.default is None else "default-changed")
            message = {"default-added": f"default {n.default} added",
                       "default-removed": f"default {o.default} removed"}.get(rule,
                                                                            "default changes")
            self._add(rule, contexts, label, message, o.pointer, n.pointer, o.default, n.default)
        self._types(o.type, n.type, _Site(contexts, label, o.pointer, n.pointer))

    def _unpaired_definitions(self) -> None:
        paired_old = {o for o, _ in self.pairs}
        paired_new = {n for _, n in self.pairs}
        for name in sorted(self.old_defs.keys() | self.new_defs.keys()):
            o, n = self.old_defs.get(name), self.new_defs.get(name)
            if o is not None and n is None:
                instead = sorted(new for old, new in self.pairs if old == name)
                self._add("schema-removed", ["api"], f"schema {name}", "schema removed" + (
                    f" (its uses now compare with {', '.join(instead)})" if instead else ""),
                          o.pointer, None)
            elif n is not None and o is None:
                before = sorted(old for old, new in self.pairs if new == name)
                self._add("schema-added", ["api"], f"schema {name}", "schema added" + (
                    f" (its uses compare with {', '.join(before)} before)" if before else ""),
                          None, n.pointer)
            elif o is not None and n is not None and (name, name) not in self.pairs and (
                    name not in paired_old or name not in paired_new):
                # Used by no operation (or only under other names): compare it as it is.
                self._pair(name, name)

    # ---- security -------------------------------------------------------------------------

    def _security_requirements(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        """What credentials an operation asks for (its own `security`, or the API's): a
        requirement where anonymous calls were allowed, alternatives and scopes."""
        old_req = old.security if old.security is not None else self.old.security_requirements
        new_req = new.security if new.security is not None else self.new.security_requirements
        renamed = self.scheme_renames
        old_alts = {frozenset(renamed.get(s, s) for s, _ in alt): {
            renamed.get(s, s): scopes for s, scopes in alt} for alt in old_req}
        new_alts = {frozenset(s for s, _ in alt): dict(alt) for alt in new_req}
        if old_alts == new_alts:
            return
        old_pointer = old.pointer + "/security" if old.security is not None else "/security"
        new_pointer = new.pointer + "/security" if new.security is not None else "/security"
        old_open = not old_alts or frozenset() in old_alts
        new_open = not new_alts or frozenset() in new_alts
        label = f"{where} security"
        api: list[Context] = ["api"]

        def text(alternative: frozenset[str]) -> str:
            return " + ".join(sorted(alternative)) or "anonymous"

        if old_open != new_open:
            self._add("security-requirement-added" if old_open
                      else "security-requirement-removed", api, label,
                      "credentials become " + ("required" if old_open else "optional"),
                      old_pointer, new_pointer, " or ".join(map(text, old_alts)) or "none",
                      " or ".join(map(text, new_alts)) or "none")
            return
        for alternative in sorted(old_alts.keys() - new_alts.keys(), key=text):
            self._add("security-alternative-removed", api, label,
                      f"{text(alternative)} no longer accepted", old_pointer, new_pointer,
                      text(alternative), None)
        for alternative in sorted(new_alts.keys() - old_alts.keys(), key=text):
            self._add("security-alternative-added", api, label,
                      f"{text(alternative)} accepted", old_pointer, new_pointer, None,
                      text(alternative))
        for alternative in sorted(old_alts.keys() & new_alts.keys(), key=text):
            before, after = old_alts[alternative], new_alts[alternative]
            for scheme in sorted(alternative):
                for scope in after.get(scheme, ()):
                    if scope not in before.get(scheme, ()):
                        self._add("security-scope-added", api, label,
                                  f"{scheme} requires scope {_show(scope)}", old_pointer,
                                  new_pointer, None, scope)
                for scope in before.get(scheme, ()):
                    if scope not in after.get(scheme, ()):
                        self._add("security-scope-removed", api, label,
                                  f"{scheme} no longer requires scope {_show(scope)}",
                                  old_pointer, new_pointer, scope, None)

    def _scheme_pairs(self) -> tuple[list[tuple[ir.SecurityScheme, ir.SecurityScheme]],
                                     list[ir.SecurityScheme], list[ir.SecurityScheme]]:
        """Schemes paired by name, then a lone one of the same mechanism (a rename)."""
        olds = {s.name: s for s in self.old.security}
        news = {s.name: s for s in self.new.security}
        pairs = [(olds[k], news[k]) for k in sorted(olds.keys() & news.keys())]
        lone_old = [s for k, s in olds.items() if k not in news]
        lone_new = [s for k, s in news.items() if k not in olds]
        for o in list(lone_old):
            same = [n for n in lone_new if _mechanism(n) == _mechanism(o)]
            if len(same) == 1:
                pairs.append((o, same[0]))
                lone_old.remove(o)
                lone_new.remove(same[0])
        return pairs, lone_old, lone_new

    def _security(self) -> None:
        pairs, lone_old, lone_new = self._scheme_pairs()
        api: list[Context] = ["api"]
        for o in lone_old:
            used = o.name in _required_schemes(self.old)
            self._add("security-scheme-removed" if used else "security-scheme-removed-unused",
                      api, f"security {o.name}", f"scheme removed ({_mechanism_text(o)})"
                      + ("" if used else ", which no operation required"), o.pointer, None)
        for n in lone_new:
            self._add("security-scheme-added", api, f"security {n.name}",
                      f"scheme added ({_mechanism_text(n)})", None, n.pointer)
        for o, n in pairs:
            where = f"security {o.name}" if o.name == n.name else f"security {o.name} → {n.name}"
            if o.name != n.name:
                self._add("security-scheme-renamed", api, where, "scheme renamed", o.pointer,
                          n.pointer, o.name, n.name)
            if _mechanism(o) != _mechanism(n):
                self._add("security-scheme-changed", api, where, "mechanism changes", o.pointer,
                          n.pointer, _mechanism_text(o), _mechanism_text(n))
                continue
            old_flows, new_flows = dict(o.flows), dict(n.flows)
            for flow in sorted(old_flows.keys() | new_flows.keys()):
                if flow not in new_flows:
                    self._add("oauth2-flow-removed", api, where, f"flow {flow} removed",
                              o.pointer, n.pointer, old_flows[flow], None)
                elif flow not in old_flows:
                    self._add("oauth2-flow-added", api, where, f"flow {flow} added",
                              o.pointer, n.pointer, None, new_flows[flow])
                elif old_flows[flow] != new_flows[flow]:
                    self._add("oauth2-url-changed", api, where, f"flow {flow} URL changes",
                              o.pointer, n.pointer, old_flows[flow], new_flows[flow])
            for scope in n.scopes:
                if scope not in o.scopes:
                    self._add("oauth2-scope-added", api, where, f"scope {_show(scope)} added",
                              o.pointer, n.pointer, None, scope)
            for scope in o.scopes:
                if scope not in n.scopes:
                    self._add("oauth2-scope-removed", api, where,
                              f"scope {_show(scope)} removed", o.pointer, n.pointer, scope, None)


# ---- helpers -------------------------------------------------------------------------------


def _split_null(t: ir.TypeRef) -> tuple[bool, list[ir.TypeRef]]:
    if isinstance(t, ir.UnionType):
        parts = [v for v in t.variants if not _is_null(v)]
        return len(parts) != len(t.variants), parts
    if isinstance(t, ir.LiteralType) and None in t.values:
        values = tuple(v for v in t.values if v is not None)
        return True, [ir.LiteralType(values=values)] if values else []
    if _is_null(t):
        return True, []
    return False, [t]


def _is_null(t: ir.TypeRef) -> bool:
    return isinstance(t, ir.PrimitiveType) and t.kind == "null"


def _parameter_key(parameter: ir.Parameter, op: ir.Operation) -> tuple[str, str]:
    """Path parameters by their place in the path template (a rename keeps the URL), headers
    case-insensitively, the others by name."""
    if parameter.location == "path":
        in_path = [p for p in op.parameters if p.location == "path"]
        # Ordered by place in the template; one the template lacks (-1) sorts last.
        in_path.sort(key=lambda p: op.path.find(f"{{{p.name}}}") % (len(op.path) + 1))
        return ("path", f"#{in_path.index(parameter) + 1}")
    if parameter.location == "header":
        return ("header", parameter.name.lower())
    return (parameter.location, parameter.name)


def _required_schemes(api: ir.Api) -> set[str]:
    """The schemes some operation's security requirement names (its own or the API's)."""
    names = {scheme for alt in api.security_requirements for scheme, _ in alt}
    for op in api.operations:
        names |= {scheme for alt in op.security or () for scheme, _ in alt}
    return names


def _template(path: str) -> str:
    return re.sub(r"\{[^}/]*\}", "{}", path)


def _body_content(body: ir.RequestBody) -> tuple[ir.MediaType, ...]:
    """Every media type of a request body; one, the JSON one, when it was lowered for
    generation (or from Swagger 2.0, which has no `content`)."""
    return body.content or (ir.MediaType(name=body.media_type, type=body.type,
                                         pointer=body.pointer),)


def _response_content(response: ir.Response) -> tuple[ir.MediaType, ...]:
    if response.content:
        return response.content
    if response.type is None:
        return ()
    return (ir.MediaType(name="application/json", type=response.type, pointer=response.pointer),)


def _is_string(t: ir.TypeRef) -> bool:
    return isinstance(t, ir.PrimitiveType) and t.kind == "string"


def _media_key(name: str) -> str:
    return name.split(";")[0].strip().lower()


def _covers(general: str, specific: str) -> bool:
    """Whether media type `general` names all that `specific` does: `*/*`, `type/*`, and a
    structured suffix (`application/json` covers `application/problem+json`)."""
    wide, narrow = _media_key(general), _media_key(specific)
    if wide == narrow or wide == "*/*":
        return True
    wide_type, _, wide_sub = wide.partition("/")
    narrow_type, _, narrow_sub = narrow.partition("/")
    if wide_type != narrow_type:
        return False
    return wide_sub == "*" or ("+" in narrow_sub and narrow_sub.rsplit("+", 1)[1] == wide_sub)


def _as_text(site: _Site) -> bool:
    return site.contexts == frozenset({"parameter"})


def _text_accepts(wide: _Scalar, narrow: _Scalar) -> bool:
    """Whether every text `narrow` accepts, `wide` accepts: a free string takes any scalar's
    text, a number an integer's, an array of values a single one."""
    if narrow.repeated and not wide.repeated:
        return False
    if wide.kind == "string" and wide.values is None and wide.pattern is None and (
            not wide.bounds):
        return True
    if wide.kind != narrow.kind and (wide.kind, narrow.kind) != ("number", "integer"):
        return False
    if wide.values is not None and (narrow.values is None or not set(narrow.values) <= set(
            wide.values)):
        return False
    if wide.pattern is not None and wide.pattern != narrow.pattern:
        return False
    if wide.bounds and wide.bounds != narrow.bounds:
        return False  # bounds are not compared across kinds: assume they differ
    return wide.format is None or wide.format == narrow.format


def _own_keywords(t: ir.TypeRef) -> tuple[tuple[str, str], ...]:
    if isinstance(t, (ir.PrimitiveType, ir.AnyType, ir.ArrayType, ir.MapType)):
        return t.keywords
    return ()


# A subschema that changes in one direction: assertion-* and prefix-items-* rules.
_DIRECTED = {"narrower": "assertion-tightened", "wider": "assertion-loosened"}
_SUBSCHEMA_LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties",
                    "minContains")
_SUBSCHEMA_UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties",
                    "maxContains")


def _keyword_direction(keyword: str, old: Any, new: Any) -> str:
    """How the values an assertion lets through change when its subschema changes: a `not`
    turns it around; `if` decides which branch holds, so any change to it is unknown."""
    if keyword == "if":
        return "unknown"
    if keyword in ("dependentSchemas", "patternProperties"):  # maps of subschemas
        old, new = {keyword: old}, {keyword: new}
    direction = _direction(old, new)
    if keyword == "not":
        return {"narrower": "wider", "wider": "narrower"}.get(direction, direction)
    return direction


def _direction(old: Any, new: Any) -> str:
    """Whether subschema `new` accepts fewer values than `old` ("narrower"), more ("wider"),
    the same ("same") or neither for sure ("unknown"): required names, properties, bounds and
    enums compared, anything else that differs is unknown. Lists compare item by item, maps
    (properties, patternProperties, dependentSchemas) key by key."""
    if old == new:
        return "same"
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return "unknown"
        return _combine(_direction(o, n) for o, n in zip(old, new, strict=True))
    if not isinstance(old, dict) or not isinstance(new, dict):
        return "unknown"
    found = []
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "required":
            olds = set(before) if isinstance(before, list) else set()
            news = set(after) if isinstance(after, list) else set()
            found.append("narrower" if olds < news else "wider" if news < olds else "unknown")
        elif key in ("properties", "patternProperties", "dependentSchemas"):
            before, after = before or {}, after or {}
            if not isinstance(before, dict) or not isinstance(after, dict):
                return "unknown"
            for name in before.keys() | after.keys():
                if name not in before:
                    found.append("narrower")  # its values must now pass a schema
                elif name not in after:
                    found.append("wider")
                else:
                    found.append(_direction(before[name], after[name]))
        elif key in _SUBSCHEMA_LOWER + _SUBSCHEMA_UPPER:
            if before is None or after is None:
                found.append("narrower" if before is None else "wider")
            elif isinstance(before, (int, float)) and isinstance(after, (int, float)):
                found.append("narrower" if (after > before) == (key in _SUBSCHEMA_LOWER)
                             else "wider")
            else:
                return "unknown"
        elif key == "enum" and isinstance(before, list) and isinstance(after, list):
            found.append("narrower" if all(v in before for v in after) else "wider"
                         if all(v in after for v in before) else "unknown")
        elif key in ("description", "title", "examples", "example", "$comment"):
            continue
        else:
            return "unknown"
    return _combine(found)


def _combine(directions: Iterable[str]) -> str:
    seen = set(directions) - {"same"}
    if not seen:
        return "same"
    return seen.pop() if len(seen) == 1 else "unknown"


def _union_discriminator(t: ir.TypeRef) -> ir.Discriminator | None:
    return t.discriminator if isinstance(t, ir.UnionType) else None


def _union_keywords(t: ir.TypeRef) -> tuple[tuple[str, str], ...]:
    return t.keywords if isinstance(t, ir.UnionType) else ()


def _flows(contexts: frozenset[Context], *props: ir.Property | None) -> frozenset[Context]:
    """Where a property flows: readOnly ones in responses only, writeOnly ones in requests only.
    When a version of it is readOnly, clients send it in neither or in one of the two; what
    that changes is read-only-added/-removed's to say, not its type's or required-ness'."""
    present = [p for p in props if p is not None]
    drop = set()
    if any(p.read_only for p in present):
        drop.add("request")
    if any(p.write_only for p in present):
        drop.add("response")
    return contexts - drop if drop else contexts


def _pattern(pattern: str | None) -> str | None:
    """A pattern, or None when it matches every string (`.*`, `^.*$`)."""
    if pattern is None or pattern.removeprefix("^").removesuffix("$") in (".*", "(.*)", ""):
        return None
    return pattern


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _scalar(t: ir.TypeRef, defs: Mapping[str, ir.Definition]) -> _Scalar | None:
    if isinstance(t, ir.PrimitiveType) and t.kind != "null":
        bounds = {name: getattr(t, name) for name in _LOWER_BOUNDS[:3] + _UPPER_BOUNDS[:3]
                  if getattr(t, name) is not None}
        return _Scalar(kind=t.kind, values=None, open=True, format=t.format, bounds=bounds,
                       pattern=t.pattern)
    if isinstance(t, ir.LiteralType) and t.values:
        kinds = {_value_kind(v) for v in t.values}
        if len(kinds) == 1:
            return _Scalar(kind=kinds.pop(), values=t.values, open=False, format=None)
    if isinstance(t, ir.NamedType) and isinstance(defs.get(t.name), ir.Enum):
        enum = defs[t.name]
        assert isinstance(enum, ir.Enum)
        return _enum_scalar(enum)
    return None


def _enum_scalar(enum: ir.Enum) -> _Scalar:
    return _Scalar(kind=enum.value_kind, values=tuple(m.value for m in enum.members),
                   open=enum.open, format=None)


def _describe(t: ir.TypeRef, defs: Mapping[str, ir.Definition]) -> str:
    """A short, language-neutral rendering of a type: `array of Embedding`, `string | null`."""
    if isinstance(t, ir.PrimitiveType):
        return t.kind + (f" ({t.format})" if t.format else "")
    if isinstance(t, ir.AnyType):
        return "any"
    if isinstance(t, ir.NamedType):
        target = defs.get(t.name)
        if isinstance(target, ir.Enum):
            return f"{t.name} (enum{', open' if target.open else ''})"
        return t.name
    if isinstance(t, ir.ArrayType):
        return f"array of {_describe(t.items, defs)}"
    if isinstance(t, ir.MapType):
        return f"map of {_describe(t.values, defs)}"
    if isinstance(t, ir.UnionType):
        return " | ".join(_describe(v, defs) for v in t.variants)
    if isinstance(t, ir.LiteralType):
        return "one of " + ", ".join(_show(v) for v in t.values)
    raise TypeError(f"unknown IR type {t!r}")


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _opt(value: Any) -> str | None:
    return None if value is None else _show(value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def _status_key(status: str) -> tuple[int, str]:
    if status.isdigit():
        return (0, status)
    return (1, status) if status != "default" else (2, status)


def _covering(status: str, responses: Mapping[str, ir.Response]) -> ir.Response | None:
    """The response that documents `status` when it is not listed itself: its range, or default."""
    if status.isdigit():
        ranged = responses.get(status[0] + "xx")
        if ranged is not None:
            return ranged
    return responses.get("default") if status != "default" else None


def _mechanism(s: ir.SecurityScheme) -> tuple[str, str | None, str | None]:
    if s.kind == "api_key":
        return (s.kind, s.location, (s.parameter_name or "").lower())
    return (s.kind, None, None)


def _mechanism_text(s: ir.SecurityScheme) -> str:
    if s.kind == "api_key":
        return f"API key in {s.location} `{s.parameter_name}`"
    return {"bearer": "HTTP bearer", "oauth2": "OAuth2"}.get(s.kind, s.kind)
