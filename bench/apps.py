"""The ASGI apps the benchmark serves with uvicorn (run from bench/ with `--app-dir bench`).

    generated_app  the generated server (create_app) around a trivial service
    fastapi_app    a FastAPI app doing the same checks with the same status codes and error
                   bodies: api-key, api-version, body validation with field paths, the
                   `extra-parameters` modes, the Azure error shape
    canned_app     the client benchmark's server: answers /embeddings with a prebuilt body
                   (256 x 1,024 floats, as float JSON or base64), or a small one when the
                   request asks for 16 dimensions

Both service implementations answer `len(input)` vectors of `dimensions` (default 16) values.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the handlers
# defined inside _fastapi() at run time.
import array
import base64
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))

PACKAGE = "model_inference_2024_05_01_preview"
API_VERSION = "2024-05-01-preview"
API_KEY = "bench-key"
VECTOR = [round(0.001 * i - 0.5, 6) for i in range(4096)]


def _generated() -> Any:
    import importlib

    m = importlib.import_module(PACKAGE)

    class Service:
        async def get_embeddings(self, body: Any, context: Any) -> Any:
            dims = body.dimensions if isinstance(body.dimensions, int) else 16
            return m.EmbeddingsResult(
                id="bench", object="list", model="bench",
                data=[m.EmbeddingItem(index=i, object="embedding", embedding=VECTOR[:dims])
                      for i in range(len(body.input))],
                usage=m.EmbeddingsUsage(prompt_tokens=len(body.input),
                                        total_tokens=len(body.input)))

        async def get_image_embeddings(self, body: Any, context: Any) -> Any:
            raise NotImplementedError

    return m.create_app(Service(), api_keys=[API_KEY])


def _fastapi() -> Any:
    import hmac

    from fastapi import FastAPI, Header, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

    class EmbeddingsOptions(BaseModel):
        model_config = ConfigDict(extra="allow")
        input: list[StrictStr]
        dimensions: StrictInt | None = None
        encoding_format: StrictStr | None = None
        input_type: StrictStr | None = None
        model: StrictStr | None = None

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": {"code": code, "message": message, **extra}},
                            status_code=status, headers={"x-ms-error-code": code})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"code": "InvalidValue", "message": e["msg"],
                    "target": ".".join(str(p) for p in e["loc"][1:])} for e in exc.errors()]
        return error(400, "InvalidRequestBody", "The request body is invalid: " + "; ".join(
            f"{d['target']}: {d['message']}" for d in details), details=details)

    @app.post("/embeddings")
    async def embeddings(
        request: Request, body: EmbeddingsOptions,
        api_version: str | None = Query(None, alias="api-version"),
        api_key: str | None = Header(None, alias="api-key"),
        extra_parameters: str | None = Header(None, alias="extra-parameters"),
    ) -> Any:
        if api_key is None or not hmac.compare_digest(api_key.encode(), API_KEY.encode()):
            return error(401, "Unauthorized", "Access denied: a valid key is required.")
        if api_version is None:
            return error(400, "MissingApiVersionParameter",
                         "The 'api-version' query parameter is required; the supported "
                         f"version is '{API_VERSION}'.", target="api-version")
        extra = sorted(body.model_extra or ())
        if extra and extra_parameters in (None, "error"):
            return error(400, "ExtraParametersNotAllowed",
                         f"Extra parameters [{', '.join(extra)}] are not allowed",
                         details=[{"code": "UnknownParameter", "message": "is not a known "
                                   "parameter", "target": name} for name in extra])
        dims = body.dimensions if body.dimensions is not None else 16
        return {"id": "bench", "object": "list", "model": "bench",
                "data": [{"index": i, "object": "embedding", "embedding": VECTOR[:dims]}
                         for i in range(len(body.input))],
                "usage": {"prompt_tokens": len(body.input), "total_tokens": len(body.input)}}

    return app


def canned_bodies(vectors: int = 256, dims: int = 1024) -> dict[str, bytes]:
    """The client benchmark's answers. Values are float32, so both encodings carry the same
    numbers."""
    rng = random.Random(7)
    rows = [array.array("f", (rng.uniform(-1, 1) for _ in range(dims))) for _ in range(vectors)]

    def body(embeddings: list[Any]) -> bytes:
        return json.dumps({
            "id": "bench", "object": "list", "model": "bench",
            "data": [{"index": i, "object": "embedding", "embedding": e}
                     for i, e in enumerate(embeddings)],
            "usage": {"prompt_tokens": vectors, "total_tokens": vectors}}).encode()

    return {
        "float": body([[float(f"{v:.9g}") for v in row] for row in rows]),
        "base64": body([base64.b64encode(row.tobytes()).decode() for row in rows]),
        "small": body([VECTOR[:16]]),
    }


def _canned() -> Any:
    bodies = canned_bodies()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = json.loads(b"".join(chunks) or b"{}")
        if request.get("dimensions") == 16:
            payload = bodies["small"]
        else:
            payload = bodies["base64" if request.get("encoding_format") == "base64" else "float"]
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    return app


def __getattr__(name: str) -> Any:  # built on first use: each server process needs one only
    factories = {"generated_app": _generated, "fastapi_app": _fastapi, "canned_app": _canned}
    if name in factories:
        value = factories[name]()
        globals()[name] = value
        return value
    raise AttributeError(name)
