"""Validation's one fast path: jsonschema-rs says whether a spec is valid; validate.py asks
jsonschema why only when it is not.

jsonschema (pure Python) explains an error well: the error tree under a oneOf, the branch
that fits best, a message users know. But it is slow: the official OpenAPI 3.0 schema over
Jira's 1.8 MB spec takes 1.6 s, and importing it with referencing 0.05 s. jsonschema-rs (Rust)
checks the same spec against the same schema in 16 ms (compiled in 8 ms; every spec of the
33-spec corpus in at most 25 ms), and imports in 15 ms. So each check runs here first, and
only a "no" (or anything this module cannot answer) goes to jsonschema, whose errors are the
diagnostics: every diagnostic's text and place is jsonschema's, as before.

Where the two engines could disagree (tests/unit/test_fast_validation.py holds a case of each):
- patterns: jsonschema-rs uses fancy-regex, with a backtrack limit, so it never hangs (a
  pattern over the limit is a "no", and the explanation uses validate's time-bounded `regex`
  search); `$` does not match before a final newline, as in ECMA-262 (Python's does).
- floats: jsonschema-rs finds 0.3 a multiple of 0.1; jsonschema's float division does not.
- formats are annotations in both (not asserted); integers of any size are compared exactly
  by both; `true` is not `1` in either (enum, const, uniqueItems).
When jsonschema-rs says "no" and jsonschema finds nothing, there is no diagnostic; when
jsonschema-rs says "yes", jsonschema is not asked. So a diagnostic needs both engines to see a
problem: an example is reported only when both find it wrong.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs

# fancy-regex, bounded: a pattern that backtracks past this many steps is a "no" (then the
# explanation, with its time limit, says what it can), so no spec's pattern makes a check hang.
_PATTERNS = jsonschema_rs.FancyRegexOptions(backtrack_limit=1_000_000)


def _compile(schema: Any, registry: jsonschema_rs.Registry | None = None) -> Any:
    # offline: a spec's `$ref` to a URL is never fetched (validate reports it unresolved).
    return jsonschema_rs.validator_for(schema, validate_formats=False, offline=True,
                                       pattern_options=_PATTERNS, registry=registry)


@functools.cache
def official_schema(version: str) -> dict[str, Any]:
    """The official JSON Schema of OpenAPI 3.1, 3.0 or Swagger 2.0 (as openapi-spec-validator
    ships it)."""
    folder = {"3.1": "v3.1", "3.0": "v3.0", "2.0": "v2.0"}[version]
    # Performance: find the package's files without importing it (importing
    # openapi_spec_validator pulls in its own validators: 0.15 s of a 0.5 s run).
    found = importlib.util.find_spec("openapi_spec_validator")
    locations = found.submodule_search_locations if found is not None else None
    if locations:
        files: Any = Path(next(iter(locations))) / "resources" / "schemas" / folder
    else:  # pragma: no cover - a zipped install
        files = resources.files("openapi_spec_validator") / "resources" / "schemas" / folder
    schema: dict[str, Any] = json.loads((files / "schema.json").read_text("utf-8"))
    return schema


def schema_object_schema(version: str) -> dict[str, Any]:
    """What one Schema Object must be: the 2020-12 metaschema (3.1), else the official
    schema's own Schema definition."""
    if version == "3.1":
        return {"$ref": "https://json-schema.org/draft/2020-12/schema"}
    official = official_schema(version)
    definitions = official.get("definitions") or official.get("$defs") or {}
    name = "Schema" if "Schema" in definitions else "schema"
    key = "definitions" if "definitions" in official else "$defs"
    return {**{k: v for k, v in official.items() if k not in (
        "properties", "required", "patternProperties", "additionalProperties")},
        "$ref": f"#/{key}/{name}"}


@functools.cache
def _official(version: str) -> Any:
    return _compile(official_schema(version))


@functools.cache
def _schema_object(version: str) -> Any:
    return _compile(schema_object_schema(version))


def _valid(validator: Any, instance: Any) -> bool:
    try:
        return bool(validator.is_valid(instance))
    except (KeyboardInterrupt, SystemExit):
        raise
    # A value it cannot read (NaN, say), or a panic in the Rust code (pyo3 raises those as a
    # BaseException): not a "yes", so jsonschema decides.
    except BaseException:  # noqa: BLE001
        return False


def spec_is_valid(version: str, document: Any) -> bool:
    """Whether the official schema of `version` certainly accepts the document."""
    return _valid(_official(version), document)


def schema_object_is_valid(version: str, schema: Any) -> bool:
    """Whether a Schema Object of an OpenAPI `version` document is certainly well formed."""
    return _valid(_schema_object(version), schema)


class Examples:
    """Examples checked against schemas of a spec's documents (`$ref`s between them work)."""

    def __init__(self, documents: Iterable[tuple[str, Any]]) -> None:
        """`documents`: (URI, data) of every document of the spec."""
        self._documents = list(documents)
        self._registry: Any = None
        self._validators: dict[str, Any] = {}

    def is_valid(self, uri: str, pointer: str, example: Any) -> bool:
        """Whether `example` certainly fits the schema at `pointer` of the document `uri`."""
        key = f"{uri}#{quote(pointer, safe='/~')}"
        validator = self._validators.get(key)
        if validator is None:
            try:
                if self._registry is None:
                    self._registry = jsonschema_rs.Registry(
                        self._documents, draft=jsonschema_rs.Draft202012)
                validator = _compile({"$ref": key}, self._registry)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: BLE001 -- what it cannot compile: jsonschema decides
                validator = False
            self._validators[key] = validator
        return validator is not False and _valid(validator, example)
