"""Specs nobody here wrote: Azure's published OpenAPI 3.0 and Swagger 2.0 specs of this API
(../shared/upstream), and feature specs in every OpenAPI version (specs/). Each generates a
package (into a temporary directory) that imports, passes `mypy --strict` and ruff, and whose
operations work from the generated client to the generated server."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from generator.cli import main
from tests.conftest import ROOT, UPSTREAM, serve

SPECS = Path(__file__).resolve().parent / "specs"
UPSTREAM_PACKAGE = "ai_model_inference_2024_05_01_preview"
FEATURES = {"3.1": "features_3_1", "3.0": "features_3_0", "2.0": "features_2_0"}
KEY = "upstream-test-key"


HAVE_UPSTREAM = UPSTREAM.is_dir()
needs_upstream = pytest.mark.skipif(
    not HAVE_UPSTREAM, reason=f"{UPSTREAM} is absent: Azure's published specs are read from "
                              "../shared/upstream, never copied into the repo")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Where each package was generated. Both upstream specs make the same package, so
    the Swagger one goes to a directory of its own. Without ../shared, the feature specs only."""
    first, second = tmp_path_factory.mktemp("openapi3"), tmp_path_factory.mktemp("swagger2")
    specs = [*([UPSTREAM / "2024-05-01-preview.openapi3.yaml"] if HAVE_UPSTREAM else []),
             *(SPECS / f"features-{version}.yaml" for version in FEATURES)]
    runs = [(first, specs)]
    if HAVE_UPSTREAM:
        runs.append((second, [UPSTREAM / "2024-05-01-preview.swagger2.json"]))
    for out, given in runs:
        argv = ["generate", "--out", str(out)]
        for spec in given:
            argv += ["--spec", str(spec)]
        assert main(argv) == 0
    return {"openapi3": first, "swagger2": second,
            **{version: first for version in FEATURES}}


@contextlib.contextmanager
def imported(folder: Path, package: str) -> Iterator[ModuleType]:
    """The package imported from `folder`, forgotten afterwards (two share a name)."""
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]


def test_every_package_passes_mypy_strict_and_ruff(built: dict[str, Path]) -> None:
    runs = ({built["openapi3"]: [UPSTREAM_PACKAGE, *FEATURES.values()],
             built["swagger2"]: [UPSTREAM_PACKAGE]} if HAVE_UPSTREAM
            else {built["openapi3"]: list(FEATURES.values())})
    for folder, packages in runs.items():
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
             "/dev/null", *packages], cwd=folder, capture_output=True, text=True, check=False,
            timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        ruff = Path(sys.executable).parent / "ruff"
        result = subprocess.run(
            [str(ruff), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
             str(folder)], capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


# ---- the published specs ----------------------------------------------------------------

EMBEDDINGS = {"id": "e1", "object": "list", "model": "m",
              "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.0]}],
              "usage": {"prompt_tokens": 3, "total_tokens": 3}}


class EmbeddingsService:
    def __init__(self, models: ModuleType) -> None:
        self.models = models
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def get_embeddings(self, body: Any, context: Any) -> Any:
        self.received.append(("get_embeddings", body.to_dict()))
        return self.models.EmbeddingsResult.from_dict(EMBEDDINGS)

    async def get_image_embeddings(self, body: Any, context: Any) -> Any:
        self.received.append(("get_image_embeddings", body.to_dict()))
        return self.models.EmbeddingsResult.from_dict(EMBEDDINGS)


@needs_upstream
@pytest.mark.parametrize("which", ["openapi3", "swagger2"])
def test_upstream_embeddings_from_client_to_server(built: dict[str, Path], which: str) -> None:
    with imported(built[which], UPSTREAM_PACKAGE) as pkg:
        models = importlib.import_module(f"{UPSTREAM_PACKAGE}.models")
        service = EmbeddingsService(models)
        app = pkg.create_app(service, api_keys=[KEY])
        with serve(app) as url, pkg.AiModelInferenceClient(url, api_key=KEY) as client:
            result = client.get_embeddings(input=["first", "second"], dimensions=2,
                                           encoding_format="float")
            assert isinstance(result, models.EmbeddingsResult)
            assert result.to_dict() == EMBEDDINGS
            with pytest.raises(pkg.APIStatusError) as caught:
                client.get_embeddings(input=[], extra_body={"input": 5})  # the server checks
            assert 400 <= caught.value.status_code < 500

        async def over_asgi() -> Any:
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
            async with http, pkg.AsyncAiModelInferenceClient(
                    "http://testserver", api_key=KEY, http_client=http) as client:
                return await client.get_image_embeddings(
                    input=[models.ImageEmbeddingInput(image="data:image/png;base64,AAAA",
                                                      text="a caption")])

        assert asyncio.run(over_asgi()).to_dict() == EMBEDDINGS
    assert service.received == [
        ("get_embeddings", {"input": ["first", "second"], "dimensions": 2,
                            "encoding_format": "float"}),
        ("get_image_embeddings", {"input": [{"image": "data:image/png;base64,AAAA",
                                             "text": "a caption"}]}),
    ]


@needs_upstream
@pytest.mark.parametrize("which", ["openapi3", "swagger2"])
def test_upstream_chat_messages_are_polymorphic_and_lossless(built: dict[str, Path],
                                                             which: str) -> None:
    document = {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"},
                                     {"type": "image_url", "image_url": {"url": "u"}}]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "a-future-role", "content": "kept as it came", "extra": [1, 2]},
    ], "response_format": {"type": "json_object"}, "future_option": {"x": 1}}
    with imported(built[which], UPSTREAM_PACKAGE):
        models = importlib.import_module(f"{UPSTREAM_PACKAGE}.models")
        options = models.ChatCompletionsOptions.from_dict(document)
        assert [type(m).__name__ for m in options.messages] == [
            "ChatRequestSystemMessage", "ChatRequestUserMessage", "ChatRequestAssistantMessage",
            "ChatRequestMessage"]
        content_types = [type(c).__name__ for c in options.messages[1].content]
        if which == "openapi3":
            assert content_types == ["ChatMessageTextContentItem", "ChatMessageImageContentItem"]
        else:  # the Swagger spec leaves the user message's content untyped: kept as JSON
            assert content_types == ["dict", "dict"]
        assert type(options.response_format).__name__ == "ChatCompletionsResponseFormatJsonObject"
        assert options.messages[2].tool_calls[0].function.name == "f"
        assert options.messages[3].additional_properties == {"content": "kept as it came",
                                                             "extra": [1, 2]}
        assert options.to_dict() == document
        # a subtype knows its own discriminator value
        assert models.ChatRequestSystemMessage(content="x").to_dict() == {
            "role": "system", "content": "x"}


@needs_upstream
def test_the_two_published_specs_give_the_same_classes_and_wire_names(
        built: dict[str, Path]) -> None:
    shapes = []
    for which in ("openapi3", "swagger2"):
        with imported(built[which], UPSTREAM_PACKAGE):
            models = importlib.import_module(f"{UPSTREAM_PACKAGE}.models")
            shapes.append({name: sorted(f.wire for f in getattr(models, name)._fields)
                           for name in models.__all__
                           if isinstance(getattr(models, name), type)
                           and hasattr(getattr(models, name), "_fields")})
    assert shapes[0] == shapes[1]
    assert {"EmbeddingsOptions", "ChatRequestToolMessage", "ModelInfo"} <= set(shapes[0])


# ---- feature specs: 3.1, 3.0 and Swagger 2.0 spellings of the same shapes ----------------

DRAWING = {
    "name": "d",
    "shapes": [{"kind": "circle", "radius": 1.5, "label": None},
               {"kind": "Square", "side": 2, "label": "sq"},
               {"kind": "hexagon", "sides": 6}],
    "attributes": {"a": 1.5, "b": 2},
    "tree": {"name": "root", "children": [{"name": "leaf", "children": []}], "parent": None},
    "folder": {"files": [{"folder": {"files": []}, "tags": {"k": "v"}}]},
    "note": None,
}
PETS = {"pets": [{"pet_type": "Cat", "lives": 9}, {"pet_type": "Dog", "good": True}]}


@pytest.mark.parametrize("version", list(FEATURES))
def test_feature_models_decode_typed_and_encode_losslessly(built: dict[str, Path],
                                                           version: str) -> None:
    document = {**DRAWING, **(PETS if version != "2.0" else {})}
    if version != "2.0":
        document["attributes"] = {"a": "text", "b": [1.5, ["nested"]]}
    with imported(built[version], FEATURES[version]) as pkg:
        drawing = pkg.Drawing.validate(document)
        assert [type(s).__name__ for s in drawing.shapes] == ["Circle", "Square", "Shape"]
        assert drawing.shapes[0].label is None  # null, not absent
        assert drawing.shapes[1].label == "sq"
        assert drawing.shapes[2].additional_properties == {"sides": 6}
        assert drawing.tree.children[0].name == "leaf" and drawing.tree.parent is None
        assert isinstance(drawing.folder.files[0].folder, pkg.Folder)
        assert drawing.note is None
        if version != "2.0":
            assert [type(p).__name__ for p in drawing.pets] == ["Cat", "Dog"]
        assert drawing.to_dict() == document
        assert pkg.Circle(radius=2.0).to_dict() == {"kind": "circle", "radius": 2.0}
        # Python names from x-ms-client-name; the wire keeps the spec's names
        options = pkg.EmbeddingsOptions(input=["x"], user_name="u", dimensions=None)
        assert options.to_dict() == {"input": ["x"], "dimensions": None, "user-Id": "u"}
        assert pkg.EmbeddingsOptions.from_dict({"input": [], "encoding_format": "int4"}
                                               ).encoding_format == "int4"  # open enum
        with pytest.raises(pkg.ValidationError):
            pkg.Drawing.validate({**document, "shapes": [{"kind": "circle", "radius": -1}]})


class DrawingService:
    def __init__(self, pkg: ModuleType) -> None:
        self.pkg = pkg
        self.seen: list[tuple[str, Any]] = []

    async def put_drawing(self, body: Any, context: Any) -> Any:
        self.seen.append((context.path_params["drawing-id"], body))
        return body

    async def get_embeddings(self, body: Any, context: Any) -> Any:
        return self.pkg.EmbeddingsResult.from_dict(
            {"data": [{"embedding": [1.0], "index": 0}], "model": body.to_dict()["input"][0]})


@pytest.mark.parametrize("version", list(FEATURES))
def test_feature_operations_from_client_to_server(built: dict[str, Path], version: str) -> None:
    with imported(built[version], FEATURES[version]) as pkg:
        service = DrawingService(pkg)
        app = pkg.create_app(service)
        prefix = "Features"

        async def run() -> tuple[Any, Any]:
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
            async with http, getattr(pkg, f"Async{prefix}Client")(
                    "http://testserver", http_client=http) as client:
                drawing = await client.put_drawing_from_body(pkg.Drawing.from_dict(DRAWING),
                                                             drawing_name="my drawing")
                result = await client.get_embeddings(input=["m"], user_name="u")
                return drawing, result

        drawing, result = asyncio.run(run())
        assert type(drawing).__name__ == "Drawing"
        assert [type(s).__name__ for s in drawing.shapes] == ["Circle", "Square", "Shape"]
        assert drawing.to_dict() == DRAWING
        assert result.model == "m"
        [(drawing_id, received)] = service.seen
        assert drawing_id == "my drawing"  # the path parameter, x-ms-client-name drawingName
        assert received.to_dict() == DRAWING
