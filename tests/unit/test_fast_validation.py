"""jsonschema-rs as validation's fast path (generator/fast_validation.py): where it and
jsonschema could disagree, what the generator reports.

A diagnostic needs both engines to find a problem: jsonschema-rs decides "valid", jsonschema
explains the rest. Each class of possible disagreement has a case here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from generator import fast_validation
from generator.load import load
from generator.validate import validate


def _spec(tmp_path: Path, schema: str, example: str, path: str = "/x/{id}") -> Path:
    text = f"""openapi: 3.1.0
info: {{title: T, version: '1'}}
paths:
  '{path}':
    post:
      operationId: op
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: string}}}}
      requestBody:
        content:
          application/json:
            schema: {schema}
            example: {example}
      responses:
        '200': {{description: ok}}
x-defs:
  'A b é': {{type: object, properties: {{n: {{type: integer}}}}, required: [n]}}
"""
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    return spec


def _codes(spec: Path) -> list[str]:
    return [d.code for d in validate(load(spec))]


def _fast_answer(spec: Path) -> bool:
    """jsonschema-rs's own answer on the spec's one example."""
    loaded = load(spec)
    path = next(iter(loaded.root.data["paths"]))
    media = loaded.root.data["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    examples = fast_validation.Examples([(loaded.root.path.as_uri(), loaded.root.data)])
    pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1") + (
        "/post/requestBody/content/application~1json/schema")
    return examples.is_valid(loaded.root.path.as_uri(), pointer, media["example"])


CASES: list[tuple[str, str, str, bool, list[str]]] = [
    # (case, schema, example, jsonschema-rs's answer, codes reported)
    ("a valid example", "{type: string, pattern: '^a+$'}", "aaa", True, []),
    ("a wrong type", "{type: string}", "1", False, ["E130"]),
    # Python's `$` matches before a final newline, ECMA-262's (and jsonschema-rs's) does not:
    # jsonschema finds no error, so none is reported.
    ("$ before a final newline", "{type: string, pattern: '^a$'}", '"a\\n"', False, []),
    # jsonschema-rs reads \p{L} (ECMA-262); Python's re cannot: the example is checked.
    ("an ECMA-262 class", "{type: string, pattern: '^\\p{L}+$'}", "abc", True, []),
    # jsonschema divides floats: 0.3 / 0.1 is not a whole number to it, but is to
    # jsonschema-rs. jsonschema-rs says valid, so nothing is reported.
    ("a float multipleOf", "{type: number, multipleOf: 0.1}", "0.3", True, []),
    # Integers of any size are compared exactly by both.
    ("a big integer over", "{type: integer, maximum: 18446744073709551616}",
     "18446744073709551617", False, ["E130"]),
    ("a big integer at", "{type: integer, maximum: 18446744073709551616}",
     "18446744073709551616", True, []),
    # true is not 1 in JSON Schema, in either engine.
    ("bool is not an integer", "{type: integer}", "true", False, ["E130"]),
    ("bool is not in an enum of 1", "{enum: [1]}", "true", False, ["E130"]),
    ("false is not const 0", "{const: 0}", "false", False, ["E130"]),
    ("1.0 is an integer", "{type: integer}", "1.0", True, []),
    # Formats are annotations in both.
    ("a format is not asserted", "{type: string, format: email}", "x", True, []),
    # NaN is no JSON value: jsonschema-rs cannot read it; jsonschema decides (a number).
    ("NaN", "{type: number}", ".nan", False, []),
    ("a $ref to a schema with an odd name", "{$ref: '#/x-defs/A%20b%20%C3%A9'}",
     "{n: 1}", True, []),
    ("a $ref, wrong", "{$ref: '#/x-defs/A%20b%20%C3%A9'}", "{n: x}", False,
     ["E130"]),
]


@pytest.mark.parametrize(("schema", "example", "fast", "codes"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_what_is_reported_where_the_engines_could_disagree(
        tmp_path: Path, schema: str, example: str, fast: bool, codes: list[str]) -> None:
    spec = _spec(tmp_path, schema, example, path="/pets/{id} ü")
    assert _fast_answer(spec) is fast
    assert _codes(spec) == codes


@pytest.mark.parametrize("pattern", ["^(a|a)+$", "^(a+)+$", "^(a|a)+(?=!)b$", "^(a+)+\\1$"])
def test_patterns_that_backtrack_are_bounded(tmp_path: Path, pattern: str) -> None:
    """The regex crate runs the plain ones in linear time; fancy-regex stops the ones with a
    lookahead or a backreference at its backtrack limit (a "no": validate's time-bounded
    search then explains, or warns W132)."""
    spec = _spec(tmp_path, f"{{type: string, pattern: '{pattern}'}}", '"' + "a" * 40 + '!"')
    started = time.monotonic()
    assert _fast_answer(spec) is False
    assert time.monotonic() - started < 2
    codes = _codes(spec)
    assert codes in (["E130"], ["W132"])
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(("version", "document", "valid"), [
    ("3.0", {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}, True),
    ("3.0", {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
             "components": {"schemas": {"A": {"minLength": True}}}}, False),
    # Draft 4 (OpenAPI 3.0's schema): 1.0 is no integer, in either engine.
    ("3.0", {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
             "components": {"schemas": {"A": {"minLength": 1.0}}}}, False),
    ("3.0", {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
             "components": {"schemas": {"A": {"minLength": 1, "format": "nonsense"}}}},
     True),
    ("2.0", {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}, True),
    ("2.0", {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"x": {}}},
     False),
    ("3.1", {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}, True),
    ("3.1", {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
             "paths": {"/a": {"get": {"responses": {"2000": {"description": "ok"}}}}}}, False),
    ("3.1", {"openapi": "3.1.0", "info": {"title": "t", "version": float("nan")}}, False),
])
def test_the_official_schemas(version: str, document: Any, valid: bool) -> None:
    assert fast_validation.spec_is_valid(version, document) is valid


def test_a_valid_spec_does_not_import_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = _spec(tmp_path, "{type: string}", "a")
    code = ("import sys\nfrom generator.load import load\nfrom generator.validate import "
            "validate\nassert validate(load(sys.argv[1])) == []\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('jsonschema', 'referencing')))")
    result = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_failure_inside_jsonschema_rs_is_not_a_yes() -> None:
    class Panic(BaseException):  # what pyo3 raises for a panic in the Rust code
        pass

    class Failing:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def is_valid(self, instance: object) -> bool:
            raise self.error

    assert fast_validation._valid(Failing(Panic("boom")), {}) is False
    assert fast_validation._valid(Failing(ValueError("NaN")), {}) is False
    with pytest.raises(KeyboardInterrupt):
        fast_validation._valid(Failing(KeyboardInterrupt()), {})
