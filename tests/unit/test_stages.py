"""One stage at a time, on tiny inline specs: load, validate, lower, render, write."""

from __future__ import annotations

import ast
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
