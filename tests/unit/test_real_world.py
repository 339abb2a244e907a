"""Shapes that public specs have and this project's own specs do not (issue 11): responses
typed from their schemas, specs without schemas, vendor extensions, stale discriminator
mappings, JSON Schema 2019-09 keywords. Each generated package must import and pass
mypy --strict and ruff."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.cli import main
from tests.conftest import generated_package

PETS = """
openapi: 3.0.3
info: {title: Pets, version: '1.0'}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        '200':
          description: all pets
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Pet'}}
    post:
      operationId: createPet
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses:
        '204': {description: 'created, no body'}
  /pets/count:
    get:
      operationId: countPets
      responses:
        '200':
          description: how many
          content:
            application/json:
              schema: {type: integer}
  /pets/raw:
    get:
      operationId: rawPets
      responses:
        default:
          description: anything
components:
  schemas:
    Pet:
      type: object
      required: [name]
      x-vendor-union:
        discriminator: {propertyName: nowhere}
      properties:
        name: {type: string}
        tag: {type: string}
"""


def _lint(out: Path, package: str) -> None:
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", "/dev/null", package], cwd=out, capture_output=True,
                          text=True, check=False)
    assert mypy.returncode == 0, mypy.stdout
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--line-length",
                           "100", package], cwd=out, capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout


def test_responses_are_typed_from_their_schemas(tmp_path: Path) -> None:
    with generated_package(PETS, tmp_path, "pets.yaml") as package:
        client_text = (tmp_path / "out" / package.__name__ / "client.py").read_text()
        assert "def list_pets(" in client_text
        assert ") -> list[_models.Pet]:" in client_text
        assert ") -> int:" in client_text
        assert ") -> None:" in client_text
        # with_raw_response's methods are derived (RawResponse[list[Pet]] for type checkers)
        assert "list_pets: _t.Final = RawMethod(PetsClient.list_pets)" in client_text
        assert ") -> _t.Any:" in client_text  # no success documented: the JSON as it comes
        answers = {
            ("GET", "/pets"): httpx.Response(200, json=[{"name": "Rex"}, {"name": "Tom"}]),
            ("POST", "/pets"): httpx.Response(204),
            ("GET", "/pets/count"): httpx.Response(200, json=2),
            ("GET", "/pets/raw"): httpx.Response(200, json={"any": "thing"}),
        }
        transport = httpx.MockTransport(
            lambda request: answers[(request.method, request.url.path)])
        with package.PetsClient("http://127.0.0.1:9", http_client=httpx.Client(
                transport=transport)) as client:
            pets = client.list_pets()
            assert [type(p) for p in pets] == [package.Pet, package.Pet]
            assert [p.name for p in pets] == ["Rex", "Tom"]
            assert client.create_pet(name="Rex") is None
            assert client.count_pets() == 2
            assert client.raw_pets() == {"any": "thing"}
        bad = httpx.MockTransport(lambda request: httpx.Response(200, json=[{"tag": 1}]))
        with package.PetsClient("http://127.0.0.1:9", http_client=httpx.Client(
                transport=bad), max_retries=0) as client, pytest.raises(
                    package.APIResponseValidationError, match="name"):
            client.list_pets()
        _lint(tmp_path / "out", package.__name__)


def test_a_server_answers_a_list_of_models(tmp_path: Path) -> None:
    import asyncio

    with generated_package(PETS, tmp_path, "pets.yaml") as package:
        class Service:
            async def list_pets(self, body: Any, context: Any) -> list[Any]:
                return [package.Pet(name="Rex")]

        app = package.create_app(Service(), api_keys=None)
        sent: list[dict[str, Any]] = []

        async def call() -> None:
            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            await app({"type": "http", "method": "GET", "path": "/pets", "headers": [],
                       "query_string": b""}, receive, send)

        asyncio.run(call())
        assert sent[0]["status"] == 200
        assert json.loads(b"".join(m.get("body", b"") for m in sent[1:])) == [{"name": "Rex"}]


def test_a_spec_without_schemas_gives_a_clean_package(tmp_path: Path) -> None:
    spec = """
openapi: 3.0.0
info: {title: Bare, version: '2'}
paths:
  /ping:
    get:
      responses:
        '200': {description: pong}
"""
    with generated_package(spec, tmp_path, "bare.yaml") as package:
        assert package.API_VERSION == "2"
        _lint(tmp_path / "out", package.__name__)


def test_stale_discriminator_mapping_and_2019_keywords_are_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "poly.yaml"
    spec.write_text("""
openapi: 3.1.0
info: {title: Poly, version: '1'}
paths: {}
components:
  schemas:
    Pet:
      oneOf:
        - $ref: '#/components/schemas/Cat'
      discriminator:
        propertyName: kind
        mapping:
          cat: '#/components/schemas/Cat'
          dog: 'models/pets.yml#/Dog'
    Cat:
      type: object
      properties:
        kind: {type: string}
    Tree:
      $recursiveAnchor: true
      type: object
      properties:
        children: {type: array, items: {$recursiveRef: '#'}}
""", encoding="utf-8")
    assert main(["generate", "--spec", str(spec), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {spec}:14:16 #/components/schemas/Pet/discriminator/mapping/dog: W104 " \
           "discriminator mapping 'dog' names 'models/pets.yml#/Dog', which does not resolve; " \
           "the entry is ignored" in err
    assert f"warning: {spec}:20:25 #/components/schemas/Tree/$recursiveAnchor: W022 " in err
    assert "error:" not in err


def test_extension_values_are_not_checked_as_schemas(tmp_path: Path) -> None:
    with generated_package(PETS, tmp_path, "pets.yaml") as package:
        assert package.Pet(name="x").name == "x"  # x-vendor-union's discriminator: no E150



DEFECTS = """
openapi: 3.1.0
info: {title: Defects, version: '1'}
paths:
  /things:
    post:
      operationId: makeThing
      tags: [things]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
            example: {name: 7}
      responses:
        '200':
          description: made
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
  /other:
    get:
      operationId: makeThing
      tags: [other]
      responses:
        '200':
          description: other
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Other'}
components:
  schemas:
    Thing:
      type: object
      required: [name, name]
      properties:
        name: {type: string}
        size: {type: number, minimum: 0, exclusiveMinimum: true}
        limit: {type: integer, default: '20 - items'}
        pet:
          type: object
          discriminator: {propertyName: kind}
          properties: {label: {type: string}}
    Other:
      type: object
      properties:
        label: {type: string}
"""
DEFECT_PLACES = [
    ("E110", "22:20 #/paths/~1other/get/operationId"),
    ("E022", "34:17 #/components/schemas/Thing/required"),
    ("E023", "37:60 #/components/schemas/Thing/properties/size/exclusiveMinimum"),
    ("E131", "38:41 #/components/schemas/Thing/properties/limit/default"),
    ("E150", "41:26 #/components/schemas/Thing/properties/pet/discriminator"),
]


def test_strict_refuses_defects_that_lenient_reads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "defects.yaml"
    spec.write_text(DEFECTS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", "--spec", str(spec), "--out", str(out)]) == 2
    strict = capsys.readouterr().err
    for code, place in DEFECT_PLACES:
        assert f"error: {spec}:{place}: {code} " in strict, (code, strict)
    assert not out.exists()
    assert main(["generate", "--lenient", "--spec", str(spec), "--out", str(out)]) == 0
    lenient = capsys.readouterr().err
    for code, place in DEFECT_PLACES:
        assert f"warning: {spec}:{place}: {code} " in lenient, (code, lenient)
    assert "(lenient: " in lenient and "error:" not in lenient
    # The example is checked once the schemas are sound: a warning in lenient mode.
    assert f"warning: {spec}:13:29 #/paths/~1things/post/requestBody/content/application~1json" \
           "/example/name: E130 " in lenient
    _lint(out, "defects_1")


def test_lenient_reading_keeps_the_meaning(tmp_path: Path) -> None:
    import importlib
    import sys

    spec = tmp_path / "defects.yaml"
    spec.write_text(DEFECTS, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", "--lenient", "--spec", str(spec), "--out", str(out)]) == 0
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module("defects_1")
        with pytest.raises(package.ValidationError, match="size"):
            package.Thing.validate({"name": "a", "size": 0})  # 3.0's exclusive bound
        assert package.Thing.validate({"name": "a", "size": 0.5}).size == 0.5
        client = (out / "defects_1" / "client.py").read_text()
        assert "def make_thing(" in client and "def make_thing_2(" in client
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("defects_1")]:
            del sys.modules[name]


SELECTABLE = """
openapi: 3.0.3
info: {title: Shop, version: '1'}
paths:
  /embeddings:
    post:
      operationId: createEmbedding
      tags: [embeddings]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/EmbeddingRequest'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/EmbeddingResponse'}
  /images/edits:
    post:
      operationId: editImage
      tags: [images]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Image'}
  /images/variations:
    post:
      operationId: varyImage
      tags: [images]
      responses:
        '204': {description: done}
components:
  schemas:
    EmbeddingRequest:
      type: object
      properties:
        input: {type: string}
        kind: {$ref: '#/components/schemas/Kind'}
    EmbeddingResponse:
      type: object
      properties:
        data: {type: array, items: {$ref: '#/components/schemas/Vector'}}
    Vector:
      type: object
      properties:
        values: {type: array, items: {type: number}}
    Kind: {type: string, enum: [a, b]}
    Image:
      type: object
      properties:
        url: {type: string}
"""


@pytest.mark.parametrize(("options", "methods", "models"), [
    (["--operation", "createEmbedding"], {"create_embedding"},
     {"EmbeddingRequest", "EmbeddingResponse", "Vector", "Kind"}),
    (["--operation", "vary_image", "--tag", "embeddings"], {"create_embedding", "vary_image"},
     {"EmbeddingRequest", "EmbeddingResponse", "Vector", "Kind"}),
    (["--tag", "images"], {"edit_image", "vary_image"}, {"Image"}),
    (["--path", "/images/*"], {"edit_image", "vary_image"}, {"Image"}),
], ids=["operation", "operation-and-tag", "tag", "path"])
def test_part_of_a_spec(options: list[str], methods: set[str], models: set[str],
                        tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SELECTABLE, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["generate", "--spec", str(spec), "--out", str(out), *options]) == 0
    client = (out / "shop_1" / "client.py").read_text()
    assert set(re.findall(r"    def (\w+)\(\n        self,", client)) >= methods
    for name in ("create_embedding", "edit_image", "vary_image"):
        assert (f"def {name}(" in client) == (name in methods)
    models_text = (out / "shop_1" / "models.py").read_text()
    defined = set(re.findall(r"^class (\w+)\(", models_text, re.MULTILINE))
    assert defined == models
    _lint(out, "shop_1")


def test_a_selection_that_matches_nothing_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SELECTABLE, encoding="utf-8")
    assert main(["generate", "--spec", str(spec), "--out", str(tmp_path / "out"),
                 "--operation", "nope", "--path", "/nowhere"]) == 2
    assert f"error: {spec}: no operation matches operation 'nope', path '/nowhere'" in \
        capsys.readouterr().err
