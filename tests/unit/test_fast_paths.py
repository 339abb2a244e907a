"""The fast paths of load and validate against the exact ones they stand in for.

load builds data without pointers and finds positions on demand (the exact builder records
them all); validate asks jsonschema-rs before jsonschema (generator/fast_validation.py). Each
must give exactly the same data, positions and diagnostics as the slow path, on every spec and
bad spec in the repository and on seeded random mutations of the real specs.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from generator import fast_validation
from generator import load as load_module
from generator import validate as validate_module
from generator.diagnostics import SpecError, join_pointer
from generator.load import load
from generator.validate import validate
from tests.conftest import ROOT

SPECS = sorted(
    p for folder in ("spec", "tests/bad_specs", "tests/bad_specs/parts", "tests/hostile",
                     "tests/upstream/specs")
    for p in (ROOT / folder).glob("*") if p.suffix in (".yaml", ".yml", ".json"))


def _loaded(path: Path) -> load_module.LoadedSpec | None:
    try:
        return load(path)
    except SpecError:
        return None


# Files that fail to load (the loader's own bad-spec kinds) never reach validation.
LOADABLE = [p for p in SPECS if _loaded(p) is not None]


def _diagnostics(spec: load_module.LoadedSpec) -> list[str]:
    validate_module._official_validator.cache_clear()
    return [f"{d.level} {d.format()}" for d in validate(spec)]


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """jsonschema alone decides every check."""
    monkeypatch.setattr(fast_validation, "spec_is_valid", lambda version, document: False)
    monkeypatch.setattr(fast_validation, "schema_object_is_valid", lambda version, schema: False)
    monkeypatch.setattr(fast_validation.Examples, "is_valid",
                        lambda self, uri, pointer, example: False)


def test_there_are_specs() -> None:
    assert len(SPECS) >= 40


@pytest.mark.parametrize("path", LOADABLE, ids=[p.name for p in LOADABLE])
def test_fast_and_full_validation_give_the_same_diagnostics(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _loaded(path)
    assert spec is not None
    fast = _diagnostics(spec)
    with monkeypatch.context() as patch:
        _slow(patch)
        assert _diagnostics(spec) == fast


@pytest.mark.parametrize("path", LOADABLE, ids=[p.name for p in LOADABLE])
def test_lazy_positions_are_the_exact_builders(path: Path) -> None:
    spec = _loaded(path)
    assert spec is not None
    for document in spec.documents.values():
        if not document.positions:
            continue  # JSON that only json.loads reads: no positions either way
        loader = load_module._Loader(document.path.read_bytes().decode("utf-8-sig"))
        try:
            builder = load_module._Builder(document.label)
            data = builder.build(loader.get_single_node(), "", loader)
        finally:
            loader.dispose()
        assert data == document.data
        assert dict(document.positions) == builder.positions
        for pointer in list(builder.positions)[:3000]:
            for extra in ("", "/nope", "/0", "/01", "/a~2b"):
                exact = builder.positions.get(pointer + extra)
                assert document.positions.get(pointer + extra) == exact
                assert (pointer + extra in document.positions) == (exact is not None)


def test_load_reports_exactly_what_the_exact_builder_does(tmp_path: Path) -> None:
    cases = {
        "dup.yaml": "a: 1\nb: {c: 1, c: [1, 2]}\na: 2\n",
        "rec.yaml": "a: &x [1, {b: *x}]\n",
        "key.yaml": "a:\n  ? [1]\n  : 2\n",
        "merge.yaml": "base: &b {x: 1, 'a/b': [1, {e: 3}]}\nm: {<<: *b, y: 2, 200: ok, "
                      "true: t, ~: n, 2001-12-14: d, '01': z}\nl: [*b, !!str 12, 2020-01-01]\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        loader = load_module._Loader(text)
        try:
            builder = load_module._Builder(name)
            data = builder.build(loader.get_single_node(), "", loader)
        finally:
            loader.dispose()
        try:
            document = load_module._read_document(path, name)
        except SpecError as exc:
            assert list(exc.diagnostics) == builder.diagnostics
            continue
        assert not builder.diagnostics
        assert document.data == data
        assert dict(document.positions) == builder.positions


# Every keyword the 2020-12 metaschema constrains, and some it leaves free.
_KEYWORDS = [
    "$id", "$schema", "$ref", "$dynamicRef", "$anchor", "$dynamicAnchor", "$vocabulary",
    "$comment", "$defs", "prefixItems", "allOf", "anyOf", "oneOf", "items", "contains",
    "additionalProperties", "propertyNames", "if", "then", "else", "not", "properties",
    "patternProperties", "dependentSchemas", "unevaluatedItems", "unevaluatedProperties",
    "type", "const", "enum", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "maxItems", "minItems", "maxContains",
    "minContains", "maxProperties", "minProperties", "pattern", "uniqueItems", "required",
    "dependentRequired", "title", "description", "default", "deprecated", "readOnly",
    "writeOnly", "examples", "format", "contentEncoding", "contentMediaType", "contentSchema",
    "definitions", "dependencies", "$recursiveAnchor", "$recursiveRef",
    "nullable", "discriminator", "x-a"]


def _random_schema(rng: random.Random, depth: int = 0) -> Any:
    keywords = _KEYWORDS
    values: list[Any] = [0, 1, -1, 1.0, 1.5, True, False, None, "", "a", "string", "null",
                         "#", "a#", "a#b", "_x", "1x", "x\n", [], {}, ["a"], ["a", "a"],
                         ["string", "null"], ["string", "string"], [1], b"x"]
    if rng.random() < 0.05:
        return rng.choice([True, False])
    schema: dict[str, Any] = {}
    for _ in range(rng.randint(0, 4)):
        keyword = rng.choice(keywords)
        if depth < 3 and keyword in ("properties", "$defs", "patternProperties",
                                     "dependentSchemas", "definitions") and rng.random() < .6:
            schema[keyword] = {n: _random_schema(rng, depth + 1) for n in "ab"[:rng.randint(0, 2)]}
        elif depth < 3 and keyword in ("allOf", "anyOf", "oneOf", "prefixItems") and \
                rng.random() < .6:
            schema[keyword] = [_random_schema(rng, depth + 1) for _ in range(rng.randint(0, 2))]
        elif depth < 3 and rng.random() < .3:
            schema[keyword] = _random_schema(rng, depth + 1)
        else:
            schema[keyword] = rng.choice(values)
    return schema


def test_the_metaschema_check_agrees_with_jsonschema() -> None:
    rng = random.Random(7)
    validator = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    accepted = 0
    for _ in range(4000):
        schema = _random_schema(rng)
        fast = fast_validation.schema_object_is_valid("3.1", schema)
        valid = next(iter(validator.iter_errors(schema)), None) is None
        if fast:
            assert valid, schema
        elif valid:
            # The one class where jsonschema-rs refuses what jsonschema accepts: Python's `$`
            # matches before a final newline ($anchor's pattern); then jsonschema decides.
            assert "\\n'" in repr(schema), schema
        accepted += fast
    assert accepted > 500


_MUTATION_VALUES: list[Any] = [
    None, True, False, 0, 1, 2.5, 1.0, "", "x", "x-a", "query", "path", "header", "form",
    "simple", "200", "2XX", "default", "/a", "#/components/schemas/X", [], [1], ["a"], {},
    {"a": 1}, {"$ref": "#/x"}, {"type": "string"}, {"x-y": 1}]
_MUTATION_KEYS = [
    "x-a", "$ref", "description", "schema", "content", "required", "in", "name", "style",
    "explode", "example", "examples", "value", "type", "properties", "foo", "responses",
    "parameters", "requestBody", "operationId", "servers", "url", "default", "enum", "items",
    "headers", "security", "allowReserved", "encoding", "flows", "200", "4XX", "/p", "get"]


def _containers(value: Any, found: list[Any]) -> list[Any]:
    if isinstance(value, (dict, list)):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


def _mutate(rng: random.Random, data: Any) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        containers = _containers(data, [])
        target = rng.choice(containers)
        value = copy.deepcopy(rng.choice(_MUTATION_VALUES))
        if isinstance(target, dict):
            if target and rng.random() < 0.5:
                key = rng.choice(list(target))
                if rng.random() < 0.3:
                    del target[key]
                else:
                    target[key] = value
            else:
                target[rng.choice(_MUTATION_KEYS)] = value
        elif target:
            target[rng.randrange(len(target))] = value
    return data


@pytest.mark.parametrize(("version", "names"), [
    ("3.1", ("spec/2024-05-01-preview.yaml", "spec/2024-04-01-preview.yaml",
             "tests/upstream/specs/features-3.1.yaml")),
    ("3.0", ("tests/upstream/specs/features-3.0.yaml",)),
])
def test_the_fast_official_check_agrees_with_jsonschema_on_mutated_specs(
        version: str, names: tuple[str, ...]) -> None:
    rng = random.Random(11)
    official = validate_module._official_validator(version)
    specs = [load(ROOT / name).root.data for name in names]
    valid_ones = 0
    for _ in range(400):
        data = _mutate(rng, rng.choice(specs))
        valid = next(iter(official.iter_errors(data)), None) is None
        assert fast_validation.spec_is_valid(version, data) == valid
        valid_ones += valid
    assert 40 < valid_ones < 400


def test_the_fast_example_check_agrees_with_jsonschema_on_mutated_examples(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    for name in ("2024-05-01-preview.yaml", "2024-04-01-preview.yaml"):
        spec = load(ROOT / "spec" / name)
        media = list(validate_module._iter_media(spec.root.data))
        for _ in range(60):
            pointer, item = rng.choice(media)
            examples = item.get("examples") or {}
            if "schema" not in item or not examples:
                continue
            key = rng.choice(list(examples))
            original = examples[key]
            if not isinstance(original, dict) or "value" not in original:
                continue
            value = original["value"]
            if isinstance(value, (dict, list)) and value and rng.random() < 0.8:
                value = _mutate(rng, value)
            else:
                value = copy.deepcopy(rng.choice(_MUTATION_VALUES))
            examples[key] = {**original, "value": value}
            try:
                fast = [d.format() for d in validate_module._examples_3_1(spec)]
                with monkeypatch.context() as patch:
                    _slow(patch)
                    assert [d.format() for d in validate_module._examples_3_1(spec)] == fast, \
                        join_pointer(pointer, "examples", key)
            finally:
                examples[key] = original


# ---- JSON read by JSON's parser (load._read_json) against the YAML way ---------------------

def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(JSON way, YAML way): each a Document or the SpecError's diagnostics."""
    def read() -> Any:
        try:
            return load_module._read_document(path, path.name)
        except SpecError as exc:
            return list(exc.diagnostics)
    fast = read()
    with monkeypatch.context() as patch:
        patch.setattr(load_module, "_read_json", lambda text: load_module._ANOMALY)
        slow = read()
    return fast, slow


def _same_document(fast: Any, slow: Any, pointers: list[str], *, same_data: bool = True) -> None:
    if isinstance(slow, list):
        assert fast == slow
        return
    assert isinstance(fast, load_module.Document)
    if same_data:
        assert fast.data == slow.data
        assert repr(fast.data) == repr(slow.data)  # 1 and 1.0, True and 1 told apart
    for pointer in pointers:
        for extra in ("", "/nope", "/0", "/01", "/a~2b", "/-1"):
            assert fast.positions.get(pointer + extra) == slow.positions.get(pointer + extra), (
                pointer + extra)


JSON_TEXTS = {
    "plain": '{"a": [1, 2.5, -0, 1e0, 7E-1, true, null, "x\\/y\\u00e9"], "b": {"c": {}}}',
    "spaces": '  \n {"a" : { "b" :[ 1 ,\t2 ] } ,\n\t"c":"d"}\n',
    "bom and crlf": '\ufeff{"a": 1,\r\n "b": [2]}',
    "separators": '{"a": "x\u2028y", "b": "\x85", "c": [1],\n "d": "\u2029", "e": 2}',
    "fffe": '{"a": "x\ufffey",\n "b": {"c": 1}}',
    "duplicate": '{"a": 1,\n "b": {"c": 1, "c": 2}}',
    "long integer": '{"a": ' + "9" * 4001 + "}",
    "integer of 4000 digits": '{"a": ' + "9" * 4000 + "}",
    "nan": '{"a": NaN}',
    "surrogate pair": '{"a": "\\ud83d\\ude00"}',
    "lone surrogate": '{"a": "\\ud800"}',
    "100 deep": '{"a": ' + "[" * 99 + "]" * 99 + "}",
    "101 deep": '{"a": ' + "[" * 100 + "]" * 100 + "}",
    "not an object": "[1, 2]",
    "broken": '{"a": [1, 2}',
    "control character": '{"a": "x\x01y"}',
    "escaped keys": '{"a/b": {"~c": [{"": 1}]}}',
}


@pytest.mark.parametrize("name", list(JSON_TEXTS))
def test_json_read_as_json_is_what_yaml_reads(name: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "spec.json"
    path.write_text(JSON_TEXTS[name], encoding="utf-8")
    fast, slow = _both_ways(path, monkeypatch)
    pointers = list(slow.positions) if isinstance(slow, load_module.Document) else []
    if name == "separators":
        # YAML folds a NEL inside a quoted string into a space; JSON keeps the character.
        assert slow.data["b"] == " "
        assert fast.data == json.loads(JSON_TEXTS[name])
        _same_document(fast, slow, pointers, same_data=False)
        return
    _same_document(fast, slow, pointers)


CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent (the public specs "
                    "live beside the repository, not in it)")
def test_corpus_json_read_as_json_is_what_yaml_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    files = sorted(p for p in CORPUS.glob("*.json") if p.stat().st_size < 1_500_000)
    assert files
    for path in files:
        fast, slow = _both_ways(path, monkeypatch)
        assert isinstance(slow, load_module.Document)
        pointers = list(slow.positions)
        _same_document(fast, slow, rng.sample(pointers, min(400, len(pointers))))
