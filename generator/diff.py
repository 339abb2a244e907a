"""Two ir.Api -> classified changes: a semantic diff of two specs, for review.

Every change is found on the lowered IR, tied to its JSON pointer in both files, and classified
by one rule of `RULES` (the table README.md shows, rendered by `rules_markdown()`):

- **breaks clients**: a client written for the OLD spec can fail against a service that
  implements the NEW one (a request it sends is refused or means something else, a response it
  gets does not parse or lacks what it relies on);
- **breaks servers**: a service written for the OLD spec can fail clients written for the NEW
  one (it refuses or ignores what they send, or answers what they do not accept).

What flows where decides: a narrower set of accepted values breaks the side that *sends* them
(clients for requests, servers for responses), a wider set breaks the side that *reads* them.
A schema used in both directions takes both verdicts.

The diff also lists what changes in the generated packages' public Python surface (names that
appear or disappear, signatures that change), read from render.build_view: the same view
models the templates print.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from generator import ir
from generator.load import LoadedSpec
from generator.render import build_view

Context = Literal["request", "response", "api"]
Verdict = tuple[bool, bool]  # (breaks clients, breaks servers)

_WIDEN_REQ, _WIDEN_RESP = (False, True), (True, False)  # more values accepted
_NARROW_REQ, _NARROW_RESP = (True, False), (False, True)  # fewer values accepted
_BOTH, _NONE = (True, True), (False, False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    subject: str
    change: str
    # Verdict when the changed thing is sent by clients (request), by servers (response), or
    # has no direction (api); None where the rule does not apply.
    request: Verdict | None = None
    response: Verdict | None = None
    api: Verdict | None = None
    why: str


def _rule(id: str, subject: str, change: str, why: str, *, request: Verdict | None = None,
          response: Verdict | None = None, api: Verdict | None = None) -> Rule:
    return Rule(id=id, subject=subject, change=change, request=request, response=response,
                api=api, why=why)


# The one table of classification rules. Order is the documentation order.
RULES: tuple[Rule, ...] = (
    _rule("operation-added", "operation", "an operation is added", api=(False, True),
          why="new clients may call it; an old service answers 404"),
    _rule("operation-removed", "operation", "an operation is removed", api=(True, False),
          why="old clients still call it"),
    _rule("operation-id-changed", "operation", "the operationId changes", api=_NONE,
          why="not on the wire; generated method names follow it (see Generated code)"),
    _rule("parameter-added", "parameter", "an optional parameter is added", request=(False, True),
          why="an old service ignores or refuses it: what it asks for does not happen"),
    _rule("parameter-added-required", "parameter", "a required parameter is added",
          request=_BOTH, why="old clients do not send it; an old service does not know it"),
    _rule("parameter-removed", "parameter", "an optional parameter is removed",
          request=(True, False), why="old clients still send it and the service ignores it"),
    _rule("parameter-removed-required", "parameter", "a required parameter is removed",
          request=_BOTH, why="old clients send it for nothing; new clients omit what an old "
                             "service requires"),
    _rule("parameter-became-required", "parameter", "a parameter becomes required",
          request=(True, False), why="old clients may omit it"),
    _rule("parameter-became-optional", "parameter", "a parameter becomes optional",
          request=(False, True), why="new clients may omit what an old service requires"),
    _rule("request-body-added", "request body", "an optional request body is added",
          request=(False, True), why="an old service ignores it"),
    _rule("request-body-added-required", "request body", "a required request body is added",
          request=_BOTH, why="old clients send none"),
    _rule("request-body-removed", "request body", "the request body is removed",
          request=(True, False), why="old clients still send one"),
    _rule("request-body-became-required", "request body", "the request body becomes required",
          request=(True, False), why="old clients may send none"),
    _rule("request-body-became-optional", "request body", "the request body becomes optional",
          request=(False, True), why="new clients may send none to a service that requires one"),
    _rule("media-type-changed", "request body", "the request body's media type changes",
          request=_BOTH, why="each side sends a content type the other does not accept"),
    _rule("response-added", "response", "a status is documented that nothing covered before",
          response=_WIDEN_RESP, why="the service may answer a status old clients do not expect"),
    _rule("response-added-covered", "response",
          "a status is documented that `default` (or a range) covered before", response=_NONE,
          why="the status was already possible; its body is compared with the one that covered "
              "it"),
    _rule("response-removed", "response", "a status is no longer documented nor covered",
          response=_NARROW_RESP, why="an old service may still answer it; new clients do not "
                                     "expect it"),
    _rule("response-removed-covered", "response",
          "a status is no longer documented but `default` (or a range) covers it",
          response=_NONE, why="the status stays possible; its body is compared with the one "
                              "that covers it now"),
    _rule("response-body-added", "response", "a response gets a JSON body", response=(False, True),
          why="an old service sends none; new clients expect one"),
    _rule("response-body-removed", "response", "a response loses its JSON body",
          response=(True, False), why="old clients expect one"),
    _rule("header-added", "response header", "an optional response header is added",
          response=_NONE, why="old clients ignore it; new clients cope without it"),
    _rule("header-added-required", "response header", "a required response header is added",
          response=(False, True), why="an old service does not send it"),
    _rule("header-removed", "response header", "a response header is removed",
          response=(True, False), why="old clients read it"),
    _rule("header-became-required", "response header", "a response header becomes required",
          response=(False, True), why="an old service may omit it"),
    _rule("header-became-optional", "response header", "a response header becomes optional",
          response=(True, False), why="old clients rely on it"),
    _rule("property-added", "property", "an optional property is added",
          request=(False, True), response=_NONE,
          why="requests: an old service ignores or refuses it; responses: old clients keep it as "
              "an unknown property"),
    _rule("property-added-required", "property", "a required property is added",
          request=_BOTH, response=(False, True),
          why="old clients do not send it; an old service neither reads nor sends it"),
    _rule("property-removed", "property", "an optional property is removed",
          request=(True, False), response=(True, False),
          why="old clients send it for nothing, or read a value that never comes"),
    _rule("property-removed-required", "property", "a required property is removed",
          request=_BOTH, response=(True, False),
          why="as above; and new clients omit what an old service requires"),
    _rule("property-became-required", "property", "a property becomes required",
          request=(True, False), response=(False, True),
          why="old clients may omit it; an old service may omit it"),
    _rule("property-became-optional", "property", "a property becomes optional",
          request=(False, True), response=(True, False),
          why="new clients may omit it; old clients rely on it"),
    _rule("read-only-added", "property", "a property becomes readOnly", request=(True, False),
          response=_NONE, why="clients may no longer send it"),
    _rule("read-only-removed", "property", "a property is no longer readOnly",
          request=(False, True), response=_NONE, why="new clients may send it"),
    _rule("default-added", "property", "a default value is documented",
          request=(False, True), response=_NONE,
          why="new clients rely on it when they omit the property"),
    _rule("default-removed", "property", "the default value is no longer documented",
          request=(True, False), response=(True, False),
          why="clients that omitted it, or read its absence, relied on it"),
    _rule("default-changed", "property", "the default value changes", request=_BOTH,
          response=_BOTH, why="absence means one thing to one side and another to the other"),
    _rule("additional-properties-allowed", "schema", "unknown properties become allowed",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider: see the direction rule"),
    _rule("additional-properties-forbidden", "schema", "unknown properties become forbidden",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower: see the direction rule"),
    _rule("type-changed", "type", "the type changes to an incompatible one", request=_BOTH,
          response=_BOTH, why="neither side accepts what the other sends"),
    _rule("type-widened", "type", "the type accepts more values (integer to number, any)",
          request=_WIDEN_REQ, response=_WIDEN_RESP,
          why="wider: the side that reads it may receive values it refuses"),
    _rule("type-narrowed", "type", "the type accepts fewer values (number to integer)",
          request=_NARROW_REQ, response=_NARROW_RESP,
          why="narrower: the side that sends it may send values now refused"),
    _rule("variant-added", "type", "a union (oneOf/anyOf) gains a variant",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider"),
    _rule("variant-removed", "type", "a union loses a variant", request=_NARROW_REQ,
          response=_NARROW_RESP, why="narrower"),
    _rule("nullable-added", "type", "null becomes allowed", request=_WIDEN_REQ,
          response=_WIDEN_RESP, why="wider: old readers do not expect null"),
    _rule("nullable-removed", "type", "null is no longer allowed", request=_NARROW_REQ,
          response=_NARROW_RESP, why="narrower: old senders may send null"),
    _rule("format-added", "type", "a format is added (int32, float, ...)",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower"),
    _rule("format-removed", "type", "the format is removed", request=_WIDEN_REQ,
          response=_WIDEN_RESP, why="wider"),
    _rule("format-changed", "type", "the format changes", request=_BOTH, response=_BOTH,
          why="each side may send values the other refuses"),
    _rule("constraint-tightened", "type",
          "a bound is added or tightened (minLength, maximum, maxItems, ...)",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower"),
    _rule("constraint-loosened", "type", "a bound is removed or loosened",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider"),
    _rule("pattern-changed", "type", "the pattern is added, removed or changed",
          request=_BOTH, response=_BOTH, why="patterns cannot be compared: assume the worst"),
    _rule("enum-value-added", "enum", "a value is added to a closed enum",
          request=_WIDEN_REQ, response=_WIDEN_RESP,
          why="an old service refuses it; old clients with closed enums fail on it"),
    _rule("enum-value-added-open", "enum", "a value is documented for an open enum",
          request=(False, True), response=_NONE,
          why="open enums accept any value: old clients keep it; an old service does not know "
              "what it means"),
    _rule("enum-value-removed", "enum", "a value is removed from a closed enum",
          request=_NARROW_REQ, response=_NARROW_RESP,
          why="old clients may send it; an old service may return it to new clients"),
    _rule("enum-value-removed-open", "enum", "a value is no longer documented for an open enum",
          request=(True, False), response=_NONE,
          why="old clients may send it and the service no longer knows it"),
    _rule("enum-opened", "enum", "a closed set of values becomes open (any value)",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider"),
    _rule("enum-closed", "enum", "an open value set becomes closed", request=_NARROW_REQ,
          response=_NARROW_RESP, why="narrower"),
    _rule("schema-replaced", "schema",
          "a place uses another named schema (compared by structure)", api=_NONE,
          why="schema names are not on the wire; what differs is reported property by property"),
    _rule("schema-added", "schema", "a named schema is added", api=_NONE,
          why="names are not on the wire; its uses are reported where they change"),
    _rule("schema-removed", "schema", "a named schema is removed", api=_NONE,
          why="names are not on the wire; its uses are reported where they change"),
    _rule("security-scheme-added", "security", "a security scheme is added", api=(False, True),
          why="new clients may authenticate with it; an old service does not accept it"),
    _rule("security-scheme-removed", "security", "a security scheme is removed",
          api=(True, False), why="old clients using it are refused"),
    _rule("security-scheme-renamed", "security",
          "a scheme keeps its mechanism under another name", api=_NONE,
          why="scheme names are not on the wire"),
    _rule("security-scheme-changed", "security",
          "a scheme's mechanism changes (type, header or query name)", api=_BOTH,
          why="each side puts or looks for the credential elsewhere"),
    _rule("oauth2-flow-added", "security", "an OAuth2 flow is added", api=(False, True),
          why="new clients may get tokens an old service does not expect"),
    _rule("oauth2-flow-removed", "security", "an OAuth2 flow is removed", api=(True, False),
          why="old clients get tokens that way"),
    _rule("oauth2-url-changed", "security", "an OAuth2 flow's token or authorization URL changes",
          api=(True, False), why="old clients ask the old URL"),
    _rule("oauth2-scope-added", "security", "an OAuth2 scope is added", api=(True, False),
          why="old clients' tokens lack it"),
    _rule("oauth2-scope-removed", "security", "an OAuth2 scope is removed", api=(False, True),
          why="new clients' tokens lack what an old service requires"),
    _rule("api-version-changed", "api", "the api-version changes", api=_NONE,
          why="each package sends its own api-version; services serve several"),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

SECTIONS = ("api", "operation", "parameter", "request body", "response", "response header",
            "schema", "property", "type", "enum", "security")


# ---- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    file: str
    pointer: str
    line: int | None
    value: str | None  # a short rendering of the old or new value, when there is one

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    rule: str
    where: str  # a readable location, e.g. "POST /images/embeddings response 200 body"
    message: str
    contexts: tuple[Context, ...]  # where it flows; () for a schema no operation uses
    breaks_clients: bool
    breaks_servers: bool
    old: Side | None
    new: Side | None

    @property
    def subject(self) -> str:
        return RULES_BY_ID[self.rule].subject


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeChange:
    """A public name of the generated package that appears, disappears or changes."""

    module: str  # "package", "models", "client", "server", "exceptions"
    name: str
    kind: Literal["added", "removed", "changed"]
    old: str | None  # its signature
    new: str | None
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    old_file: str
    new_file: str
    old_version: str
    new_version: str
    old_sha256: str
    new_sha256: str
    changes: tuple[Change, ...]
    code: tuple[CodeChange, ...]

    @property
    def breaking(self) -> bool:
        return any(c.breaks_clients or c.breaks_servers for c in self.changes)


Locator = Callable[[str], tuple[str, int | None]]  # pointer -> (file label, line)


def classify(rule_id: str, contexts: Iterable[Context]) -> Verdict:
    """The rule's verdict for a change that flows in `contexts` (the union over them)."""
    rule = RULES_BY_ID[rule_id]
    clients = servers = False
    for context in contexts:
        verdict = getattr(rule, context)
        if verdict is None:
            raise ValueError(f"rule {rule_id} does not apply to {context}")
        clients, servers = clients or verdict[0], servers or verdict[1]
    return clients, servers


def diff(old: ir.Api, new: ir.Api, *, locate_old: Locator | None = None,
         locate_new: Locator | None = None) -> Report:
    """Every change from `old` to `new`, classified, with the generated-code impact."""
    differ = _Differ(old, new, locate_old, locate_new)
    changes = differ.run()
    return Report(old_file=old.source.file, new_file=new.source.file,
                  old_version=old.api_version, new_version=new.api_version,
                  old_sha256=old.source.sha256, new_sha256=new.source.sha256,
                  changes=changes, code=code_changes(old, new))


# ---- the comparison ------------------------------------------------------------------------


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


_LOWER_BOUNDS = ("min_length", "minimum", "exclusive_minimum", "min_items")
_UPPER_BOUNDS = ("max_length", "maximum", "exclusive_maximum", "max_items")
_CONTEXT_ORDER: tuple[Context, ...] = ("request", "response", "api")


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
        self.changes: list[Change] = []

    def run(self) -> tuple[Change, ...]:
        # Pass 1 finds which definition pairs are reached and in which directions, pass 2
        # reports, so that a schema reached from a request and a response gets both verdicts.
        self._operations()
        while self.pending:
            self._pair(*self.pending.pop())
        self.emitting = True
        self._api()
        self._operations()
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
        self.changes.append(Change(
            rule=rule, where=where, message=message, contexts=ordered,
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
        old_ops = {(op.method, op.path): op for op in self.old.operations}
        new_ops = {(op.method, op.path): op for op in self.new.operations}
        for key in sorted(old_ops.keys() | new_ops.keys()):
            old_op, new_op = old_ops.get(key), new_ops.get(key)
            where = f"{key[0]} {key[1]}"
            if old_op is None and new_op is not None:
                self._add("operation-added", ["api"], where, f"operation {new_op.operation_id} "
                          "added", None, new_op.pointer)
            elif new_op is None and old_op is not None:
                self._add("operation-removed", ["api"], where, f"operation {old_op.operation_id} "
                          "removed", old_op.pointer, None)
            elif old_op is not None and new_op is not None:
                self._operation(where, old_op, new_op)

    def _operation(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        if old.operation_id != new.operation_id:
            self._add("operation-id-changed", ["api"], where, "operationId changes",
                      old.pointer, new.pointer, _show(old.operation_id), _show(new.operation_id))
        self._parameters(where, old, new)
        self._request_body(where, old, new)
        self._responses(where, old, new)

    def _parameters(self, where: str, old: ir.Operation, new: ir.Operation) -> None:
        def key(p: ir.Parameter) -> tuple[str, str]:
            return (p.location, p.name.lower() if p.location == "header" else p.name)

        olds, news = {key(p): p for p in old.parameters}, {key(p): p for p in new.parameters}
        request: list[Context] = ["request"]
        for k in sorted(olds.keys() | news.keys()):
            o, n = olds.get(k), news.get(k)
            label = f"{where} {k[0]} parameter `{(n or o).name}`"  # type: ignore[union-attr]
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
                self._types(o.type, n.type, _Site(frozenset(request), label, o.pointer, n.pointer))

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
            if o.media_type != n.media_type:
                self._add("media-type-changed", request, label, "media type changes",
                          o.pointer, n.pointer, _show(o.media_type), _show(n.media_type))
            self._types(o.type, n.type, _Site(frozenset(request), label, o.pointer, n.pointer))

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
        if o.type is None and n.type is not None:
            self._add("response-body-added", response, label, "JSON body added", o.pointer,
                      n.pointer)
        elif n.type is None and o.type is not None:
            self._add("response-body-removed", response, label, "JSON body removed", o.pointer,
                      n.pointer)
        elif o.type is not None and n.type is not None:
            self._types(o.type, n.type, _Site(frozenset(response), f"{label} body", o.pointer,
                                              n.pointer))
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
                self._types(oh.type, nh.type, _Site(frozenset(response), hlabel, oh.pointer,
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
        old_t, new_t = self._resolve(old_t, self.old_defs), self._resolve(new_t, self.new_defs)
        old_null, old_parts = _split_null(old_t)
        new_null, new_parts = _split_null(new_t)
        if old_null != new_null:
            self._add("nullable-added" if new_null else "nullable-removed", site.contexts,
                      site.where, "null becomes allowed" if new_null else "null no longer allowed",
                      site.old_pointer, site.new_pointer)
        if len(old_parts) == 1 and len(new_parts) == 1:
            self._single(old_parts[0], new_parts[0], site)
            return
        old_keys = {self._shape(p, self.old_defs): p for p in old_parts}
        new_keys = {self._shape(p, self.new_defs): p for p in new_parts}
        for key in sorted(old_keys.keys() | new_keys.keys()):
            o, n = old_keys.get(key), new_keys.get(key)
            if o is None and n is not None:
                self._add("variant-added", site.contexts, site.where, f"may now be {key}",
                          site.old_pointer, site.new_pointer, None, self._describe_new(n))
            elif n is None and o is not None:
                self._add("variant-removed", site.contexts, site.where, f"may no longer be {key}",
                          site.old_pointer, site.new_pointer, self._describe_old(o), None)
            elif o is not None and n is not None:
                self._single(o, n, site)

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
            if (o.kind, n.kind) == ("integer", "number"):
                rule = "type-widened"
            elif (o.kind, n.kind) == ("number", "integer"):
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
        if o.pattern != n.pattern:
            self._add("pattern-changed", site.contexts, site.where, "pattern changes",
                      site.old_pointer, site.new_pointer, _opt(o.pattern), _opt(n.pattern))
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

    def _bounds(self, o: Mapping[str, Any], n: Mapping[str, Any], site: _Site) -> None:
        for name in sorted(o.keys() | n.keys()):
            before, after = o.get(name), n.get(name)
            if before == after:
                continue
            lower = name in _LOWER_BOUNDS
            if before is None:
                rule = "constraint-tightened"
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
            if op is None and np_ is not None:
                self._add("property-added-required" if np_.required else "property-added",
                          contexts, where, f"property `{name}` added"
                          + (" (required)" if np_.required else ""), o.pointer, np_.pointer,
                          None, self._describe_new(np_.type))
            elif np_ is None and op is not None:
                self._add("property-removed-required" if op.required else "property-removed",
                          contexts, where, f"property `{name}` removed", op.pointer, n.pointer,
                          self._describe_old(op.type), None)
            elif op is not None and np_ is not None:
                self._property(op, np_, contexts, where)

    def _property(self, o: ir.Property, n: ir.Property, contexts: frozenset[Context],
                  where: str) -> None:
        label = f"{where}: `{o.name}`"
        if o.required != n.required:
            self._add("property-became-required" if n.required else "property-became-optional",
                      contexts, label, "becomes required" if n.required else "becomes optional",
                      o.pointer, n.pointer)
        if o.read_only != n.read_only and "request" in contexts:
            self._add("read-only-added" if n.read_only else "read-only-removed", contexts,
                      label, "readOnly " + ("added" if n.read_only else "removed"),
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

    def _security(self) -> None:
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
        api: list[Context] = ["api"]
        for o in lone_old:
            self._add("security-scheme-removed", api, f"security {o.name}",
                      f"scheme removed ({_mechanism_text(o)})", o.pointer, None)
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


# ---- generated code ------------------------------------------------------------------------


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
    return re.sub(r"(?<![\w.])_(?:rt|t)\.", "", annotation)


def _surface(view: Mapping[str, Any], api: ir.Api) -> dict[tuple[str, str], _Public]:
    surface: dict[tuple[str, str], _Public] = {}
    described: set[str] = set()
    for model in view["models"]:
        members = tuple((f["attr"], _Member(f"{f['attr']}: {_py(f['annotation'])}"
                                            + ("" if f["required"] else " = NOT_GIVEN")))
                        for f in model["fields"])
        surface[("models", model["class_name"])] = _Public(
            f"class {model['class_name']}("
            + ", ".join(m.signature for _, m in members) + ")", members)
        described.add(model["class_name"])
    for enum in view["enums"]:
        members = tuple((m["name"], _Member(f"{m['name']} = {m['value']}"))
                        for m in enum["members"])
        surface[("models", enum["class_name"])] = _Public(
            f"class {enum['class_name']}({', '.join(m.signature for _, m in members)})", members)
        described.add(enum["class_name"])
    for alias in view["aliases"]:
        # The view holds the annotation as a Python string literal (it is printed in source).
        surface[("models", alias["name"])] = _Public(
            f"{alias['name']} = {_py(ast.literal_eval(alias['annotation']))}", ())
        described.add(alias["name"])
    statuses = {str(e["status"]): e["name"] for e in view.get("status_exceptions", [])}
    for name in view["exception_names"]:
        raised_for = sorted(status for status, n in statuses.items() if n == name)
        surface[("exceptions", name)] = _Public(
            f"class {name}" + (f"  # status {', '.join(raised_for)}" if raised_for else ""), ())
        described.add(name)
    methods = []
    for op in view["operations"]:
        parts = [("body", f"body: {op['body_model']} | Mapping | None = None")] if (
            op["body_model"]) else []
        parts += [(f["kwarg"], f"{f['kwarg']}: {_py(f['annotation'])} = NOT_GIVEN")
                  for f in op["body_fields"]]
        parts += [(p["kwarg"], f"{p['kwarg']}: {_py(p['annotation'])}"
                   + ("" if p["required"] else " = NOT_GIVEN")) for p in op["parameters"]]
        parts.append(("return", f"-> {op['result_model']}"))
        keywords = [t for name, t in parts[:-1] if name != "body"]
        text = ", ".join([t for name, t in parts if name == "body"] + ["*"] * bool(keywords)
                         + keywords)
        methods.append((op["name"], _Member(f"{op['name']}({text}) {parts[-1][1]}",
                                            tuple(parts))))
    for client in (f"{api.class_prefix}Client", f"Async{api.class_prefix}Client"):
        surface[("client", client)] = _Public(f"class {client}", tuple(methods))
        described.add(client)
    service = f"{api.class_prefix}Service"
    surface[("server", service)] = _Public(f"class {service}(Protocol)", tuple(
        (op["name"], _Member(
            f"async {op['name']}(body: {_py(op['server_body'])}, context: RequestContext) -> "
            f"{op['result_model']}", (("body", f"body: {_py(op['server_body'])}"),
                                      ("return", f"-> {op['result_model']}"))))
        for op in view["operations"]))
    described.add(service)
    for name in view["init_all"]:  # the rest of the package's public names
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


# ---- output --------------------------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    def side(s: Side | None) -> dict[str, Any] | None:
        if s is None:
            return None
        return {"file": s.file, "line": s.line, "pointer": "#" + s.pointer, "value": s.value}

    return {
        "old": {"file": report.old_file, "api_version": report.old_version,
                "sha256": report.old_sha256},
        "new": {"file": report.new_file, "api_version": report.new_version,
                "sha256": report.new_sha256},
        "summary": _summary(report),
        "changes": [{"rule": c.rule, "subject": c.subject, "where": c.where,
                     "message": c.message, "contexts": list(c.contexts),
                     "breaks_clients": c.breaks_clients, "breaks_servers": c.breaks_servers,
                     "old": side(c.old), "new": side(c.new)} for c in report.changes],
        "generated_code": [{"module": c.module, "name": c.name, "kind": c.kind, "old": c.old,
                            "new": c.new, "details": list(c.details)} for c in report.code],
    }


def _summary(report: Report) -> dict[str, int]:
    return {
        "changes": len(report.changes),
        "breaking_for_clients": sum(c.breaks_clients for c in report.changes),
        "breaking_for_servers": sum(c.breaks_servers for c in report.changes),
        "non_breaking": sum(not (c.breaks_clients or c.breaks_servers) for c in report.changes),
        "generated_names_added": sum(c.kind == "added" for c in report.code),
        "generated_names_removed": sum(c.kind == "removed" for c in report.code),
        "generated_names_changed": sum(c.kind == "changed" for c in report.code),
    }


def _cell(text: str) -> str:
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _location(s: Side | None) -> str:
    if s is None:
        return "–"
    text = f"{s.where()} {_code('#' + s.pointer)}"
    return text + (f": {_code(s.value)}" if s.value is not None else "")


def to_markdown(report: Report) -> str:
    summary = _summary(report)
    lines = [
        f"# Spec diff: {report.old_version} → {report.new_version}",
        "",
        (f"- old: `{report.old_file}` (api-version {report.old_version}, "
         f"sha256:{report.old_sha256[:12]})"),
        (f"- new: `{report.new_file}` (api-version {report.new_version}, "
         f"sha256:{report.new_sha256[:12]})"),
        "",
        (f"**{summary['changes']} changes: {summary['breaking_for_clients']} break clients, "
         f"{summary['breaking_for_servers']} break servers, {summary['non_breaking']} break "
         "neither.**"),
        "",
        ("*Breaks clients*: a client written for the old spec can fail against a service that "
         "implements the new one. *Breaks servers*: a service written for the old spec can fail "
         "clients written for the new one. Each change names the rule that classified it (see "
         "the rules table in README.md, \"Spec diffs\")."),
        "",
    ]
    for subject in SECTIONS:
        rows = [c for c in report.changes if c.subject == subject]
        if not rows:
            continue
        title = "API" if subject == "api" else subject[:1].upper() + subject[1:]
        lines += [f"## {title} changes", "",
                  "| where | change | clients | servers | rule | old | new |",
                  "|---|---|---|---|---|---|---|"]
        for c in rows:
            lines.append("| " + " | ".join(_cell(text) for text in (
                c.where, c.message, "**breaks**" if c.breaks_clients else "ok",
                "**breaks**" if c.breaks_servers else "ok", c.rule, _location(c.old),
                _location(c.new))) + " |")
        lines.append("")
    if not report.changes:
        lines += ["No changes.", ""]
    lines += ["## Generated code", ""]
    if not report.code:
        lines += ["The generated packages' public names are the same.", ""]
    for kind, title in (("changed", "Changed"), ("removed", "Removed"), ("added", "Added")):
        entries = [e for e in report.code if e.kind == kind]
        if not entries:
            continue
        lines += [f"### {title} ({len(entries)})", ""]
        for entry in entries:
            if entry.module == "package":
                lines.append(f"- package `{entry.old}` → `{entry.new}`")
                continue
            signature = entry.new if kind == "added" else entry.old
            lines.append(f"- `{entry.module}`: {_code(str(signature))}")
            if entry.details:
                lines += ["  ```diff"] + [f"  {detail}" for detail in entry.details] + ["  ```"]
            elif kind == "changed":
                lines.append(f"  - now {_code(str(entry.new))}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def rules_markdown() -> str:
    """The classification table, as README.md shows it (a test keeps the two identical)."""

    def verdict(v: Verdict | None) -> str:
        if v is None:
            return "–"
        return {(False, False): "neither", (True, False): "clients",
                (False, True): "servers", (True, True): "both"}[v]

    lines = [("| rule | change | in requests, breaks | in responses, breaks | otherwise, breaks "
              "| why |"), "|---|---|---|---|---|---|"]
    for rule in RULES:
        lines.append("| " + " | ".join((
            f"`{rule.id}`", _cell(rule.change), verdict(rule.request), verdict(rule.response),
            verdict(rule.api), _cell(rule.why))) + " |")
    return "\n".join(lines) + "\n"


def locator(spec: LoadedSpec) -> Locator:
    """pointer -> (file, line) in a loaded spec: the root document first, then the files its
    `$ref`s reach; the line is None when no document has that exact pointer."""
    documents = [spec.root] + [d for d in spec.documents.values() if d is not spec.root]

    def locate(pointer: str) -> tuple[str, int | None]:
        for document in documents:
            if pointer in document.positions:
                return document.label, document.positions[pointer][0]
        return spec.root.label, None

    return locate
