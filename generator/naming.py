"""Spec names -> safe, unique Python identifiers.

Every name the generated code uses for a spec-defined thing comes from here, so that
keywords, leading digits, punctuation and collisions are handled in exactly one place.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import unicodedata

_WORD_BOUNDARY = re.compile(r"[^0-9A-Za-z]+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# Names a model's own members use: a property with one of these names is renamed.
# Builtin type names are taken too: a field called `int` would shadow the annotation `int`.
MODEL_MEMBER_NAMES = frozenset({"to_dict", "from_dict", "validate", "additional_properties",
                                "int", "str", "float", "bool", "list", "dict", "bytes", "self"})
# Keyword arguments every generated client method takes besides the body's fields, and the
# names its body and annotations use (a keyword argument must not shadow them).
CLIENT_CALL_NAMES = frozenset({"self", "body", "extra_headers", "extra_query", "timeout",
                               "max_retries", "extra_body", "parts", "result", "httpx", "json",
                               "uuid", "dataclasses", "total_timeout", "client", "prepared", "raw"})
# Members of the generated client classes: an operation never gets one of them as its name.
CLIENT_MEMBER_NAMES = frozenset({
    "close", "with_raw_response", "with_options", "api_version", "credential", "endpoint",
    "max_retries", "retry_backoff", "retry_backoff_max", "total_timeout", "user_agent",
})
# Names that the generated modules define or import beside the spec's classes: a schema
# never gets one of them as its class name.
MODULE_NAMES = frozenset({
    "API_VERSION", "NOT_GIVEN", "NotGiven", "RequestContext", "ServiceError", "Model",
    "FieldError", "ValidationError", "ASGIApp", "Authenticator", "Scope", "Message", "Receive",
    "Send", "Mapping", "MutableMapping", "Awaitable", "Callable", "Iterable", "Sequence", "Any",
    "TracebackType", "HTTPStatus", "TYPE_CHECKING", "USER_AGENT", "DEFAULT_TIMEOUT",
})


def _ascii_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words: list[str] = []
    for chunk in _WORD_BOUNDARY.split(text):
        words += [w for w in _CAMEL_SPLIT.split(chunk) if w]
    return words


def snake_case(text: str) -> str:
    """A lower-case identifier: `api-version` -> `api_version`, `class` -> `class_`."""
    name = "_".join(w.lower() for w in _ascii_words(text)) or "value"
    if name[0].isdigit():
        name = "n_" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name += "_"
    return name


def pascal_case(text: str) -> str:
    """A class name: `Azure.Core.Foundations.Error` -> `AzureCoreFoundationsError`."""
    name = "".join(w[:1].upper() + w[1:] for w in _ascii_words(text)) or "Model"
    if name[0].isdigit():
        name = "N" + name
    if keyword.iskeyword(name):
        name += "_"
    return name


def constant_case(text: str) -> str:
    """An enum member name: `pass-through` -> `PASS_THROUGH`."""
    name = "_".join(w.upper() for w in _ascii_words(text)) or "EMPTY"
    if name[0].isdigit():
        name = "V_" + name
    if keyword.iskeyword(name):
        name += "_"
    return name


def client_names(class_prefix: str) -> frozenset[str]:
    """The public class names a package derives from its prefix (`ModelInferenceClient`, ...)."""
    return frozenset({f"{class_prefix}Client", f"Async{class_prefix}Client",
                      f"{class_prefix}Service"})


def unique(candidate: str, taken: set[str]) -> str:
    """`candidate`, or `candidate_2`, `candidate_3`, ... : the first not in `taken` (which it joins)."""
    name = candidate
    counter = 2
    while name in taken:
        name = f"{candidate}_{counter}" if not candidate.endswith("_") else f"{candidate}{counter}"
        counter += 1
    taken.add(name)
    return name


def definition_names(spec_names: list[str], reserved: set[str]) -> dict[str, str]:
    """Python class names for schema names.

    A dotted namespace (`Azure.Core.Foundations.Error`) is dropped when the last segment alone
    is unique and free, so the public names read as the API documents them (`ErrorResponse`).
    Collisions get a numeric suffix in spec-name order, which is deterministic.
    """
    short = {name: pascal_case(name.rsplit(".", 1)[-1]) for name in spec_names}
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    taken = set(reserved)
    result: dict[str, str] = {}
    for name in sorted(spec_names):
        candidate = short[name]
        if counts[candidate] > 1 or candidate in reserved:
            candidate = pascal_case(name)
        result[name] = unique(candidate, taken)
    return result


# A package name is a directory name (at most 255 bytes on common file systems), with a
# prefix and suffix added while it is written: longer names end in a hash of the whole.
MAX_MODULE_NAME = 100


def module_name(text: str) -> str:
    name = snake_case(text)
    if len(name) <= MAX_MODULE_NAME:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"{name[:MAX_MODULE_NAME - 11].rstrip('_')}_{digest}"
