"""A catalogue of spec pairs: a base spec and one mutation each, asserting the classification.

Each case makes one change to BASE and checks which rule reports it and how it is classified
(breaks clients, breaks servers). The specs go through the real load -> validate -> lower.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import diff
from generator.cli import build_api_to_compare
from generator.load import load

Spec = dict[str, Any]

BASE: Spec = {
    "openapi": "3.1.0",
    "info": {"title": "Things", "version": "2024-01-01", "x-codegen-package": "things"},
    "paths": {
        "/things": {"post": {
            "operationId": "CreateThing",
            "parameters": [
                {"name": "api-version", "in": "query", "required": True,
                 "schema": {"type": "string"}},
                {"name": "x-mode", "in": "header", "required": False,
                 "schema": {"type": "string", "enum": ["a", "b"]}},
            ],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}}},
            "responses": {
                "200": {"description": "OK",
                        "headers": {"x-request-id": {"required": False,
                                                     "schema": {"type": "string"}}},
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Result"}}}},
                "404": {"description": "Not found", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }},
        "/ping": {"post": {
            "operationId": "Ping",
            "responses": {
                "200": {"description": "OK"},
                "503": {"description": "Busy", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}},
                "default": {"description": "Error", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }},
    },
    "components": {
        "securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": "api-key"},
            "aad": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "https://login.example.com/token", "scopes": {"s1": ""}}}},
        },
        "schemas": {
            "Thing": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "maxLength": 100},
                "count": {"type": "integer"},
                "size": {"type": ["integer", "null"]},
                "color": {"type": "string", "default": "red"},
                "mode": {"$ref": "#/components/schemas/Mode"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "meta": {"$ref": "#/components/schemas/Meta"},
            }},
            "Result": {"type": "object", "required": ["id", "status"], "properties": {
                "id": {"type": "string"},
                "status": {"$ref": "#/components/schemas/Status"},
                "score": {"type": "number"},
                "rank": {"type": "integer"},
                "note": {"type": "string"},
                "kind": {"$ref": "#/components/schemas/Kind"},
                "meta": {"$ref": "#/components/schemas/Meta"},
                "value": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            }},
            "Meta": {"type": "object", "required": ["owner"], "properties": {
                "owner": {"type": "string"}, "label": {"type": "string"}}},
            "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
            "Mode": {"type": "string", "enum": ["fast", "slow"]},
            "Status": {"type": "string", "enum": ["ok", "failed"]},
            "Kind": {"anyOf": [{"type": "string"}, {"type": "string", "enum": ["x", "y"]}]},
        },
    },
}


def _thing(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]["Thing"]  # type: ignore[no-any-return]


def _result(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]["Result"]  # type: ignore[no-any-return]


def _schemas(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]  # type: ignore[no-any-return]


def _things_op(spec: Spec) -> dict[str, Any]:
    return spec["paths"]["/things"]["post"]  # type: ignore[no-any-return]


def _ping(spec: Spec) -> dict[str, Any]:
    return spec["paths"]["/ping"]["post"]  # type: ignore[no-any-return]


def _security(spec: Spec) -> dict[str, Any]:
    return spec["components"]["securitySchemes"]  # type: ignore[no-any-return]


def _rename_result(spec: Spec) -> None:
    _schemas(spec)["Outcome"] = _schemas(spec).pop("Result")
    _things_op(spec)["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Outcome"}


Mutation = Callable[[Spec], Any]
NOT_REQUIRED = {"type": "string"}


def _add_covered_variant(spec: Spec) -> None:
    """Result.meta may also be a Meta2, whose values Meta (open, same required) accepts."""
    _result(spec)["properties"]["meta"] = {"anyOf": [{"$ref": "#/components/schemas/Meta"},
                                                     {"$ref": "#/components/schemas/Meta2"}]}
    _schemas(spec)["Meta2"] = {"type": "object", "required": ["owner"],
                               "properties": {"owner": {"type": "string"}}}

# (case id, mutation, the rule expected, (breaks clients, breaks servers))
CASES: list[tuple[str, Mutation, str, tuple[bool, bool]]] = [
    ("operation added", lambda s: s["paths"].__setitem__("/other", {"get": {
        "operationId": "Other", "responses": {"200": {"description": "OK"}}}}),
     "operation-added", (False, True)),
    ("operation removed", lambda s: s["paths"].pop("/ping"), "operation-removed", (True, False)),
    ("operationId changed", lambda s: _ping(s).__setitem__("operationId", "PingAgain"),
     "operation-id-changed", (False, False)),
    ("optional parameter added", lambda s: _things_op(s)["parameters"].append(
        {"name": "x-trace", "in": "header", "schema": NOT_REQUIRED}),
     "parameter-added", (False, True)),
    ("required parameter added", lambda s: _things_op(s)["parameters"].append(
        {"name": "tenant", "in": "query", "required": True, "schema": NOT_REQUIRED}),
     "parameter-added-required", (True, True)),
    ("optional parameter removed", lambda s: _things_op(s)["parameters"].pop(1),
     "parameter-removed", (True, False)),
    ("required parameter removed", lambda s: _things_op(s)["parameters"].pop(0),
     "parameter-removed-required", (True, True)),
    ("parameter became required", lambda s: _things_op(s)["parameters"][1].__setitem__(
        "required", True), "parameter-became-required", (True, False)),
    ("parameter became optional", lambda s: _things_op(s)["parameters"][0].__setitem__(
        "required", False), "parameter-became-optional", (False, True)),
    ("request body added", lambda s: _ping(s).__setitem__("requestBody", {"content": {
        "application/json": {"schema": {"type": "string"}}}}),
     "request-body-added", (False, True)),
    ("required request body added", lambda s: _ping(s).__setitem__("requestBody", {
        "required": True, "content": {"application/json": {"schema": {"type": "string"}}}}),
     "request-body-added-required", (True, True)),
    ("request body removed", lambda s: _things_op(s).pop("requestBody"),
     "request-body-removed", (True, False)),
    ("request body became optional", lambda s: _things_op(s)["requestBody"].__setitem__(
        "required", False), "request-body-became-optional", (False, True)),
    ("request media type specialized", lambda s: _things_op(s)["requestBody"].__setitem__(
        "content", {"application/merge-patch+json": _things_op(s)["requestBody"]["content"][
            "application/json"]}), "media-type-specialized", (True, False)),
    ("request media type changed", lambda s: _things_op(s)["requestBody"].__setitem__(
        "content", {"application/xml": _things_op(s)["requestBody"]["content"][
            "application/json"]}), "media-type-changed", (True, True)),
    ("request media type generalized", lambda s: _things_op(s)["requestBody"].__setitem__(
        "content", {"*/*": _things_op(s)["requestBody"]["content"]["application/json"]}),
     "media-type-generalized", (False, True)),
    ("request XML media type added", lambda s: _things_op(s)["requestBody"]["content"]
     .__setitem__("application/xml", {"schema": {"type": "string"}}), "media-type-added",
     (False, True)),
    ("response text media type added", lambda s: _things_op(s)["responses"]["200"]["content"]
     .__setitem__("text/plain", {"schema": {"type": "string"}}), "media-type-added",
     (False, False)),
    ("response media type generalized", lambda s: _things_op(s)["responses"]["200"].__setitem__(
        "content", {"application/*": _things_op(s)["responses"]["200"]["content"][
            "application/json"]}), "media-type-generalized", (True, False)),

    ("uncovered response added", lambda s: _things_op(s)["responses"].__setitem__(
        "429", {"description": "Slow down"}), "response-added", (True, False)),
    ("response added that default covered", lambda s: _ping(s)["responses"].__setitem__(
        "404", _ping(s)["responses"]["default"]), "response-added-covered", (False, False)),
    ("uncovered response removed", lambda s: _things_op(s)["responses"].pop("404"),
     "response-removed", (False, True)),
    ("response removed that default covers", lambda s: _ping(s)["responses"].pop("503"),
     "response-removed-covered", (False, False)),
    ("response body added", lambda s: _ping(s)["responses"]["200"].__setitem__(
        "content", {"application/json": {"schema": {"type": "string"}}}),
     "response-body-added", (False, True)),
    ("response body removed", lambda s: _things_op(s)["responses"]["404"].pop("content"),
     "response-body-removed", (True, False)),
    ("optional response header added", lambda s: _ping(s)["responses"]["200"].__setitem__(
        "headers", {"x-extra": {"schema": NOT_REQUIRED}}), "header-added", (False, False)),
    ("required response header added", lambda s: _ping(s)["responses"]["200"].__setitem__(
        "headers", {"x-extra": {"required": True, "schema": NOT_REQUIRED}}),
     "header-added-required", (False, True)),
    ("response header removed", lambda s: _things_op(s)["responses"]["200"].pop("headers"),
     "header-removed", (True, False)),
    ("response header became required", lambda s: _things_op(s)["responses"]["200"][
        "headers"]["x-request-id"].__setitem__("required", True),
     "header-became-required", (False, True)),
    ("response header type changed", lambda s: _things_op(s)["responses"]["200"]["headers"][
        "x-request-id"].__setitem__("schema", {"type": "boolean"}), "type-changed", (True, True)),
    ("request property added", lambda s: _thing(s)["properties"].__setitem__(
        "extra", NOT_REQUIRED), "property-added", (False, True)),
    ("response property added", lambda s: _result(s)["properties"].__setitem__(
        "extra", NOT_REQUIRED), "property-added", (False, False)),
    ("required request property added", lambda s: (
        _thing(s)["properties"].__setitem__("extra", NOT_REQUIRED),
        _thing(s)["required"].append("extra")), "property-added-required", (True, True)),
    ("required response property added", lambda s: (
        _result(s)["properties"].__setitem__("extra", NOT_REQUIRED),
        _result(s)["required"].append("extra")), "property-added-required", (False, True)),
    ("request property removed", lambda s: _thing(s)["properties"].pop("count"),
     "property-removed", (True, False)),
    ("response property removed", lambda s: _result(s)["properties"].pop("note"),
     "property-removed", (True, False)),
    ("required request property removed", lambda s: (
        _thing(s)["properties"].pop("name"), _thing(s).__setitem__("required", [])),
     "property-removed-required", (True, True)),
    ("required response property removed", lambda s: (
        _result(s)["properties"].pop("id"), _result(s).__setitem__("required", ["status"])),
     "property-removed-required", (True, False)),
    ("request property became required", lambda s: _thing(s)["required"].append("count"),
     "property-became-required", (True, False)),
    ("response property became required", lambda s: _result(s)["required"].append("score"),
     "property-became-required", (False, True)),
    ("request property became optional", lambda s: _thing(s).__setitem__("required", []),
     "property-became-optional", (False, True)),
    ("response property became optional", lambda s: _result(s).__setitem__(
        "required", ["status"]), "property-became-optional", (True, False)),
    ("property of a schema used both ways removed",
     lambda s: _schemas(s)["Meta"]["properties"].pop("label"), "property-removed", (True, False)),
    ("property of a schema used both ways became optional",
     lambda s: _schemas(s)["Meta"].__setitem__("required", []),
     "property-became-optional", (True, True)),
    ("request property became readOnly", lambda s: _thing(s)["properties"]["count"].__setitem__(
        "readOnly", True), "read-only-added", (True, False)),
    ("request default added", lambda s: _thing(s)["properties"]["count"].__setitem__(
        "default", 1), "default-added", (False, True)),
    ("request default removed", lambda s: _thing(s)["properties"]["color"].pop("default"),
     "default-removed", (True, False)),
    ("request default changed", lambda s: _thing(s)["properties"]["color"].__setitem__(
        "default", "blue"), "default-changed", (True, True)),
    ("unknown request properties forbidden", lambda s: _thing(s).__setitem__(
        "additionalProperties", False), "additional-properties-forbidden", (True, False)),
    ("request property type changed", lambda s: _thing(s)["properties"]["count"].__setitem__(
        "type", "string"), "type-changed", (True, True)),
    ("request integer widened to number", lambda s: _thing(s)["properties"]["count"]
     .__setitem__("type", "number"), "type-widened", (False, True)),
    ("response integer widened to number", lambda s: _result(s)["properties"]["rank"]
     .__setitem__("type", "number"), "type-widened", (True, False)),
    ("response number narrowed to integer", lambda s: _result(s)["properties"]["score"]
     .__setitem__("type", "integer"), "type-narrowed", (False, True)),
    ("response property became nullable", lambda s: _result(s)["properties"]["note"]
     .__setitem__("type", ["string", "null"]), "nullable-added", (True, False)),
    ("request property no longer nullable", lambda s: _thing(s)["properties"]["size"]
     .__setitem__("type", "integer"), "nullable-removed", (True, False)),
    ("request format added", lambda s: _thing(s)["properties"]["count"].__setitem__(
        "format", "int32"), "format-added", (True, False)),
    ("response format added", lambda s: _result(s)["properties"]["rank"].__setitem__(
        "format", "int32"), "format-added", (False, True)),
    ("request maxLength tightened", lambda s: _thing(s)["properties"]["name"].__setitem__(
        "maxLength", 10), "constraint-tightened", (True, False)),
    ("request maxLength loosened", lambda s: _thing(s)["properties"]["name"].__setitem__(
        "maxLength", 1000), "constraint-loosened", (False, True)),
    ("response minLength added", lambda s: _result(s)["properties"]["id"].__setitem__(
        "minLength", 1), "constraint-added", (False, True)),
    ("request pattern added", lambda s: _thing(s)["properties"]["name"].__setitem__(
        "pattern", "^[a-z]+$"), "pattern-added", (True, False)),
    ("request pattern .* added", lambda s: _thing(s)["properties"]["name"].__setitem__(
        "pattern", "^.*$"), None, (False, False)),
    ("request enum value added", lambda s: _schemas(s)["Mode"]["enum"].append("auto"),
     "enum-value-added", (False, True)),
    ("response enum value added (closed enum)", lambda s: _schemas(s)["Status"]["enum"]
     .append("pending"), "enum-value-added", (True, False)),
    ("response enum value added (open enum)", lambda s: _schemas(s)["Kind"]["anyOf"][1][
        "enum"].append("z"), "enum-value-added-open", (False, False)),
    ("request enum value removed", lambda s: _schemas(s)["Mode"]["enum"].remove("slow"),
     "enum-value-removed", (True, False)),
    ("response enum value removed (closed enum)", lambda s: _schemas(s)["Status"]["enum"]
     .remove("failed"), "enum-value-removed", (False, True)),
    ("response enum value removed (open enum)", lambda s: _schemas(s)["Kind"]["anyOf"][1][
        "enum"].remove("y"), "enum-value-removed-open", (False, False)),
    ("inline request enum value added", lambda s: _things_op(s)["parameters"][1]["schema"][
        "enum"].append("c"), "enum-value-added", (False, True)),
    ("request enum opened", lambda s: _schemas(s).__setitem__("Mode", {"anyOf": [
        {"type": "string"}, {"type": "string", "enum": ["fast", "slow"]}]}),
     "enum-opened", (False, True)),
    ("response enum closed", lambda s: _schemas(s).__setitem__("Kind", {
        "type": "string", "enum": ["x", "y"]}), "enum-closed", (False, True)),
    ("request union variant added", lambda s: _thing(s)["properties"].__setitem__("tags", {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}),
     "variant-added", (False, True)),
    ("response union variant removed", lambda s: _result(s)["properties"].__setitem__(
        "value", {"type": "integer"}), "variant-removed", (False, True)),
    ("description changed", lambda s: _result(s)["properties"]["note"].__setitem__(
        "description", "A note."), None, (False, False)),
    ("schema added", lambda s: _schemas(s).__setitem__("Unused", {"type": "object", "properties": {
        "a": NOT_REQUIRED}}), "schema-added", (False, False)),
    ("schema renamed", _rename_result, "schema-replaced", (False, False)),
    # JSON Schema 2020-12 assertions: a new one narrows, a removed one widens.
    ("request contains added", lambda s: _thing(s)["properties"]["tags"].__setitem__(
        "contains", {"const": "x"}), "assertion-added", (True, False)),
    ("response not added", lambda s: _result(s)["properties"]["note"].__setitem__(
        "not", {"const": ""}), "assertion-added", (False, True)),
    ("request object propertyNames added", lambda s: _thing(s).__setitem__(
        "propertyNames", {"maxLength": 8}), "assertion-added", (True, False)),
    ("response if added", lambda s: _result(s).__setitem__("if", {"required": ["id"]}),
     "assertion-added", (False, True)),
    ("request dependentRequired added", lambda s: _thing(s).__setitem__(
        "dependentRequired", {"count": ["size"]}), "assertion-added", (True, False)),
    ("request prefixItems added", lambda s: _thing(s)["properties"]["tags"].__setitem__(
        "prefixItems", [{"type": "integer"}]), "prefix-items-added", (False, True)),
    ("response contentEncoding set", lambda s: _result(s)["properties"]["note"].__setitem__(
        "contentEncoding", "base64"), "content-encoding-changed", (True, True)),
    # readOnly and writeOnly decide where a property flows.
    ("response property becomes writeOnly", lambda s: _result(s)["properties"]["note"]
     .__setitem__("writeOnly", True), "write-only-added", (True, False)),
    ("required response property becomes writeOnly", lambda s: _result(s)["properties"]["id"]
     .__setitem__("writeOnly", True), "write-only-added-required", (True, False)),
    # Union variants are matched one by one, never merged by shape.
    ("response union gains an object variant an old one accepts", _add_covered_variant,
     "variant-added-covered", (False, False)),
    ("security scheme added", lambda s: _security(s).__setitem__("bearer", {
        "type": "http", "scheme": "bearer"}), "security-scheme-added", (False, True)),
    ("security scheme no operation required removed", lambda s: _security(s).pop("key"),
     "security-scheme-removed-unused", (False, False)),
    ("operation requires credentials", lambda s: _things_op(s).__setitem__(
        "security", [{"key": []}]), "security-requirement-added", (True, False)),
    # Parameters travel as text: a string takes any scalar's text, an array a single value.
    ("query parameter string to integer", lambda s: _things_op(s)["parameters"][0].__setitem__(
        "schema", {"type": "integer"}), "type-narrowed", (True, False)),
    ("query parameter string to array of strings", lambda s: _things_op(s)["parameters"][0]
     .__setitem__("schema", {"type": "array", "items": {"type": "string"}}), "type-widened",
     (False, True)),
    ("parameter default added", lambda s: _things_op(s)["parameters"][1]["schema"]
     .__setitem__("default", "a"), "parameter-default-added", (False, True)),
    ("webhook added", lambda s: s.__setitem__("webhooks", {"thingCreated": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Meta"}}}},
        "responses": {"200": {"description": "OK"}}}}}), "webhook-added", (False, False)),
    ("security scheme renamed", lambda s: _security(s).__setitem__("apikey", _security(s).pop(
        "key")), "security-scheme-renamed", (False, False)),
    ("api key header changed", lambda s: _security(s)["key"].__setitem__("name", "x-key"),
     "security-scheme-changed", (True, True)),
    ("oauth2 flow added", lambda s: _security(s)["aad"]["flows"].__setitem__("implicit", {
        "authorizationUrl": "https://login.example.com/authorize", "scopes": {"s1": ""}}),
     "oauth2-flow-added", (False, True)),
    ("oauth2 token url changed", lambda s: _security(s)["aad"]["flows"]["clientCredentials"]
     .__setitem__("tokenUrl", "https://login.example.org/token"), "oauth2-url-changed",
     (True, False)),
    ("oauth2 scope added", lambda s: _security(s)["aad"]["flows"]["clientCredentials"][
        "scopes"].__setitem__("s2", ""), "oauth2-scope-added", (True, False)),
    ("oauth2 scope removed", lambda s: _security(s)["aad"]["flows"]["clientCredentials"]
     .__setitem__("scopes", {}), "oauth2-scope-removed", (False, True)),
    ("api-version changed", lambda s: s["info"].__setitem__("version", "2024-02-01"),
     "api-version-changed", (False, False)),
]


def _lower(spec: Spec, folder: Path, name: str) -> Any:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    api, _warnings = build_api_to_compare(load(path), strict=True)
    return api


@pytest.fixture(scope="module")
def base_api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _lower(BASE, tmp_path_factory.mktemp("base"), "spec")


def _report(base_api: Any, mutate: Mutation, tmp_path: Path) -> diff.Report:
    spec = copy.deepcopy(BASE)
    mutate(spec)
    spec["info"].setdefault("version", "2024-01-01")
    return diff.diff(base_api, _lower(spec, tmp_path, "spec"))


def _wire(report: diff.Report) -> list[diff.Change]:
    """The changes a case is about: api-version and schema bookkeeping left aside."""
    return [c for c in report.changes if c.rule not in ("schema-added", "schema-removed")
            or c.where.startswith("schema Unused")]


@pytest.mark.parametrize(("mutate", "rule", "verdict"),
                         [pytest.param(m, r, v, id=i) for i, m, r, v in CASES])
def test_each_change_is_classified_by_its_rule(base_api: Any, tmp_path: Path, mutate: Mutation,
                                               rule: str | None,
                                               verdict: tuple[bool, bool]) -> None:
    report = _report(base_api, mutate, tmp_path)
    changes = _wire(report)
    if rule is None:  # a change back to the same shape: nothing to report
        assert changes == []
        return
    assert [c.rule for c in changes] == [rule], [(c.rule, c.where, c.message) for c in changes]
    (change,) = changes
    assert (change.breaks_clients, change.breaks_servers) == verdict
    assert report.breaking == any(verdict)
    assert change.old is not None or change.new is not None


def test_the_catalogue_covers_at_least_thirty_rules() -> None:
    covered = {rule for _id, _m, rule, _v in CASES if rule is not None}
    assert len(covered) >= 30, sorted(covered)
    assert covered <= set(diff.RULES_BY_ID)


def test_every_rule_has_a_verdict_and_a_reason() -> None:
    for rule in diff.RULES:
        assert rule.request or rule.response or rule.api, rule.id
        assert rule.why and rule.change and rule.subject in diff.SECTIONS
    assert len({r.id for r in diff.RULES}) == len(diff.RULES)


def test_no_change_no_report(base_api: Any) -> None:
    report = diff.diff(base_api, base_api)
    assert report.changes == () and report.code == () and not report.breaking
    assert "No changes." in diff.to_markdown(report)


def test_a_change_carries_both_pointers(base_api: Any, tmp_path: Path) -> None:
    report = _report(base_api, lambda s: _thing(s)["properties"]["count"].__setitem__(
        "type", "string"), tmp_path)
    (change,) = report.changes
    assert change.old is not None and change.new is not None
    assert change.old.pointer == change.new.pointer == "/components/schemas/Thing/properties/count"
    assert (change.old.value, change.new.value) == ("integer", "string")
    assert change.contexts == ("request",)


def test_the_generated_names_follow_the_spec(base_api: Any, tmp_path: Path) -> None:
    def mutate(s: Spec) -> None:
        _rename_result(s)
        _thing(s)["properties"]["extra"] = NOT_REQUIRED
        _schemas(s)["Status"]["enum"].append("pending")

    report = _report(base_api, mutate, tmp_path)
    code = {(c.module, c.name, c.kind): c for c in report.code}
    assert ("models", "Result", "removed") in code
    assert ("models", "Outcome", "added") in code
    thing = code[("models", "Thing", "changed")]
    assert "+ extra: str | NotGiven = NOT_GIVEN" in thing.details
    assert "+ PENDING = 'pending'" in code[("models", "Status", "changed")].details
    client = code[("client", "ThingsClient", "changed")]
    assert "+     extra: str | NotGiven = NOT_GIVEN" in client.details
    assert "-     -> Result" in client.details and "+     -> Outcome" in client.details
    service = code[("server", "ThingsService", "changed")]
    assert "+     -> Outcome" in service.details


LEVEL_CASES = [
    ("required request property added", lambda s: (_thing(s)["properties"].__setitem__(
        "extra", NOT_REQUIRED), _thing(s)["required"].append("extra")), "ERR"),
    ("optional request property removed", lambda s: _thing(s)["properties"].pop("count"),
     "WARN"),
    ("request maxLength set", lambda s: _thing(s)["properties"]["count"].__setitem__(
        "maximum", 10), "WARN"),
    ("request pattern set", lambda s: _thing(s)["properties"]["name"].__setitem__(
        "pattern", "^a"), "ERR"),
    ("response closed enum value added", lambda s: _schemas(s)["Status"]["enum"].append(
        "pending"), "WARN"),
    ("optional request property added (breaks only servers)", lambda s: _thing(s)[
        "properties"].__setitem__("extra", NOT_REQUIRED), "INFO"),
]


@pytest.mark.parametrize(("mutate", "level"), [pytest.param(m, lv, id=i)
                                               for i, m, lv in LEVEL_CASES])
def test_each_change_has_oasdiffs_level_for_clients(base_api: Any, tmp_path: Path,
                                                    mutate: Mutation, level: str) -> None:
    changes = _wire(_report(base_api, mutate, tmp_path))
    assert [c.level for c in changes] == [level], [(c.rule, c.level) for c in changes]


def test_levels_follow_the_rules() -> None:
    assert diff.level("property-removed", ["request"]) == "WARN"
    assert diff.level("property-removed-required", ["response"]) == "ERR"
    # A schema used both ways takes the worse level.
    assert diff.level("property-removed-required", ["request", "response"]) == "ERR"
    assert diff.level("parameter-added", ["request"]) == "INFO"
    assert diff.level("pattern-changed", ["request"]) == "WARN"


def test_a_union_of_two_enums_that_loses_one_loses_a_variant(tmp_path: Path) -> None:
    def spec(variants: list[list[str]]) -> Spec:
        changed = copy.deepcopy(BASE)
        _result(changed)["properties"]["kind"] = {"oneOf": [
            {"type": "string", "enum": values} for values in variants]}
        return changed

    old = _lower(spec([["a", "b"], ["c", "d"]]), tmp_path, "old")
    new = _lower(spec([["a", "b"]]), tmp_path, "new")
    changes = _wire(diff.diff(old, new))
    assert [(c.rule, c.breaks_clients, c.breaks_servers) for c in changes] == [
        ("variant-removed", False, True)], changes
    assert "c" in changes[0].message and "d" in changes[0].message


def test_min_and_max_contains_are_bounds(tmp_path: Path) -> None:
    def spec(low: int, high: int) -> Spec:
        changed = copy.deepcopy(BASE)
        _thing(changed)["properties"]["tags"].update(contains={"const": "x"}, minContains=low,
                                                     maxContains=high)
        return changed

    old = _lower(spec(1, 5), tmp_path, "old")
    changes = _wire(diff.diff(old, _lower(spec(2, 6), tmp_path, "new")))
    assert sorted((c.rule, c.message, c.level) for c in changes) == [
        ("constraint-loosened", "maxContains changes", "INFO"),
        ("constraint-tightened", "minContains changes", "ERR")]


def test_read_only_and_write_only_decide_where_required_counts(base_api: Any,
                                                              tmp_path: Path) -> None:
    """A property that becomes readOnly and required is required in responses only: in a
    schema only requests use, only losing it from requests can break anyone."""
    def mutate(s: Spec) -> None:
        _thing(s)["properties"]["color"]["readOnly"] = True
        _thing(s)["required"].append("color")

    changes = _wire(_report(base_api, mutate, tmp_path))
    assert sorted((c.rule, c.breaks_clients, c.breaks_servers) for c in changes) == [
        ("property-became-required", False, False), ("read-only-added", True, False)]

    def write_only(s: Spec) -> None:  # a required writeOnly property removed: requests only
        _result(s)["properties"]["id"]["writeOnly"] = True
        _things_op(s)["requestBody"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/Result"}

    spec = copy.deepcopy(BASE)
    write_only(spec)
    before = _lower(spec, tmp_path, "before")
    del _result(spec)["properties"]["id"]
    _result(spec)["required"].remove("id")
    after = _lower(spec, tmp_path, "after")
    removed = [c for c in diff.diff(before, after).changes if "`id`" in c.message]
    assert [(c.rule, c.contexts, c.level) for c in removed] == [
        ("property-removed-required", ("request",), "WARN")]


def _with_path_parameter(name: str) -> Spec:
    spec = copy.deepcopy(BASE)
    _things_op(spec)["parameters"].append({"name": name, "in": "path", "required": True,
                                           "schema": {"type": "string"}})
    spec["paths"][f"/things/{{{name}}}"] = spec["paths"].pop("/things")
    return spec


def test_a_renamed_path_parameter_is_the_same_operation(tmp_path: Path) -> None:
    old = _lower(_with_path_parameter("id"), tmp_path, "old")
    new = _lower(_with_path_parameter("thingId"), tmp_path, "new")
    changes = [c for c in diff.diff(old, new).changes]
    assert [(c.rule, c.where, c.breaks_clients, c.breaks_servers) for c in changes] == [
        ("path-parameter-renamed", "POST /things/{thingId} path parameter `thingId`", False,
         False)]


def test_a_changed_constant_is_one_change(base_api: Any, tmp_path: Path) -> None:
    def mutate(value: str) -> Any:
        def change(spec: Spec) -> None:
            _result(spec)["properties"]["note"] = {"type": "string", "const": value}
        return change

    spec = copy.deepcopy(BASE)
    mutate("ok")(spec)
    old = _lower(spec, tmp_path, "old")
    spec = copy.deepcopy(BASE)
    mutate("done")(spec)
    changes = _wire(diff.diff(old, _lower(spec, tmp_path, "new")))
    assert [(c.rule, c.level, c.old.value if c.old else None) for c in changes] == [
        ("const-changed", "ERR", '"ok"')]


def _secured(requirements: list[dict[str, list[str]]], webhook_required: bool = False) -> Spec:
    spec = copy.deepcopy(BASE)
    spec["security"] = requirements
    spec["webhooks"] = {"thingCreated": {"post": {
        "requestBody": {"required": webhook_required, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Meta"}}}},
        "responses": {"200": {"description": "OK"}}}}}
    return spec


def test_security_requirements_per_operation_and_global(tmp_path: Path) -> None:
    old = _lower(_secured([{"aad": ["s1"]}, {"key": []}]), tmp_path, "old")
    new_spec = _secured([{"aad": ["s1", "s2"]}])
    _things_op(new_spec)["security"] = [{}]  # this operation: anonymous calls allowed
    new = _lower(new_spec, tmp_path, "new")
    found = sorted((c.where, c.rule, c.level, c.breaks_servers) for c in diff.diff(old, new).changes
                   if c.subject == "security")
    assert found == [
        ("POST /ping security", "security-alternative-removed", "ERR", False),
        ("POST /ping security", "security-scope-added", "WARN", False),
        ("POST /things security", "security-requirement-removed", "INFO", True),
    ]
    # A scheme that a requirement names, removed: old clients using it are refused.
    gone = copy.deepcopy(_secured([{"aad": ["s1"]}]))
    del _security(gone)["aad"]
    gone["security"] = []
    changes = diff.diff(old, _lower(gone, tmp_path, "gone")).changes
    assert ("security-scheme-removed", True) in [(c.rule, c.breaks_clients) for c in changes]


def test_a_webhook_is_read_from_its_consumers_side(tmp_path: Path) -> None:
    """The API sends a webhook's request: a body that becomes required breaks no consumer;
    a property its payload loses breaks consumers that read it."""
    old = _lower(_secured([]), tmp_path, "old")
    required = diff.diff(old, _lower(_secured([], webhook_required=True), tmp_path, "new"))
    (change,) = required.changes
    assert (change.rule, change.where, change.level) == (
        "request-body-became-required", "webhook thingCreated (POST) request body", "INFO")
    assert (change.breaks_clients, change.breaks_servers) == (False, True)
    spec = _secured([])
    _schemas(spec)["Meta"]["required"] = []
    del _schemas(spec)["Meta"]["properties"]["owner"]
    changes = diff.diff(old, _lower(spec, tmp_path, "lost")).changes
    lost = [c for c in changes if "`owner`" in c.message]
    assert [(c.rule, c.contexts, c.breaks_clients, c.level) for c in lost] == [
        ("property-removed-required", ("request", "response"), True, "ERR")]
    hook_gone = _secured([])
    del hook_gone["webhooks"]
    (removed,) = diff.diff(old, _lower(hook_gone, tmp_path, "no-hook")).changes
    assert (removed.rule, removed.level) == ("webhook-removed", "ERR")


def _pets(discriminator: dict[str, Any] | None) -> Spec:
    spec = copy.deepcopy(BASE)
    _schemas(spec).update({
        "Cat": {"type": "object", "properties": {"kind": {"type": "string"}}},
        "Dog": {"type": "object", "properties": {"kind": {"type": "string"}}},
    })
    pet: dict[str, Any] = {"oneOf": [{"$ref": "#/components/schemas/Cat"},
                                     {"$ref": "#/components/schemas/Dog"}]}
    if discriminator is not None:
        pet["discriminator"] = discriminator
    _result(spec)["properties"]["pet"] = pet
    return spec


def test_discriminator_property_and_mapping(tmp_path: Path) -> None:
    mapping = {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"}
    old = _lower(_pets({"propertyName": "kind", "mapping": mapping}), tmp_path, "old")

    def changes(discriminator: dict[str, Any] | None) -> list[tuple[str, str, bool]]:
        new = _lower(_pets(discriminator), tmp_path, "new")
        return sorted((c.rule, c.level, c.breaks_servers) for c in diff.diff(old, new).changes
                      if c.rule.startswith("discriminator"))

    assert changes(None) == [("discriminator-removed", "INFO", False)]
    assert changes({"propertyName": "type", "mapping": mapping}) == [
        ("discriminator-property-changed", "WARN", True)]
    assert changes({"propertyName": "kind", "mapping": {
        "cat": mapping["cat"], "dog": mapping["dog"], "hound": mapping["dog"]}}) == [
        ("discriminator-mapping-added", "WARN", False)]
    assert changes({"propertyName": "kind", "mapping": {"cat": mapping["dog"],
                                                        "dog": mapping["cat"]}}) == [
        ("discriminator-mapping-changed", "WARN", True),
        ("discriminator-mapping-changed", "WARN", True)]


def test_a_changed_subschema_is_ordered_where_it_can_be(base_api: Any, tmp_path: Path) -> None:
    def spec(keyword: str, schema: dict[str, Any]) -> Spec:
        changed = copy.deepcopy(BASE)
        _thing(changed)[keyword] = schema
        return changed

    def rules(keyword: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        before = _lower(spec(keyword, old), tmp_path, "old")
        after = _lower(spec(keyword, new), tmp_path, "new")
        return [c.rule for c in diff.diff(before, after).changes]

    narrow, wide = {"required": ["count"]}, {"required": []}
    assert rules("then", wide, narrow) == ["assertion-tightened"]
    assert rules("then", narrow, wide) == ["assertion-loosened"]
    assert rules("not", wide, narrow) == ["assertion-loosened"]  # `not` turns it around
    assert rules("if", wide, narrow) == ["assertion-changed"]
    assert rules("then", {"properties": {"a": {"type": "string"}}},
                 {"properties": {"a": {"type": "integer"}}}) == ["assertion-changed"]
