"""One stage at a time, on tiny inline specs: load, validate, lower, render, write."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from generator import ir
from generator.diagnostics import SpecError
from generator.load import load
from generator.lower import lower
from generator.naming import definition_names, snake_case, unique
from generator.render import docstring, render
from generator.validate import validate
from generator.write import write
from tests.conftest import ROOT

MINIMAL = """\
openapi: 3.1.0
info: {title: Tiny, version: '1'}
paths:
  /things/{id}:
    post:
      operationId: MakeThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: api-version, in: query, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1}
        children: {type: array, items: {$ref: '#/components/schemas/Thing'}}
        class: {type: [integer, 'null']}
        kind: {type: string, enum: [a, b]}
"""


def test_load_records_positions_and_hash(write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = load(write_spec(MINIMAL))
    assert spec.root.locate("/components/schemas/Thing/properties/name") == (27, 15)
    assert spec.root.locate("/components/schemas/Thing/properties/name/type") == (27, 22)
    assert spec.root.locate("/components/schemas/Thing/properties/name/nope") == (27, 15)
    assert len(spec.root.sha256) == 64
    assert spec.root.source_name == "spec/api.yaml"


@pytest.mark.parametrize(("text", "code"), [
    ("a: [\n", "E003"), ("- 1\n- 2\n", "E004"), ("", "E004"), ("a: 1\na: 2\n", "E006"),
])
def test_load_rejects(write_spec, text: str, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as caught:
        load(write_spec(text))
    assert caught.value.diagnostics[0].code == code


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load(tmp_path / "absent.yaml")
    assert caught.value.diagnostics[0].format().endswith("absent.yaml #: E001 file not found")


def test_validate_collects_every_problem(write_spec) -> None:  # type: ignore[no-untyped-def]
    text = MINIMAL.replace("minLength: 1", "minLength: -1").replace(
        "/things/{id}", "/things/{thing}").replace("#/components/schemas/Thing'}}",
                                                    "#/components/schemas/Thin'}}")
    problems = validate(load(write_spec(text)))
    codes = sorted(d.code for d in problems)
    assert codes == ["E021", "E101", "E111", "E112"], [d.format() for d in problems]
    assert all(d.line for d in problems)


def test_lower_builds_the_ir(write_spec) -> None:  # type: ignore[no-untyped-def]
    api = lower(load(write_spec(MINIMAL)))
    [thing] = api.definitions
    assert isinstance(thing, ir.Model) and thing.py_name == "Thing"
    by_wire = {p.name: p for p in thing.properties}
    assert by_wire["class"].py_name == "class_"  # a keyword, renamed; the wire name is kept
    assert by_wire["class"].type == ir.UnionType(variants=(
        ir.PrimitiveType(kind="integer"), ir.PrimitiveType(kind="null")))
    assert by_wire["children"].type == ir.ArrayType(items=ir.NamedType(name="Thing"))
    assert by_wire["kind"].type == ir.LiteralType(values=("a", "b"))
    assert by_wire["name"].required and by_wire["name"].type.min_length == 1  # type: ignore[union-attr]
    [op] = api.operations
    assert (op.py_name, op.method, op.path) == ("make_thing", "POST", "/things/{id}")
    assert [(p.py_name, p.role) for p in op.parameters] == [("id", "plain"),
                                                             ("api_version", "api_version")]
    assert api.package == "tiny_1"
    assert thing.pointer == "/components/schemas/Thing"


@pytest.mark.parametrize(("given", "expected"), [
    (None, "Tiny"), ("OpenAIEmbeddings", "OpenAIEmbeddings"),
    ("not-an-identifier", "Tiny"), ("lowerCase", "Tiny"), (7, "Tiny")])
def test_class_prefix_from_the_spec(write_spec, given: object, expected: str) -> None:  # type: ignore[no-untyped-def]
    text = MINIMAL if given is None else MINIMAL.replace(
        "info: {title: Tiny, version: '1'}", f"info: {{title: Tiny, version: '1', "
        f"x-codegen-class-prefix: {given}}}")
    assert given is None or text != MINIMAL
    api = lower(load(write_spec(text)))
    assert (api.class_prefix, api.package) == (expected, "tiny_1")


def test_naming() -> None:
    assert snake_case("api-version") == "api_version"
    assert snake_case("2fast") == "n_2fast"
    assert snake_case("GetImageEmbeddings") == "get_image_embeddings"
    assert snake_case("import") == "import_"
    taken: set[str] = set()
    assert [unique("a", taken) for _ in range(3)] == ["a", "a_2", "a_3"]
    names = definition_names(["Azure.Core.Foundations.Error", "Other.Error", "Thing"], set())
    assert names == {"Azure.Core.Foundations.Error": "AzureCoreFoundationsError",
                     "Other.Error": "OtherError", "Thing": "Thing"}
    assert definition_names(["Azure.Core.Foundations.ErrorResponse"], set()) == {
        "Azure.Core.Foundations.ErrorResponse": "ErrorResponse"}


@pytest.mark.parametrize("text", [
    'ends with a quote"', '"""; import os; os.system("x"); """', "back\\slash\\",
    "tab\tand\x00nul", "{{ jinja }} {% if %}", "line one\nline two\n\nthree", "'''",
])
def test_docstring_holds_any_text(text: str) -> None:
    literal = docstring(text)
    tree = ast.parse(f"def f():\n    {literal}\n")
    assert ast.get_docstring(tree.body[0], clean=False).replace("\n    ", "\n").rstrip() \
        == "\n".join(line.rstrip() for line in text.split("\n")).rstrip()  # type: ignore[union-attr]
    assert len(tree.body) == 1 and len(tree.body[0].body) == 1  # type: ignore[attr-defined]


def test_render_compiles_and_write_replaces_atomically(write_spec, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    files = render(lower(load(write_spec(MINIMAL))))
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    out = tmp_path / "out"
    write(files, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    changed = {path: text + "# changed\n" for path, text in files.items()}

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    import generator.write as write_module

    monkeypatch.setattr(write_module.shutil, "copy2", broken)
    (out / "tiny_1" / "_patch.py").write_text("__all__: list[str] = []\n")
    before[out / "tiny_1" / "_patch.py"] = b"__all__: list[str] = []\n"
    with pytest.raises(OSError):
        write(changed, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


# ---- any valid spec: shapes, names, determinism ------------------------------------------

FEATURES = ROOT / "tests" / "upstream" / "specs"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_lowering_polymorphism_nullables_maps_and_names() -> None:
    api = lower(load(FEATURES / "features-2.0.yaml"))
    by_name = {d.name: d for d in api.definitions}
    shape, circle, square = by_name["Shape"], by_name["Circle"], by_name["Square"]
    assert isinstance(shape, ir.Model) and isinstance(circle, ir.Model)
    assert shape.discriminator == ir.Discriminator(
        property="kind", mapping=(("Square", "Square"), ("circle", "Circle")))
    assert circle.discriminator_value == ("kind", "circle")  # x-ms-discriminator-value
    assert isinstance(square, ir.Model) and square.discriminator_value == ("kind", "Square")
    assert circle.properties[0].type == ir.LiteralType(values=("circle",))
    tree = by_name["Tree"]
    assert isinstance(tree, ir.Model)
    assert tree.properties[2].type == ir.UnionType(variants=(  # x-nullable through allOf
        ir.NamedType(name="Tree"), ir.PrimitiveType(kind="null")))
    options = by_name["EmbeddingsOptions"]
    assert isinstance(options, ir.Model)
    assert [(p.name, p.py_name) for p in options.properties][-1] == ("user-Id", "user_name")
    assert options.properties[2].type == ir.NamedType(name="EncodingFormat")  # x-ms-enum name
    encoding = by_name["EncodingFormat"]
    assert isinstance(encoding, ir.Enum) and encoding.open
    assert [m.py_name for m in encoding.members] == ["FLOAT", "BASE64"]
    file_ = by_name["File"]
    assert isinstance(file_, ir.Model)
    assert file_.properties[1].type == ir.MapType(values=ir.PrimitiveType(kind="string"))
    put = next(op for op in api.operations if op.operation_id == "PutDrawing")
    assert [(p.name, p.py_name) for p in put.parameters] == [
        ("drawing-id", "drawing_name"), ("api-version", "api_version")]


def test_output_does_not_depend_on_key_order(tmp_path: Path) -> None:
    """Reordering mappings whose order means nothing (schemas, paths, responses) changes
    nothing but the spec's own hash in the headers."""
    import yaml

    outputs = []
    for order in ("as written", "reversed"):
        folder = tmp_path / order / "specs"
        folder.mkdir(parents=True)
        shutil.copy(FEATURES / "common.yaml", folder / "common.yaml")
        data = yaml.safe_load((FEATURES / "features-3.1.yaml").read_text(encoding="utf-8"))
        if order == "reversed":
            data = dict(reversed(data.items()))
            data["paths"] = dict(reversed(data["paths"].items()))
            schemas = data["components"]["schemas"]
            data["components"]["schemas"] = dict(reversed(schemas.items()))
            for item in data["components"]["pathItems"].values():
                for op in item.values():
                    op["responses"] = dict(reversed(op["responses"].items()))
        (folder / "features-3.1.yaml").write_text(json.dumps(data), encoding="utf-8")
        files = render(lower(load(folder / "features-3.1.yaml")))
        outputs.append({path: re.sub(r"sha256:[0-9a-f]{64}", "sha256:-", text)
                        for path, text in files.items()})
    assert outputs[0] == outputs[1]


def test_output_does_not_depend_on_hash_seed_or_working_directory(tmp_path: Path) -> None:
    specs = [FEATURES / "features-3.0.yaml", ROOT / "tests" / "hostile" / "hostile.json",
             ROOT / "tests" / "hostile" / "hostile-swagger.json"]
    trees = []
    for seed, cwd in (("0", ROOT), ("4242", tmp_path), ("77", FEATURES)):
        out = tmp_path / f"out-{seed}"
        argv = [sys.executable, "-m", "generator", "generate", "--lenient", "--out", str(out)]
        for spec in specs:  # --lenient: hostile.json has a string default on an integer
            argv += ["--spec", os.path.relpath(spec, cwd)]
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                            "PYTHONHASHSEED": seed})
        trees.append(_tree(out))
    assert trees[0] == trees[1] == trees[2]
    assert len(trees[0]) >= 24


def test_template_bytecode_cache_changes_nothing(tmp_path: Path) -> None:
    """A cold run writes Jinja's bytecode cache (under TMPDIR), a warm run reads it: the same
    bytes either way."""
    trees = []
    for run in ("cold", "warm"):
        out = tmp_path / run
        subprocess.run([sys.executable, "-m", "generator", "generate", "--out", str(out)],
                       cwd=ROOT, check=True, capture_output=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                            "TMPDIR": str(tmp_path)})
        trees.append(_tree(out))
    committed = {k: v for k, v in _tree(ROOT / "generated").items() if "__pycache__" not in k}
    assert trees[0] == trees[1] == committed
    cached = list(tmp_path.glob("_jinja2-cache-*/__embeddings-codegen_*.cache"))
    assert len(cached) == len(list((ROOT / "generator" / "templates").glob("*.jinja")))


def test_cache_files_are_named_by_the_template_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import render as render_module

    before = render_module._bytecode_cache()
    monkeypatch.setitem(render_module._TEMPLATE_OPTIONS, "trim_blocks", False)
    after = render_module._bytecode_cache()
    assert before is not None and after is not None
    assert before.pattern != after.pattern  # compiled with other options: other files


def test_a_cache_that_cannot_be_written_only_costs_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2

    from generator import render as render_module

    def refuse(*args: object) -> None:
        raise PermissionError("read-only cache directory")

    api = lower(load(ROOT / "spec" / "2024-05-01-preview.yaml"))
    expected = render(api)
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", refuse)
    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "load_bytecode", refuse)
    render_module.environment.cache_clear()
    try:
        assert render(api) == expected
    finally:
        render_module.environment.cache_clear()


def test_lowering_grows_linearly() -> None:
    """Not a timing test: counts the work. Twice the schemas must not mean four times the
    calls of the lowering's busiest function."""
    import cProfile
    import pstats

    def calls(count: int) -> int:
        schemas = {f"S{i}": {"type": "object", "properties": {
            "next": {"$ref": f"#/components/schemas/S{(i + 1) % count}"},
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/S{i // 2}"}},
            "kind": {"type": "string", "enum": ["a", "b"]}}} for i in range(count)}
        paths = {f"/p{i}": {"post": {"operationId": f"op{i}", "requestBody": {"content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/S{i}"}}}},
            "responses": {"200": {"description": "ok"}}}} for i in range(count // 5)}
        spec = {"openapi": "3.1.0", "info": {"title": "Big", "version": "1"},
                "paths": paths, "components": {"schemas": schemas}}
        folder = Path(tempfile.mkdtemp())
        (folder / "big.json").write_text(json.dumps(spec), encoding="utf-8")
        loaded = load(folder / "big.json")
        profile = cProfile.Profile()
        profile.enable()
        lower(loaded)
        validate(loaded)
        profile.disable()
        shutil.rmtree(folder)
        return sum(stat[1] for stat in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]

    small, large = calls(250), calls(1000)
    assert large < small * 4 * 1.25, (small, large)  # 4x the spec, about 4x the work


@pytest.mark.parametrize("text", ['a\\"', 'a"', 'a\\\\"', '"""', 'x"""', 'a\\', 'q""',
                                  'end\\\\\\"', '"start', '\\'])
def test_docstring_round_trips_text_ending_in_quotes_and_backslashes(text: str) -> None:
    assert ast.literal_eval(docstring(text)) == text


def test_lowering_warnings_reach_the_caller(write_spec) -> None:  # type: ignore[no-untyped-def]
    from generator.cli import build_api

    text = MINIMAL.replace("name: {type: string, minLength: 1}",
                           "name: {type: string, minLength: 1, pattern: '^\\p{L}+$'}")
    _api, warnings = build_api(write_spec(text))
    assert [d.code for d in warnings] == ["W202"]


def test_the_header_hash_covers_files_reached_by_ref(write_spec) -> None:  # type: ignore[no-untyped-def]
    common = "components:\n  schemas:\n    Shared: {type: object, properties: {a: {type: string}}}\n"
    write_spec(common, "common.yaml")
    text = MINIMAL.replace("kind: {type: string, enum: [a, b]}",
                           "kind: {type: string, enum: [a, b]}\n        shared: {$ref: 'common.yaml#/components/schemas/Shared'}")
    spec = write_spec(text)
    first = lower(load(spec)).source.sha256
    write_spec(common.replace("type: string", "type: integer"), "common.yaml")
    assert lower(load(spec)).source.sha256 != first
