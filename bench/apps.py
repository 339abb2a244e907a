"""The ASGI apps the benchmark serves with uvicorn (run from bench/ with `--app-dir bench`).

    floor_app      the floor: a bare ASGI app answering the generated app's bytes, no work
    generated_app  the generated server (create_app) around a trivial service, with the checks
                   of issue 14 on (results checked, request and body timeouts, disconnect
                   watch) and the operator's signals off (no metrics, no span, access log not
                   enabled): the row the targets are read from
    generated_unchecked_app  the same with check_results=False (what the result check costs)
    generated_observed_app   the same with everything on: the access log written (JSON
                   lines, to os.devnull), Prometheus metrics and an OpenTelemetry span
    fastapi_app    the same in idiomatic FastAPI, with the same status codes and error bodies:
                   api-key or Bearer, api-version (missing, unsupported), media type, size,
                   pydantic body model with field paths (int32 range), the `extra-parameters`
                   values and modes, the Azure error shape, request ids, and a pydantic
                   response model (FastAPI validates what the handler returns: results checked)
    fastapi_unchecked_app    the same returning a plain dict, no response model
    fastapi_observed_app     fastapi_app with the same signals as generated_observed_app,
                   through the same libraries (a pure ASGI middleware)
    contract_app   the 2024-05-01-preview contract alone, its service written once
                   (embeddings_server's adapter), for the dispatch section
    dispatched_app the same service behind embeddings_server.create_app (every contract,
                   dispatched on api-version)
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
import os
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))
sys.path.insert(1, str(ROOT))  # embeddings_server, where the project is not installed

PACKAGE = "model_inference_2024_05_01_preview"
API_VERSION = "2024-05-01-preview"
API_KEY = "bench-key"
VECTOR = [round(0.001 * i - 0.5, 6) for i in range(4096)]


def _access_log(name: str) -> None:
    """Write the logger `name`'s INFO records as lines to os.devnull: what producing an
    access log costs, without a disk."""
    import logging

    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _generated(check_results: bool = True, observed: bool = False) -> Any:
    import importlib

    m = importlib.import_module(PACKAGE)
    if observed:
        _access_log(f"{PACKAGE}.server.access")

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

    return m.create_app(Service(), api_keys=[API_KEY], check_results=check_results,
                        metrics=observed, tracing=observed)


def _fastapi(check_results: bool = True, observed: bool = False) -> Any:
    """The generated server's twin in idiomatic FastAPI: a pydantic body model, Query/Header
    parameters, a dependency for the media type and size, a pure ASGI middleware for the
    request ids. Each check the generated app makes on this route is made here too, with the
    same status, error code and body shape."""
    import hmac
    import re
    import uuid
    from typing import Annotated, Literal

    from fastapi import Depends, FastAPI, Header, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

    int32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]
    modes = ("error", "drop", "pass-through")
    max_body_bytes = 32 * 1024 * 1024
    request_id_pattern = re.compile(r"[\x21-\x7e]{1,256}\Z")

    class EmbeddingsOptions(BaseModel):
        model_config = ConfigDict(extra="allow")
        input: list[StrictStr]
        dimensions: int32 | None = None
        encoding_format: StrictStr | None = None  # open enum: any string
        input_type: StrictStr | None = None  # open enum: any string
        model: StrictStr | None = None

    class EmbeddingItem(BaseModel):
        index: int32
        object: Literal["embedding"]
        embedding: list[float] | StrictStr

    class EmbeddingsUsage(BaseModel):
        prompt_tokens: int32
        total_tokens: int32

    class EmbeddingsResult(BaseModel):
        id: StrictStr
        data: list[EmbeddingItem]
        object: Literal["list"]
        model: StrictStr
        usage: EmbeddingsUsage

    class Refused(Exception):
        def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
            self.status, self.code, self.message, self.extra = status, code, message, extra

    def error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
              **extra: Any) -> JSONResponse:
        return JSONResponse({"error": {"code": code, "message": message, **extra}},
                            status_code=status, headers={"x-ms-error-code": code, **(headers or {})})

    def request_ids(inner: Any) -> Any:
        """x-request-id on every answer (the client's x-ms-client-request-id, echoed, or a uuid)."""
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            offered = next((v.decode("latin-1") for k, v in scope["headers"]
                            if k == b"x-ms-client-request-id"), "")
            ids = [(b"x-request-id", offered.encode())] * 2
            if request_id_pattern.match(offered):
                ids[1] = (b"x-ms-client-request-id", offered.encode())
            else:
                ids = [(b"x-request-id", str(uuid.uuid4()).encode())]

            async def send_with_ids(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *ids]
                await send(message)

            await inner(scope, receive, send_with_ids)
        return middleware

    async def media_type(request: Request) -> None:  # async: no thread pool per request
        content_type = request.headers.get("content-type")
        content_length = request.headers.get("content-length")
        essence = (content_type or "").split(";", 1)[0].strip().lower()
        if essence != "application/json" and not essence.endswith("+json"):
            raise Refused(415, "UnsupportedMediaType", "The request body must be "
                          f"application/json in UTF-8, not {(content_type or 'unspecified')[:100]!r}.")
        if content_length and content_length.strip().isdigit() and int(content_length) > max_body_bytes:
            raise Refused(413, "PayloadTooLarge",
                          f"The request body is larger than {max_body_bytes} bytes.")

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return error(exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        def path(loc: Any) -> str:
            return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:]).lstrip(".")
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return error(400, "InvalidRequestBody", "The request body is not valid JSON.")
        details = [{"code": "InvalidValue", "message": e["msg"], "target": path(e["loc"])}
                   for e in exc.errors()]
        return error(400, "InvalidRequestBody", "The request body is invalid: " + "; ".join(
            f"{d['target']}: {d['message']}" for d in details[:5]), details=details)

    @app.post("/embeddings", dependencies=[Depends(media_type)],
              response_model=EmbeddingsResult if check_results else None)
    async def embeddings(
        request: Request,
        body: EmbeddingsOptions,
        api_version: Annotated[str | None, Query(alias="api-version")] = None,
        api_key: Annotated[str | None, Header(alias="api-key")] = None,
        extra_parameters: Annotated[str | None, Header(alias="extra-parameters")] = None,
    ) -> Any:
        offered = [api_key] if api_key else []
        authorization = request.headers.get("authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            offered.append(authorization[7:].strip())
        matched = False
        for candidate in offered:
            matched |= hmac.compare_digest(candidate.encode("utf-8", "surrogateescape"),
                                           API_KEY.encode())
        if not matched:
            return error(401, "Unauthorized", "Access denied: a valid key is required.",
                         headers={"www-authenticate": "Bearer"})
        if not api_version:
            return error(400, "MissingApiVersionParameter",
                         "The 'api-version' query parameter is required; the supported "
                         f"version is '{API_VERSION}'.", target="api-version")
        if api_version != API_VERSION:
            return error(400, "UnsupportedApiVersion",
                         f"Unsupported 'api-version' {api_version[:100]!r}; the supported "
                         f"version is '{API_VERSION}'.", target="api-version")
        mode = "error" if extra_parameters is None else extra_parameters
        if mode not in modes:
            return error(400, "InvalidHeaderValue", "Header 'extra-parameters' must be one of "
                         f"{', '.join(modes)}; got {mode[:100]!r}.",
                         details=[{"code": "InvalidValue", "message": "is not a known value",
                                   "target": "extra-parameters"}])
        extra = sorted(body.model_extra or ())
        if extra and mode == "error":
            return error(400, "ExtraParametersNotAllowed",
                         f"Extra parameters [{', '.join(extra)}] are not allowed when "
                         "'extra-parameters' is 'error'; send 'pass-through' to pass them to the "
                         "model, or 'drop' to drop them.",
                         details=[{"code": "UnknownParameter", "message": "is not a known "
                                   "parameter", "target": name} for name in extra])
        if extra and mode == "drop":
            body.model_extra.clear()  # type: ignore[union-attr]
        dims = body.dimensions if body.dimensions is not None else 16
        if check_results:  # the models, as the generated app's service builds its own
            return EmbeddingsResult(
                id="bench", object="list", model="bench",
                data=[EmbeddingItem(index=i, object="embedding", embedding=VECTOR[:dims])
                      for i in range(len(body.input))],
                usage=EmbeddingsUsage(prompt_tokens=len(body.input),
                                      total_tokens=len(body.input)))
        return {"id": "bench", "object": "list", "model": "bench",
                "data": [{"index": i, "object": "embedding", "embedding": VECTOR[:dims]}
                         for i in range(len(body.input))],
                "usage": {"prompt_tokens": len(body.input), "total_tokens": len(body.input)}}

    served = request_ids(app)
    return _observed(served, "fastapi_twin.access") if observed else served


def _observed(inner: Any, logger: str) -> Any:
    """`inner` with the generated app's signals, by the same libraries: a JSON access-log line
    per request (to os.devnull), prometheus-client's request count, errors, latency histogram
    and in-flight gauge, an OpenTelemetry SERVER span (opentelemetry-api) per request."""
    import logging
    import time

    import prometheus_client as prometheus
    from opentelemetry import trace

    _access_log(logger)
    access = logging.getLogger(logger)
    registry = prometheus.CollectorRegistry()
    labels = ("method", "route", "status", "api_version")
    requests = prometheus.Counter("http_server_requests", "Requests answered.", labels,
                                  registry=registry)
    errors = prometheus.Counter("http_server_errors", "4xx and 5xx answers.", labels,
                                registry=registry)
    latency = prometheus.Histogram("http_server_request_duration_seconds", "Latency.",
                                   ("method", "route"), registry=registry,
                                   buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))
    in_flight = prometheus.Gauge("http_server_requests_in_flight", "In flight.",
                                 registry=registry)
    tracer = trace.get_tracer(logger)

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        status = 0
        request_id = ""
        in_flight.inc()
        span = tracer.start_span(method, kind=trace.SpanKind.SERVER,
                                 attributes={"http.request.method": method})

        async def observing_send(message: Any) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                request_id = next((v.decode() for k, v in message["headers"]
                                   if k == b"x-request-id"), "")
            await send(message)

        try:
            await inner(scope, receive, observing_send)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            query = scope.get("query_string", b"").decode("latin-1")
            version = API_VERSION if f"api-version={API_VERSION}" in query else "other"
            in_flight.dec()
            requests.labels(method, route, str(status), version).inc()
            if status >= 400:
                errors.labels(method, route, str(status), version).inc()
            latency.labels(method, route).observe(seconds)
            span.set_attribute("http.route", route)
            span.set_attribute("request.id", request_id)
            span.set_attribute("http.response.status_code", status)
            span.end()
            if access.isEnabledFor(logging.INFO):
                fields = {"request_id": request_id, "method": method, "route": route,
                          "status": status, "latency_ms": round(seconds * 1000, 3),
                          "api_version": version}
                access.info(json.dumps(fields), extra={"access": fields})

    return middleware


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


def floor_body() -> bytes:
    """What the generated app answers to bench/load.py's request (4 inputs, 16 dimensions)."""
    return json.dumps({
        "id": "bench", "object": "list", "model": "bench",
        "data": [{"index": i, "object": "embedding", "embedding": VECTOR[:16]} for i in range(4)],
        "usage": {"prompt_tokens": 4, "total_tokens": 4}}, separators=(",", ":")).encode()


def _floor() -> Any:
    """The floor: a bare ASGI app that reads the body and answers the same bytes as the
    generated app, with the same headers, doing no work. No app under the same server can be
    faster; the generated app's figure is given as a fraction of it."""
    import uuid

    from load import BODY  # what bench/load.py sends: its Content-Length, known here

    BODY_LENGTH = len(BODY)
    payload = floor_body()
    length = str(len(payload)).encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        received = 0  # the body, to its end or to its Content-Length, as the generated app
        while True:
            message = await receive()
            received += len(message.get("body", b""))
            if not message.get("more_body") or received == BODY_LENGTH:
                break
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", length),
            (b"x-request-id", str(uuid.uuid4()).encode())]})
        await send({"type": "http.response.body", "body": payload})

    return app


class _BenchEmbeddings:
    """The trivial service of the dispatch section, written once (embeddings_server)."""

    async def embed_texts(self, request: Any) -> Any:
        from embeddings_server import Embeddings

        dims = request.dimensions or 16
        return Embeddings(vectors=[VECTOR[:dims]] * len(request.inputs), model="bench",
                          prompt_tokens=len(request.inputs), id="bench")


def _contract(dispatched: bool) -> Any:
    """The same service through the same adapter, on the 2024-05-01-preview contract alone
    (its package's create_app) or behind the dispatch over every contract: the difference
    is what dispatching costs."""
    import importlib

    from embeddings_server import CONTRACTS, ContractAdapter, create_app

    service = _BenchEmbeddings()
    if dispatched:
        return create_app(service, api_keys=[API_KEY])
    contract = next(c for c in CONTRACTS if c.version == API_VERSION)
    package = importlib.import_module(PACKAGE)
    return package.create_app(ContractAdapter(service, contract), api_keys=[API_KEY])


def __getattr__(name: str) -> Any:  # built on first use: each server process needs one only
    factories = {"generated_app": _generated, "fastapi_app": _fastapi, "canned_app": _canned,
                 "floor_app": _floor,
                 "generated_unchecked_app": lambda: _generated(check_results=False),
                 "generated_observed_app": lambda: _generated(observed=True),
                 "fastapi_unchecked_app": lambda: _fastapi(check_results=False),
                 "fastapi_observed_app": lambda: _fastapi(observed=True),
                 "contract_app": lambda: _contract(dispatched=False),
                 "dispatched_app": lambda: _contract(dispatched=True)}
    if name in factories:
        value = factories[name]()
        globals()[name] = value
        return value
    raise AttributeError(name)
