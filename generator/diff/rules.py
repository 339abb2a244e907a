"""The classification rules of the spec diff: one table, `RULES`, that README.md shows.

A rule says, for a change that flows in requests, in responses or has no direction (api),
whether it breaks clients, servers, both or neither (see generator/diff/__init__.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# "parameter": a request value that travels as text (query, header, path, cookie); its
# verdicts are the request's, but types compare by the text they accept.
Context = Literal["request", "parameter", "response", "api"]
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
    # Contexts where a client written for OLD only *may* fail (level WARN, not ERR): what
    # happens depends on what the spec does not say, e.g. whether a service refuses a property
    # it no longer knows, or whether a client copes with an optional value that never comes.
    may: tuple[Context, ...] = ()


def _rule(id: str, subject: str, change: str, why: str, *, request: Verdict | None = None,
          response: Verdict | None = None, api: Verdict | None = None,
          may: tuple[Context, ...] = ()) -> Rule:
    return Rule(id=id, subject=subject, change=change, request=request, response=response,
                api=api, why=why, may=may)


# The one table of classification rules. Order is the documentation order.
RULES: tuple[Rule, ...] = (
    _rule("operation-added", "operation", "an operation is added", api=(False, True),
          why="new clients may call it; an old service answers 404"),
    _rule("operation-removed", "operation", "an operation is removed", api=(True, False),
          why="old clients still call it"),
    _rule("operation-id-changed", "operation", "the operationId changes", api=_NONE,
          why="not on the wire; generated method names follow it (see Generated code)"),
    _rule("webhook-added", "operation", "a webhook is added", api=_NONE,
          why="consumers get calls only for what they subscribe to"),
    _rule("webhook-removed", "operation", "a webhook is removed", api=(True, False),
          why="consumers that rely on its calls no longer get them"),
    _rule("parameter-added", "parameter", "an optional parameter is added", request=(False, True),
          why="an old service ignores or refuses it: what it asks for does not happen"),
    _rule("parameter-added-required", "parameter", "a required parameter is added",
          request=_BOTH, why="old clients do not send it; an old service does not know it"),
    _rule("parameter-removed", "parameter", "an optional parameter is removed",
          request=(True, False), may=("request",),
          why="old clients still send it: the service ignores or refuses it"),
    _rule("parameter-removed-required", "parameter", "a required parameter is removed",
          request=_BOTH, may=("request",), why="old clients send it for nothing; new clients omit what an old "
                             "service requires"),
    _rule("path-parameter-renamed", "parameter", "a path parameter is renamed (same place)",
          request=_NONE, why="the URL is the same; generated keyword names follow it"),
    _rule("parameter-default-added", "parameter", "a parameter's default is documented",
          request=(False, True), why="new clients rely on it when they omit the parameter"),
    _rule("parameter-default-removed", "parameter", "a parameter's default is removed",
          request=(True, False), why="old clients that omit it relied on it"),
    _rule("parameter-default-changed", "parameter", "a parameter's default changes",
          request=_BOTH, why="omitting it means one thing to one side and another to the other"),
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
    _rule("media-type-changed", "media type",
          "the request body's one media type is replaced by another",
          request=_BOTH, why="each side sends a content type the other does not accept"),
    _rule("media-type-added", "media type", "a body gets another media type (XML, text, ...)",
          request=(False, True), response=_NONE,
          why="requests: an old service refuses it; responses: clients get it only if they "
              "ask for it (Accept)"),
    _rule("media-type-removed", "media type", "a body loses a media type",
          request=(True, False), response=(True, False),
          why="old clients still send it, or ask for it"),
    _rule("media-type-generalized", "media type",
          "a media type becomes a wider one (`*/*`, `image/*`, `application/json` for "
          "`application/problem+json`)", request=(False, True), response=(True, False),
          why="wider: see the direction rule"),
    _rule("media-type-specialized", "media type",
          "a media type becomes a narrower one (the reverse)", request=(True, False),
          response=(False, True), why="narrower: see the direction rule"),
    _rule("media-type-schema-added", "media type", "a media type gets a schema where it had none",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower: any content was valid"),
    _rule("media-type-schema-removed", "media type", "a media type's schema is removed",
          request=_WIDEN_REQ, response=_WIDEN_RESP, may=("response",),
          why="wider: any content becomes valid; old clients may not parse what comes"),
    _rule("type-compatible", "type",
          "in a body that is not JSON (XML, text), the type changes to or from string",
          request=_NONE, response=_NONE,
          why="both are text on the wire; the schema only documents its structure"),
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
    _rule("response-body-added", "response", "a response gets a body", response=(False, True),
          why="an old service sends none; new clients expect one"),
    _rule("response-body-removed", "response", "a response loses its body",
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
          request=(True, False), response=(True, False), may=("request", "response"),
          why="old clients send it for nothing, or read a value that never comes"),
    _rule("property-removed-required", "property", "a required property is removed",
          request=_BOTH, response=(True, False), may=("request",),
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
    _rule("write-only-added", "property", "an optional property becomes writeOnly",
          request=_NONE, response=(True, False), may=("response",),
          why="the service no longer sends it; old clients read it, but coped without it"),
    _rule("write-only-added-required", "property", "a required property becomes writeOnly",
          request=_NONE, response=(True, False),
          why="the service no longer sends it; old clients rely on it"),
    _rule("write-only-removed", "property", "a property is no longer writeOnly",
          request=_NONE, response=(False, True),
          why="new clients may read it; an old service does not send it"),
    _rule("default-added", "property", "a default value is documented",
          request=(False, True), response=_NONE,
          why="new clients rely on it when they omit the property"),
    _rule("default-removed", "property", "the default value is no longer documented",
          request=(True, False), response=(True, False), may=("response",),
          why="clients that omitted it, or read its absence, relied on it"),
    _rule("default-changed", "property", "the default value changes", request=_BOTH,
          response=_BOTH, may=("response",), why="absence means one thing to one side and another to the other"),
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
    _rule("variant-added-covered", "type",
          "a union gains a variant whose values an existing variant already accepts",
          request=_NONE, response=_NONE,
          why="no value becomes valid that was not before (an object variant that admits "
              "unknown properties and requires no more)"),
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
    _rule("constraint-added", "type",
          "a bound is set where there was none (maxLength, minimum, maxItems, ...)",
          request=_NARROW_REQ, response=_NARROW_RESP, may=("request",),
          why="narrower; but old clients may well send only values within it"),
    _rule("constraint-tightened", "type",
          "a bound is tightened (minLength up, maximum down, ...)",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower"),
    _rule("constraint-loosened", "type", "a bound is removed or loosened",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider"),
    _rule("pattern-added", "type", "a pattern is set where any string (or `.*`) was allowed",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower"),
    _rule("pattern-removed", "type", "the pattern is removed (or becomes `.*`)",
          request=_WIDEN_REQ, response=_WIDEN_RESP, may=("response",),
          why="wider; few clients check the pattern of what they read"),
    _rule("pattern-changed", "type", "the pattern changes", request=_BOTH, response=_BOTH,
          may=("request", "response"),
          why="patterns cannot be compared in general: either side may send strings the other "
              "refuses"),
    _rule("assertion-added", "type",
          "a JSON Schema assertion is added: contains, not, if/then/else, dependentRequired, "
          "dependentSchemas, patternProperties, propertyNames, unevaluatedItems, "
          "unevaluatedProperties, contentSchema",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower: values must also pass it"),
    _rule("assertion-removed", "type", "a JSON Schema assertion (as above) is removed",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider"),
    _rule("assertion-tightened", "type",
          "an assertion's subschema (or prefixItems) accepts fewer values: a property or "
          "required name added, a bound tightened, enum values removed (`not`: the reverse)",
          request=_NARROW_REQ, response=_NARROW_RESP, why="narrower"),
    _rule("assertion-loosened", "type",
          "an assertion's subschema (or prefixItems) accepts more values (the reverse)",
          request=_WIDEN_REQ, response=_WIDEN_RESP, why="wider"),
    _rule("assertion-changed", "type",
          "a JSON Schema assertion (as above) changes otherwise (its `if`, a type, a pattern)",
          request=_BOTH, response=_BOTH,
          why="a change that cannot be ordered: either side may send values the other "
              "refuses"),
    _rule("prefix-items-added", "type", "prefixItems is added to an array",
          request=_WIDEN_REQ, response=_WIDEN_RESP,
          why="wider: `items` then holds only after the prefix, and the first elements take "
              "the prefix's schemas instead"),
    _rule("prefix-items-removed", "type", "prefixItems is removed from an array",
          request=_NARROW_REQ, response=_NARROW_RESP,
          why="narrower: `items` holds for every element again"),
    _rule("prefix-items-changed", "type", "an array's prefixItems change", request=_BOTH,
          response=_BOTH, why="each side may send tuples the other refuses"),
    _rule("content-encoding-changed", "type",
          "a string's contentMediaType or contentEncoding is added, removed or changed",
          request=_BOTH, response=_BOTH,
          why="each side encodes or decodes the string's content another way"),
    _rule("const-changed", "enum", "a constant (`const`, a one-value enum) changes",
          request=_BOTH, response=_BOTH,
          why="the one value either side sends is no longer the one the other accepts"),
    _rule("discriminator-added", "type", "a union or base schema gets a discriminator",
          request=_NONE, response=_NONE,
          why="the same values are valid; readers may now pick the variant by one property"),
    _rule("discriminator-removed", "type", "the discriminator is removed", request=_NONE,
          response=_NONE, why="the same values are valid; the property stays where the "
                              "variants declare it"),
    _rule("discriminator-property-changed", "type", "the discriminator's property changes",
          request=_BOTH, response=_BOTH, may=("request", "response"),
          why="a reader picks the variant by a property the sender may not set"),
    _rule("discriminator-mapping-added", "type", "a discriminator value is added",
          request=_WIDEN_REQ, response=_WIDEN_RESP, may=("response",),
          why="wider: a reader that maps values to variants meets one it does not know"),
    _rule("discriminator-mapping-removed", "type", "a discriminator value is removed",
          request=_NARROW_REQ, response=_NARROW_RESP, may=("request",),
          why="narrower: old senders may use it; the variant may still be picked by name"),
    _rule("discriminator-mapping-changed", "type",
          "a discriminator value selects another schema", request=_BOTH, response=_BOTH,
          may=("request", "response"),
          why="the reader picks another variant than the sender meant; their schemas are "
              "compared where they differ"),
    _rule("enum-value-added", "enum", "a value is added to a closed enum",
          request=_WIDEN_REQ, response=_WIDEN_RESP, may=("response",),
          why="an old service refuses it; old clients that treat the enum as closed fail on it"),
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
    _rule("security-scheme-removed", "security", "a security scheme some operation required "
          "is removed", api=(True, False), why="old clients using it are refused"),
    _rule("security-scheme-removed-unused", "security",
          "a security scheme no operation required is removed", api=_NONE,
          why="no call asked for it"),
    _rule("security-requirement-added", "security",
          "an operation requires credentials where anonymous calls were allowed (its own "
          "`security` or the API's)", api=(True, False), may=("api",),
          why="old clients that call anonymously are refused; those that send a credential "
              "anyway are not"),
    _rule("security-requirement-removed", "security",
          "an operation no longer requires credentials", api=(False, True),
          why="new clients may call anonymously; an old service refuses them"),
    _rule("security-alternative-removed", "security",
          "an operation no longer accepts a set of schemes it accepted", api=(True, False),
          why="old clients using that set are refused"),
    _rule("security-alternative-added", "security",
          "an operation accepts another set of schemes", api=(False, True),
          why="new clients may use it; an old service refuses it"),
    _rule("security-scope-added", "security", "an operation requires another OAuth2 scope",
          api=(True, False), may=("api",),
          why="old tokens may lack it (tokens often carry every scope the client registered)"),
    _rule("security-scope-removed", "security", "an operation no longer requires a scope",
          api=(False, True), why="new clients' tokens may lack what an old service requires"),
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

SECTIONS = ("api", "operation", "parameter", "request body", "response", "media type",
            "response header", "schema", "property", "type", "enum", "security")


Level = Literal["ERR", "WARN", "INFO"]
LEVELS: tuple[Level, ...] = ("ERR", "WARN", "INFO")  # most severe first


def level(rule_id: str, contexts: Iterable[Context]) -> Level:
    """oasdiff's severity, for clients: ERR when a client written for OLD fails against a
    service implementing NEW, WARN when it may, INFO otherwise (a change that breaks only
    servers, i.e. new clients against an old service, is INFO: see the `breaks_servers` flag)."""
    rule = RULES_BY_ID[rule_id]
    breaking = [_verdict_context(c) for c in contexts
                if (getattr(rule, _verdict_context(c)) or (False, False))[0]]
    if any(c not in rule.may for c in breaking):
        return "ERR"
    return "WARN" if breaking else "INFO"


def _verdict_context(context: Context) -> Context:
    return "request" if context == "parameter" else context


def classify(rule_id: str, contexts: Iterable[Context]) -> Verdict:
    """The rule's verdict for a change that flows in `contexts` (the union over them)."""
    rule = RULES_BY_ID[rule_id]
    clients = servers = False
    for context in contexts:
        verdict = getattr(rule, _verdict_context(context))
        if verdict is None:
            raise ValueError(f"rule {rule_id} does not apply to {context}")
        clients, servers = clients or verdict[0], servers or verdict[1]
    return clients, servers
