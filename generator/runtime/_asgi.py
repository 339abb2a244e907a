"""The ASGI plumbing of every generated server: routing, parsing, validation, keys and error
shapes. The same code in every package; what depends on the spec (the routes, the error-body
shapes, the api-version, the key header) arrives as one `ServerApi` value that the generated
server.py declares, and `create_app()` there hands it here with the service.

Every answer other than success is written in the body shape the spec documents for its
status (exact, then `4XX`, then `default`), with the code also in `x-ms-error-code`. A service
method answers an error by raising ServiceError (a DynamicBatcher's QueueFull is 429 with
Retry-After, its BatcherClosed 503); any other exception is a generic 500, logged with the
request id, and nothing of it reaches the client. Standard library only (orjson, when
installed, parses request bodies).
"""

from __future__ import annotations

import asyncio
import heapq
import hmac
import json
import logging
import math
import random
import re
import threading
import typing as _t
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

from . import _answer, _fast
from . import _runtime as _rt
from ._observe import PROMETHEUS_CONTENT_TYPE, Exchange, Observer
from .batching import BatcherClosed, QueueFull

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
#: Seconds a service method may take before the request is answered 504 (create_app's
#: request_timeout).
DEFAULT_REQUEST_TIMEOUT = 60.0
#: Seconds a client may take to send a request's body once its head has arrived
#: (create_app's body_timeout): a stalled upload is answered 408 and its connection closed.
DEFAULT_BODY_TIMEOUT = 30.0
#: At most this many problems are collected and listed in an error's details; the message
#: says when there were more.
MAX_ERROR_DETAILS = 100

Scope = MutableMapping[str, _t.Any]
Message = MutableMapping[str, _t.Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(slots=True, kw_only=True)
class RequestContext:
    """What the service may want to know about a request besides its body."""

    operation_id: str
    request_id: str
    api_version: str
    #: Request headers, names in lower case (the key headers are removed).
    headers: Mapping[str, str]
    query: Mapping[str, str]
    path_params: Mapping[str, str]
    #: The extra-parameters mode in force: the header's value, or the documented default; when
    #: the spec has no such header, "pass-through" (JSON Schema keeps unknown properties unless
    #: the body's schema says `additionalProperties: false`, which validation refuses).
    extra_parameters: str
    #: The keys the request offers (the key header's value, the `Authorization: Bearer`
    #: token), for an `authenticate` hook; never logged.
    credentials: tuple[str, ...] = field(default=(), repr=False)
    #: Body properties the spec does not define, when the mode passes them through.
    extra_body: dict[str, _t.Any] = field(default_factory=dict)


class ServiceError(Exception):
    """Raise from a service method (or an `authenticate` hook) to answer with this status, in
    the error shape the spec documents for it.

    For example `ServiceError(422, "UnsupportedParameter", "dimensions is not supported",
    target="dimensions", value=7)`, or `ServiceError(429, "RateLimited", "Slow down",
    retry_after=2)`. `status` must be an int in 400..599 and `code`, `message` strings;
    `headers` names must be HTTP tokens and not the framing headers the server writes
    (content-length, content-type, transfer-encoding, connection). A bad argument raises
    TypeError or ValueError here, which (raised from a service method) answers a generic 500.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        value: _t.Any = None,
        details: Iterable[tuple[str, str, str]] = (),
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError(f"ServiceError status must be an int, not {type(status).__name__}")
        if not 400 <= status <= 599:
            raise ValueError(f"ServiceError status must be 400..599, not {status}")
        for name, text in (("code", code), ("message", message)):
            if not isinstance(text, str):
                raise TypeError(f"ServiceError {name} must be a str, not {type(text).__name__}")
        if target is not None and not isinstance(target, str):
            raise TypeError(
                f"ServiceError target must be a str or None, not {type(target).__name__}"
            )
        triples = tuple(details)
        for triple in triples:
            if not (
                isinstance(triple, tuple)
                and len(triple) == 3
                and all(isinstance(part, str) for part in triple)
            ):
                raise TypeError("ServiceError details must be (target, code, message) str triples")
        extra_headers: dict[str, str] = {}
        for name, text in (headers or {}).items():
            if not isinstance(name, str) or not isinstance(text, str):
                raise TypeError("ServiceError headers must map str names to str values")
            if not _TOKEN.match(name):
                raise ValueError(f"ServiceError header name {name[:100]!r} is not an HTTP token")
            if name.lower() in _FRAMING_HEADERS:
                raise ValueError(f"ServiceError cannot set the {name.lower()} header")
            extra_headers[name.lower()] = text
        if retry_after is not None:
            if (
                isinstance(retry_after, bool)
                or not isinstance(retry_after, (int, float))
                or not math.isfinite(retry_after)
            ):
                raise TypeError("ServiceError retry_after must be a finite number of seconds")
            extra_headers["retry-after"] = str(max(0, math.ceil(retry_after)))
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        #: The offending value, when there is one (the flat error shapes carry it).
        self.value = value
        #: (target, code, message) triples.
        self.details = triples
        self.headers = extra_headers


#: An async hook deciding whether a request may proceed (see create_app).
Authenticator = Callable[[RequestContext], Awaitable[bool]]

#: An HTTP header name (RFC 9110 token).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
#: Headers the server writes itself: never taken from a ServiceError.
_FRAMING_HEADERS = frozenset(("content-length", "content-type", "transfer-encoding", "connection"))


# ---- error bodies, as data ----------------------------------------------------------------
#
# Which property of an error body gets what is decided by the generator from the spec's error
# schemas (generator/render.py) and declared as ErrorField rows; write_error_body() reads them.

ErrorFieldKind = _t.Literal[
    "azure_error",  # the Azure core Error object: code, message, target?, details?
    "azure_details",  # a list of Azure core Error objects, one per detail
    "status",  # the HTTP status as a number
    "status_text",  # the HTTP status as a string
    "code",  # the error code
    "message",  # the human-readable message
    "phrase",  # the status's reason phrase ("Unprocessable Entity")
    "target",  # the offending field(s), joined
    "detail_object",  # the first detail as a {loc, value, msg, type} object
    "detail_list",  # every detail as such an object
    "object",  # an object whose own properties are ErrorFields (`fields`), e.g. OpenAI's error
    "error_type",  # a category of the status, as OpenAI's `type` ("invalid_request_error", ...)
    "zero",  # a required property with nothing to say: its type's zero value
]


@dataclass(frozen=True, slots=True)
class ErrorField:
    """One property of an error body and what fills it."""

    wire: str
    kind: ErrorFieldKind
    required: bool = False
    #: The value of a "zero" field.
    zero: _t.Any = None
    #: azure_error: whether the Error object has `target` and `details`.
    error_target: bool = False
    error_details: bool = False
    #: detail_object / detail_list: the detail object's property names for each part (None:
    #: the object has no such property).
    loc_key: str | None = None
    value_key: str | None = None
    message_key: str | None = None
    code_key: str | None = None
    #: object: its properties.
    fields: tuple[ErrorField, ...] = ()
    #: target: null (rather than "") when required and there is no target.
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """The body of an error response: the schema's name and its filled properties."""

    name: str
    fields: tuple[ErrorField, ...]


#: The Azure core ErrorResponse body, for errors the spec documents no object body for.
AZURE_ERROR_SHAPE = ErrorShape(
    name="ErrorResponse",
    fields=(ErrorField("error", "azure_error", True, error_target=True, error_details=True),),
)

#: Status key ("401", "4XX", "default") -> its body shape; None: the status has no body.
ErrorTable = tuple[tuple[str, ErrorShape | None], ...]


class _Detail(_t.NamedTuple):
    target: str
    code: str
    message: str
    value: str | None = None


_LOC_PART = re.compile(r"\[(\d+)\]|\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]|([^.\[\]]+)")


def _loc(target: str) -> list[str]:
    """A field path such as `input[0].image` as its parts: ["input", "0", "image"]."""
    parts = []
    for index, quoted, name in _LOC_PART.findall(target):
        parts.append(index or name or quoted[1:-1])
    return parts


def _targets(target: str | None, details: tuple[_Detail, ...]) -> str | None:
    """One string naming every offending field."""
    if target is not None:
        return target
    return ", ".join(dict.fromkeys(d.target for d in details if d.target)) or None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _azure_error(
    code: str, message: str, target: str | None, details: tuple[_Detail, ...], spec: ErrorField
) -> dict[str, _t.Any]:
    """The Azure core Error object."""
    error: dict[str, _t.Any] = {"code": code, "message": message}
    if spec.error_target and target is not None:
        error["target"] = target
    if spec.error_details and details:
        error["details"] = [
            {"code": d.code, "message": d.message, "target": d.target} for d in details
        ]
    return error


def _detail_item(detail: _Detail, spec: ErrorField) -> dict[str, _t.Any]:
    """One {loc, value, ...} object of the flat error shapes."""
    item: dict[str, _t.Any] = {}
    if spec.loc_key is not None:
        item[spec.loc_key] = _loc(detail.target)
    if spec.value_key is not None and detail.value is not None:
        item[spec.value_key] = detail.value
    if spec.message_key is not None:
        item[spec.message_key] = detail.message
    if spec.code_key is not None:
        item[spec.code_key] = detail.code
    return item


#: OpenAI's error categories (its `type`), by status; any other 4xx is an invalid request.
_ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def _error_type(status: int) -> str:
    if status >= 500:
        return "server_error"
    return _ERROR_TYPES.get(status, "invalid_request_error")


def write_error_body(
    shape: ErrorShape,
    status: int,
    code: str,
    message: str,
    target: str | None,
    details: tuple[_Detail, ...],
) -> dict[str, _t.Any]:
    """The body of an error answer in `shape`, property by property in the shape's order."""
    return _error_object(shape.fields, status, code, message, target, details)


def _error_object(
    fields: tuple[ErrorField, ...],
    status: int,
    code: str,
    message: str,
    target: str | None,
    details: tuple[_Detail, ...],
) -> dict[str, _t.Any]:
    body: dict[str, _t.Any] = {}
    for spec in fields:
        kind = spec.kind
        if kind == "azure_error":
            body[spec.wire] = _azure_error(code, message, target, details, spec)
        elif kind == "azure_details":
            if details:
                body[spec.wire] = [
                    {"code": d.code, "message": d.message, "target": d.target} for d in details
                ]
        elif kind == "status":
            body[spec.wire] = status
        elif kind == "status_text":
            body[spec.wire] = str(status)
        elif kind == "code":
            body[spec.wire] = code
        elif kind == "message":
            body[spec.wire] = message
        elif kind == "phrase":
            body[spec.wire] = _phrase(status)
        elif kind == "target":
            named = _targets(target, details)
            if named is not None:
                body[spec.wire] = named
            elif spec.required:
                body[spec.wire] = None if spec.nullable else ""
        elif kind == "object":
            body[spec.wire] = _error_object(spec.fields, status, code, message, target, details)
        elif kind == "error_type":
            body[spec.wire] = _error_type(status)
        elif kind == "detail_object":
            if details:
                body[spec.wire] = _detail_item(details[0], spec)
            elif spec.required:
                body[spec.wire] = _detail_item(_Detail(target or "", code, message), spec)
        elif kind == "detail_list":
            if details or spec.required:
                body[spec.wire] = [_detail_item(d, spec) for d in details]
        else:  # "zero"
            body[spec.wire] = spec.zero
    return body


# ---- routes ---------------------------------------------------------------------------------


def _path_pattern(path: str) -> re.Pattern[str]:
    """`/items/{name}` as a regular expression with one group per parameter."""
    parts = re.split(r"({[^{}]+})", path)
    return re.compile(
        "".join(
            f"(?P<p{index}>[^/]+)" if part.startswith("{") else re.escape(part)
            for index, part in enumerate(parts)
        )
        + r"\Z"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One operation as the server serves it."""

    operation_id: str
    method: str
    path: str
    #: The name of the service's method that answers it.
    handler: str
    body_model: type[_rt.Model] | None
    body_required: bool
    api_version_param: str | None
    extra_parameters_header: str | None
    #: The header values meaning: error, drop, pass-through.
    modes: tuple[str, str, str] = ("error", "drop", "pass-through")
    #: The mode without the header: the spec's header default, or (no such header) what the
    #: body schema allows: unknown properties are kept unless the model forbids them.
    default_mode: str
    known_modes: tuple[str, ...] = ()
    required_params: tuple[tuple[str, str], ...] = ()  # (location, name)
    status: int
    result: type[_rt.Model] | None
    errors: ErrorTable
    pattern: re.Pattern[str] = field(init=False)
    path_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _path_pattern(self.path))
        object.__setattr__(self, "path_names", tuple(re.findall(r"{([^{}]+)}", self.path)))


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerApi:
    """Everything the server runtime needs to know about one API."""

    api_version: str
    #: The header carrying a key (besides `Authorization: Bearer <key>`), in lower case.
    key_header: str
    routes: tuple[Route, ...]
    #: For requests that match no operation (404, 405): every operation's documented errors;
    #: it always has a "default".
    errors: ErrorTable
    #: The logger errors go to (the generated server module's name); the access log is its
    #: `.access` child.
    logger: str
    #: The spec as JSON, served at /openapi.json (None: not served).
    openapi_json: str | None = None


class Router:
    """The route for a request's method and path."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._routes = routes
        # (method, path) -> route for the paths without parameters, resolved once the way
        # match() resolves them, so that a dictionary lookup gives the same route.
        self._static: dict[tuple[str, str], Route] = {}
        for route in routes:
            if not route.path_names:
                found, params = self.match(route.method, route.path)
                if not params:
                    self._static[(route.method, route.path)] = found

    def route_of(self, scope: Scope) -> tuple[Route, dict[str, str]]:
        path = scope.get("path", "")
        # Methods are case-sensitive (RFC 9110 9.1): `post` is not POST, and answers 405.
        method = scope.get("method", "GET")
        route = self._static.get((method, path))
        if route is not None:
            return route, {}
        return self.match(method, path)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The first route whose pattern matches `path` and whose method is `method`."""
        matches = [(route, m) for route in self._routes if (m := route.pattern.match(path))]
        if not matches:
            raise _Failure(404, "NotFound", f"No route matches {path[:200]!r}.")
        for route, m in matches:
            if route.method == method:
                return route, {
                    name: m.group(group) for group, name in zip(m.groupdict(), route.path_names)
                }
        allowed = ", ".join(sorted({route.method for route, _ in matches}))
        raise _Failure(
            405,
            "MethodNotAllowed",
            f"{method[:20]} is not allowed here; use {allowed}.",
            headers={"allow": allowed},
        )


class _Failure(Exception):
    """An answer other than success, raised inside the request pipeline."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Iterable[_Detail] = (),
        headers: Mapping[str, str] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details)
        self.headers = dict(headers or {})
        self.target = target


_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,256}\Z")
_UNSAFE_HEADER_CHARACTERS = re.compile(r"[^\x20-\x7e]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}\Z")
_JSON_PARAMETER = re.compile(r";\s*([^=;\s]+)\s*=\s*(\"[^\"]*\"|[^;\s]*)")


def create_app(
    api: ServerApi,
    service: object,
    *,
    api_keys: Iterable[str] | None = None,
    authenticate: Authenticator | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    check_results: bool = True,
    operator_endpoints: bool = True,
    metrics: bool | object = True,
    tracing: bool = True,
) -> ASGIApp:
    """The ASGI application serving `service` (see the generated server.create_app)."""
    keys: tuple[bytes, ...] | None = None
    if api_keys is not None:
        if isinstance(api_keys, (str, bytes, bytearray)):
            raise TypeError(
                "api_keys must be an iterable of keys, such as [key], not a single "
                f"{type(api_keys).__name__}"
            )
        listed = tuple(api_keys)
        if not all(isinstance(k, str) for k in listed):
            raise TypeError("api_keys must hold str keys")
        keys = tuple(k.encode("utf-8") for k in listed)
    for name, seconds in (("request_timeout", request_timeout), ("body_timeout", body_timeout)):
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not seconds > 0
            or not math.isfinite(seconds)
        ):
            raise ValueError(f"{name} must be a positive number of seconds or None")
    options = _Options(
        max_body_bytes=max_body_bytes,
        request_timeout=request_timeout,
        body_timeout=body_timeout,
        check_results=check_results,
        operator_endpoints=operator_endpoints,
    )
    observer = Observer(f"{api.logger}.access", metrics=metrics, tracing=tracing)
    server = _Server(api, service, keys, authenticate, options, observer)

    # A plain coroutine function: ASGI servers (uvicorn) tell ASGI 3 apps by that.
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await server.serve(scope, receive, send)

    return app


@dataclass(frozen=True, slots=True, kw_only=True)
class _Options:
    max_body_bytes: int
    request_timeout: float | None
    body_timeout: float | None
    check_results: bool
    operator_endpoints: bool


class _ClientGone(Exception):
    """The client closed the connection before its answer: nothing is sent."""


@dataclass(slots=True)
class _Request:
    """What the pipeline learns about one request as it goes."""

    scope: Scope
    receive: Receive
    headers: dict[str, str]
    request_id: str
    exchange: Exchange
    #: Whether the body was read to its end (an answer before that closes the connection).
    body_done: bool = False
    #: Whether the client went away while its request was being served.
    gone: bool = False
    #: The route, once known.
    route: Route | None = None


#: The operator endpoints: path -> what it answers (GET and HEAD only).
_OPERATOR_PATHS = {
    "/health": "live",
    "/health/live": "live",
    "/health/ready": "ready",
    "/openapi.json": "openapi",
    "/metrics": "metrics",
}


class _Server:
    """One app's state: the API it serves, its service and its options."""

    def __init__(
        self,
        api: ServerApi,
        service: object,
        keys: tuple[bytes, ...] | None,
        authenticate: Authenticator | None,
        options: _Options,
        observer: Observer,
    ) -> None:
        self.api = api
        self.service = service
        self.keys = keys
        self.authenticate = authenticate
        self.options = options
        self.max_body_bytes = options.max_body_bytes
        self.observer = observer
        self.router = Router(api.routes)
        self.logger = logging.getLogger(api.logger)
        self.key_headers = frozenset((api.key_header, "authorization"))
        # Headers that hold one value: repeated with the same value they count once, with
        # different values they answer 400 (joined with ", " they would never match a key, a
        # mode, a length).
        self.single_valued = frozenset(
            (
                api.key_header,
                "authorization",
                "content-length",
                "content-type",
                *(
                    r.extra_parameters_header.lower()
                    for r in api.routes
                    if r.extra_parameters_header is not None
                ),
            )
        )
        # The operator endpoints a spec path does not take.
        self.operator_paths: dict[str, str] = {}
        if options.operator_endpoints:
            for path, kind in _OPERATOR_PATHS.items():
                if not any(route.pattern.match(path) for route in api.routes):
                    self.operator_paths[path] = kind
        # Ready once the service's startup hook has run (at once without one).
        # Looked up on the class, as Python looks up special methods: a service answering any
        # attribute (a __getattr__ proxy) has no hooks unless its class defines them.
        self.startup = _hook(service, "startup")
        self.shutdown = _hook(service, "shutdown")
        self.ready = self.startup is None
        # Set by the lifespan protocol; when a host never runs it (httpx's ASGITransport, a
        # server with lifespan off), startup runs before the first request instead.
        self.lifespan = False
        self.startup_lock = asyncio.Lock()
        self.stopping = False

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self._lifespan(receive, send)
            elif kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        headers, conflicts = _headers_of(scope, self.single_valued)
        offered_id = headers.get("x-ms-client-request-id")
        if offered_id and _REQUEST_ID.match(offered_id):
            request_id = offered_id
            reply_headers = {"x-request-id": request_id, "x-ms-client-request-id": offered_id}
        else:
            request_id = _uuid4()
            reply_headers = {"x-request-id": request_id}
        method = scope.get("method", "GET")
        exchange = self.observer.begin(method, request_id, headers)
        request = _Request(scope, receive, headers, request_id, exchange)
        try:
            operator = self.operator_paths.get(scope.get("path", ""))
            if operator is not None and method in ("GET", "HEAD"):
                self.observer.routed(exchange, scope["path"], "", "")
                await self._operator(operator, request, send, reply_headers)
                return
            await self._serve_api(request, send, conflicts, reply_headers)
        finally:
            self.observer.end(exchange)

    async def _serve_api(
        self,
        request: _Request,
        send: Send,
        conflicts: tuple[str, ...],
        reply_headers: dict[str, str],
    ) -> None:
        errors = self.api.errors
        headers = request.headers
        request_id = request.request_id
        body: _answer.Body | None
        try:
            try:
                if "transfer-encoding" in headers and "content-length" in headers:
                    # Request smuggling: the two framings may disagree on where this request
                    # ends (RFC 9112 6.3): refuse it and close the connection.
                    raise _Failure(
                        400,
                        "InvalidRequestFraming",
                        "A request may not carry both Content-Length and Transfer-Encoding.",
                        headers={"connection": "close"},
                    )
                route, path_params = self.router.route_of(request.scope)
                errors = route.errors
                # The api-version as _handle finds it ("" when missing, "other" when not ours).
                self.observer.routed(request.exchange, route.path, route.operation_id, "")
                request.route = route
                if conflicts:
                    raise _Failure(
                        400,
                        "InvalidHeaderValue",
                        f"Header {conflicts[0]!r} is repeated with different values.",
                        details=[
                            _Detail(name, "InvalidValue", "is repeated with different values")
                            for name in conflicts
                        ],
                    )
                if not self.ready and not self.stopping:
                    await self._until_started()
                status, result = await self._handle(route, path_params, request)
                body = _answer.small_answer(result, route.result, self.options.check_results)
                if body is None:  # a big one: checked in a worker thread, then streamed
                    body = await _answer.write_answer(
                        result, route.result, check=self.options.check_results
                    )
            except _answer.InvalidResult as invalid:
                self.logger.error("request %s: the service's %s", request_id, invalid)
                raise _crash(request_id) from None
        except _Failure as failure:
            status, error_body = self._safe_error_reply(errors, failure, reply_headers, request_id)
            body = None if error_body is None else [error_body]
        except _ClientGone:
            request.exchange.outcome = "client disconnected"
            request.exchange.status = 499  # nginx's figure for it; nothing is sent
            return
        except asyncio.CancelledError:
            if _cancelled_from_outside():
                raise  # the server is cancelling this request (shutdown): let it
            # The service raised CancelledError of its own.
            self.logger.error("request %s: the service raised CancelledError", request_id)
            status, error_body = self._safe_error_reply(
                errors, _crash(request_id), reply_headers, request_id
            )
            body = [error_body] if error_body is not None else None
        except Exception:
            self.logger.exception("request %s failed in the service", request_id)
            status, error_body = self._safe_error_reply(
                errors, _crash(request_id), reply_headers, request_id
            )
            body = [error_body] if error_body is not None else None
        except BaseException as exc:  # KeyboardInterrupt, SystemExit, ... from a service
            self.logger.error(
                "request %s: the service raised %s", request_id, type(exc).__name__, exc_info=exc
            )
            status, error_body = self._safe_error_reply(
                errors, _crash(request_id), reply_headers, request_id
            )
            body = [error_body] if error_body is not None else None
        if not request.body_done and _announces_body(headers):
            # Answered before the body was read: rather than read what may be a lot (or
            # never come), close the connection after this answer.
            reply_headers["connection"] = "close"
        if request.route is not None and not request.exchange.api_version:
            # Answered before _handle read the api-version (a 401, say): read it for the log.
            request.exchange.api_version = _api_version_of(
                request.scope, request.route, self.api.api_version
            )
        request.exchange.status = status
        head = request.scope.get("method") == "HEAD"
        if not isinstance(body, _answer.Stream):
            await _respond(send, status, body, reply_headers, head)
            return
        try:
            await _stream(send, status, body, reply_headers)
        except Exception:
            # The head is gone: the answer can only be cut short (the server then closes).
            self.logger.exception("request %s: its answer failed while being sent", request_id)
            request.exchange.outcome = "answer cut short"

    async def _operator(
        self, kind: str, request: _Request, send: Send, reply_headers: dict[str, str]
    ) -> None:
        """The liveness, readiness, spec and metrics endpoints."""
        content_type = b"application/json"
        status = 200
        if kind == "live":
            payload = b'{"status":"ok"}'
        elif kind == "ready":
            if self.ready:
                payload = b'{"status":"ready"}'
            else:
                status = 503
                state = "stopping" if self.stopping else "starting"
                payload = b'{"status":"%s"}' % state.encode()
        elif kind == "openapi" and self.api.openapi_json is not None:
            payload = self.api.openapi_json.encode("utf-8")
        elif kind == "metrics" and (exposition := self.observer.exposition()) is not None:
            payload = exposition
            content_type = PROMETHEUS_CONTENT_TYPE.encode()
        else:
            missing = "prometheus-client is not installed" if kind == "metrics" else "no spec"
            failure = _Failure(404, "NotFound", f"Not served here: {missing}.")
            status, error_body = self._safe_error_reply(
                self.api.errors, failure, reply_headers, request.request_id
            )
            request.exchange.status = status
            await _respond(
                send,
                status,
                [error_body] if error_body else None,
                reply_headers,
                request.scope.get("method") == "HEAD",
            )
            return
        if _announces_body(request.headers):
            reply_headers["connection"] = "close"
        request.exchange.status = status
        raw_headers = [
            (b"content-type", content_type),
            (b"content-length", b"%d" % len(payload)),
            (b"cache-control", b"no-store"),
            *(
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in reply_headers.items()
            ),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        head = request.scope.get("method") == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The service's `startup` before the first request, its `shutdown` after the last."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.lifespan = True
                try:
                    if self.startup is not None:
                        await self.startup()
                except BaseException as exc:
                    self.logger.error("the service's startup failed", exc_info=exc)
                    await send(
                        {
                            "type": "lifespan.startup.failed",
                            "message": f"{type(exc).__name__}: {exc}"[:1000],
                        }
                    )
                    if not isinstance(exc, Exception):
                        raise
                    return
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                self.stopping = True
                try:
                    if self.shutdown is not None:
                        await self.shutdown()
                except Exception as exc:
                    self.logger.error("the service's shutdown failed", exc_info=exc)
                    await send(
                        {
                            "type": "lifespan.shutdown.failed",
                            "message": f"{type(exc).__name__}: {exc}"[:1000],
                        }
                    )
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _until_started(self) -> None:
        """Before the service's startup has finished: 503 while the lifespan runs it; run it
        once here for a host that does not run the lifespan protocol. (After shutdown,
        requests are still served: readiness has told the load balancer to stop.)"""
        if self.lifespan:
            raise _Failure(
                503,
                "ServiceUnavailable",
                "The service is starting; try again shortly.",
                headers={"retry-after": "1"},
            )
        async with self.startup_lock:
            if self.ready or self.startup is None:
                return
            try:
                await self.startup()
            except Exception:
                self.logger.exception("the service's startup failed")
                raise _Failure(
                    503,
                    "ServiceUnavailable",
                    "The service could not start.",
                    headers={"retry-after": "1"},
                ) from None
            self.ready = True

    async def _call_service(
        self, route: Route, body: _t.Any, context: RequestContext, request: _Request, guard: _Guard
    ) -> _t.Any:
        """The service method's result, within request_timeout (else 504), cancelled when the
        client goes away (then _ClientGone)."""
        task = guard.task
        guard.arm(request, self.options.request_timeout)
        try:
            return await getattr(self.service, route.handler)(body, context)
        except asyncio.CancelledError:
            ours = request.gone or guard.expired
            # Not ours (the server's shutdown, or raised by the service itself: serve() tells
            # them apart), or ours and someone else's too: let it go on.
            if not ours or task.uncancel() > 0:
                raise
            if request.gone:
                raise _ClientGone() from None
            self.logger.warning(
                "request %s: %s took longer than %s s; cancelled",
                request.request_id,
                route.operation_id,
                self.options.request_timeout,
            )
            raise _Failure(
                504,
                "Timeout",
                f"The service did not answer within {self.options.request_timeout:g} s.",
            ) from None

    async def _handle(
        self, route: Route, path_params: dict[str, str], request: _Request
    ) -> tuple[int, _t.Any]:
        scope, headers, request_id = request.scope, request.headers, request.request_id
        api_version = self.api.api_version
        credentials = _credentials(headers, self.api.key_header)
        if self.keys is not None and not _check_key(credentials, self.keys):
            raise _Failure(
                401,
                "Unauthorized",
                "Access denied: a valid key is required.",
                headers={"www-authenticate": "Bearer"},
            )
        query, repeated = _query_of(scope)
        version_param = route.api_version_param
        if version_param is not None:
            if version_param in repeated:
                raise _Failure(
                    400,
                    "InvalidApiVersionParameter",
                    f"The {version_param!r} query parameter is repeated with "
                    f"different values; send it once ({api_version!r}).",
                    target=version_param,
                )
            version = query.get(version_param)
            request.exchange.api_version = (
                api_version if version == api_version else "other" if version else ""
            )
            if not version:
                raise _Failure(
                    400,
                    "MissingApiVersionParameter",
                    f"The {version_param!r} query parameter is required; "
                    f"the supported version is {api_version!r}.",
                    target=version_param,
                )
            if version != api_version:
                raise _Failure(
                    400,
                    "UnsupportedApiVersion",
                    f"Unsupported {version_param!r} {version[:100]!r}; "
                    f"the supported version is {api_version!r}.",
                    target=version_param,
                )
        else:
            request.exchange.api_version = api_version
        public_headers = dict(headers)
        for name in self.key_headers:
            public_headers.pop(name, None)
        mode = route.default_mode
        if route.extra_parameters_header is not None:
            mode = headers.get(route.extra_parameters_header.lower(), mode)
            if route.known_modes and mode not in route.known_modes:
                raise _Failure(
                    400,
                    "InvalidHeaderValue",
                    f"Header {route.extra_parameters_header!r} must be one of "
                    f"{', '.join(route.known_modes)}; got {mode[:100]!r}.",
                    details=[
                        _Detail(
                            route.extra_parameters_header,
                            "InvalidValue",
                            "is not a known value",
                            mode[:100],
                        )
                    ],
                )
        context = RequestContext(
            operation_id=route.operation_id,
            request_id=request_id,
            api_version=query.get(version_param or "", api_version),
            headers=public_headers,
            query=query,
            path_params=path_params,
            extra_parameters=mode,
            credentials=credentials,
        )
        try:
            if self.authenticate is not None and not await self.authenticate(context):
                raise _Failure(
                    401, "Unauthorized", "Access denied.", headers={"www-authenticate": "Bearer"}
                )
        except ServiceError as error:
            raise _failure_of(error) from None
        for location, name in route.required_params:
            source = query if location == "query" else headers
            if name.lower() not in source and name not in source:
                raise _Failure(
                    400,
                    "MissingParameter",
                    f"The {location} parameter {name!r} is required.",
                    target=name,
                )
        body: _t.Any = None
        task = asyncio.current_task()
        assert task is not None
        guard = _guard(task)  # the body's time limit, then the service's
        try:
            if route.body_model is not None:
                # The body (see _read_json), within body_timeout (else 408, and the connection
                # closed); read here, not in a coroutine of its own (one frame less a request).
                guard.arm(None, self.options.body_timeout)
                try:
                    body = await _read_json(
                        route, request.receive, headers, self.max_body_bytes, request
                    )
                except asyncio.CancelledError:
                    if not guard.expired or task.uncancel() > 0:
                        raise
                    raise _Failure(
                        408,
                        "RequestTimeout",
                        f"The request body did not arrive within {self.options.body_timeout:g} s.",
                        headers={"connection": "close"},
                    ) from None
                if body is not None:
                    _apply_extra_parameters_mode(route, mode, body, context)
            result = await self._call_service(route, body, context, request, guard)
        except ServiceError as error:
            raise _failure_of(error) from None
        except QueueFull as full:  # a DynamicBatcher's queue is full: come back later
            busy = ServiceError(
                429, "TooManyRequests", f"The model is busy: {full}", retry_after=full.retry_after
            )
            raise _failure_of(busy) from None
        except BatcherClosed:
            closing = ServiceError(
                503, "ServiceUnavailable", "The server is shutting down.", retry_after=1
            )
            raise _failure_of(closing) from None
        finally:
            guard.close()
        if route.result is not None and not isinstance(result, route.result):
            raise TypeError(
                f"{route.operation_id} returned {type(result).__name__}, "
                f"not {route.result.__name__}"
            )
        return route.status, result

    def _safe_error_reply(
        self,
        errors: ErrorTable,
        failure: _Failure,
        reply_headers: dict[str, str],
        request_id: str,
    ) -> tuple[int, bytes | None]:
        """The error reply; if building it fails (a ServiceError changed after it was made into
        something the shapes cannot write), the generic 500, logged with the request id."""
        try:
            return self._error_reply(errors, failure, reply_headers)
        except Exception:
            self.logger.exception("request %s: its error reply could not be written", request_id)
            for name in [
                n for n in reply_headers if n not in ("x-request-id", "x-ms-client-request-id")
            ]:
                del reply_headers[name]
            return self._error_reply(errors, _crash(request_id), reply_headers)

    def _error_reply(
        self, errors: ErrorTable, failure: _Failure, reply_headers: dict[str, str]
    ) -> tuple[int, bytes | None]:
        for name, value in failure.headers.items():
            lowered = name.lower()
            if _TOKEN.match(lowered) and lowered not in _FRAMING_HEADERS:
                reply_headers[lowered] = _header_value(value)
        reply_headers["x-ms-error-code"] = _header_value(failure.code)
        shape = _error_shape(errors, self.api.errors, failure.status)
        if shape is None:
            return failure.status, None
        payload = write_error_body(
            shape, failure.status, failure.code, failure.message, failure.target, failure.details
        )
        return failure.status, _json_bytes(payload)


def _error_shape(table: ErrorTable, api_errors: ErrorTable, status: int) -> ErrorShape | None:
    """The shape documented for `status`: exact, then `4XX`, then `default` (else the API's
    default)."""
    for key in (str(status), f"{status // 100}XX", "default"):
        for documented, shape in table:
            if documented.upper() == key.upper():
                return shape
    return next(shape for documented, shape in api_errors if documented == "default")


def _apply_extra_parameters_mode(
    route: Route, mode: str, body: _rt.Model, context: RequestContext
) -> None:
    """Pass through, drop or refuse the body's unknown properties, as `mode` says."""
    if not body.additional_properties and _holds_no_models(type(body)):
        return  # none anywhere (context.extra_body is already empty)
    _error_mode, drop_mode, pass_mode = route.modes
    if mode == pass_mode:
        # Kept where they are; the body's own ones also in context.extra_body.
        context.extra_body = dict(body.additional_properties)
        return
    # Unknown properties at any depth (where the schema allows them at all:
    # `additionalProperties: false` already failed validation).
    paths, count, holders = _unknown_properties(body, MAX_ERROR_DETAILS)
    if holders and mode == drop_mode:
        for holder in holders:
            holder.additional_properties.clear()
    elif holders:
        shown = ", ".join(_clip(path) for path in paths[:10])
        more = f" and {count - 10} more" if count > 10 else ""
        raise _Failure(
            400,
            "ExtraParametersNotAllowed",
            f"Extra parameters [{shown}{more}] are not allowed when "
            f"{route.extra_parameters_header or 'extra-parameters'!r} is {mode!r}; "
            f"send {pass_mode!r} to pass them to the model, or {drop_mode!r} to drop them.",
            details=[
                _Detail(_clip(path, 1000), "UnknownParameter", "is not a known parameter")
                for path in paths
            ],
        )


def _headers_of(
    scope: Scope, single_valued: frozenset[str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The request headers (names in lower case, values decoded as latin-1, so that encoding
    them back gives the bytes sent), and the single-valued headers repeated with different
    values. A repeated header is otherwise one value joined with ", "; a single-valued one
    repeated with the same value counts once."""
    raw = scope.get("headers", ())
    if type(raw) is not list:
        raw = list(raw)
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
    if len(headers) == len(raw):  # no header repeated (the common case): done in one pass
        return headers, ()
    headers = {}
    conflicts: list[str] = []
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name not in headers:
            headers[name] = value
        elif name in single_valued:
            if headers[name] != value and name not in conflicts:
                conflicts.append(name)
        else:
            headers[name] = f"{headers[name]}, {value}"
    return headers, tuple(conflicts)


def _query_of(scope: Scope) -> tuple[dict[str, str], frozenset[str]]:
    """The query parameters (the last value of a repeated one), and the names repeated with
    different values. Clients send the same few query strings over and over: the last
    QUERY_CACHE_SIZE are remembered (each request gets its own copy of the dict)."""
    raw_bytes: bytes = scope.get("query_string", b"")
    known = _QUERIES.get(raw_bytes)
    if known is None:
        known = _parse_query(raw_bytes)
        if len(_QUERIES) >= QUERY_CACHE_SIZE:
            _QUERIES.clear()
        if len(raw_bytes) <= 1024:
            _QUERIES[raw_bytes] = known
    return dict(known[0]), known[1]


QUERY_CACHE_SIZE = 256
_QUERIES: dict[bytes, tuple[dict[str, str], frozenset[str]]] = {}


def _parse_query(raw_bytes: bytes) -> tuple[dict[str, str], frozenset[str]]:
    raw = raw_bytes.decode("latin-1")
    query: dict[str, str] = {}
    conflicts: set[str] = set()
    if "%" in raw or "+" in raw:
        pairs = parse_qsl(raw, keep_blank_values=True)
    else:  # nothing to unquote: parse_qsl's split, without its per-pair unquoting
        pairs = [
            (name, value) for name, _, value in (p.partition("=") for p in raw.split("&") if p)
        ]
    for name, value in pairs:
        if query.get(name, value) != value:
            conflicts.add(name)
        query[name] = value
    return query, frozenset(conflicts)


def _credentials(headers: Mapping[str, str], key_header: str) -> tuple[str, ...]:
    """The keys a request offers: the key header's value as it is (no scheme), and the token
    of `Authorization: Bearer <token>` (another scheme, such as Basic, is not a key)."""
    found: list[str] = []
    if key_header != "authorization":
        value = headers.get(key_header)
        if value:
            found.append(value)
    value = headers.get("authorization")
    if value is not None and value[:7].lower() == "bearer ":
        token = value[7:].strip()
        if token and token not in found:
            found.append(token)
    return tuple(found)


def _check_key(credentials: tuple[str, ...], api_keys: tuple[bytes, ...]) -> bool:
    """Whether any offered credential is a configured key, comparing in constant time the
    bytes sent (headers are decoded as latin-1) with the key's UTF-8 bytes."""
    matched = False
    for candidate in credentials:
        encoded = candidate.encode("latin-1", "replace")
        for key in api_keys:
            matched |= hmac.compare_digest(encoded, key)
    return matched


def _clip(text: str, limit: int = 200) -> str:
    """`text`, cut to `limit` characters (marked with "...") for an error message."""
    return text if len(text) <= limit else text[:limit] + "..."


_PLAIN_TYPES = frozenset((str, int, float, bool, type(None), _rt.NotGiven))


def _unknown_properties(body: _rt.Model, limit: int) -> tuple[list[str], int, list[_rt.Model]]:
    """The properties the spec does not define, at any depth of a validated body: the paths
    of the first `limit` (document order, sorted within an object), how many there are, and
    the models holding them (in their `additional_properties`)."""
    if _holds_no_models(type(body)):  # the body's own unknown properties are all there are
        extras = body.additional_properties
        return (
            [_rt.join_path("", key) for key in heapq.nsmallest(limit, extras)],
            len(extras),
            [body] if extras else [],
        )
    paths: list[str] = []
    count = 0
    holders: list[_rt.Model] = []
    stack: list[tuple[str, _t.Any]] = [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _rt.Model):
            extras = value.additional_properties
            if extras:
                holders.append(value)
                count += len(extras)
                room = limit - len(paths)
                if room > 0:
                    paths += [_rt.join_path(path, key) for key in heapq.nsmallest(room, extras)]
            children = [
                (_rt.join_path(path, f.wire), getattr(value, f.attr)) for f in value._fields
            ]
            stack += reversed([c for c in children if type(c[1]) not in _PLAIN_TYPES])
        elif isinstance(value, list):
            if not _PLAIN_TYPES.issuperset(map(type, value)):
                stack += reversed(
                    [
                        (f"{path}[{i}]", v)
                        for i, v in enumerate(value)
                        if type(v) not in _PLAIN_TYPES
                    ]
                )
        elif isinstance(value, dict):
            stack += reversed(
                [
                    (_rt.join_path(path, k), v)
                    for k, v in value.items()
                    if type(v) not in _PLAIN_TYPES
                ]
            )
    return paths, count, holders


def _uuid4() -> str:
    """A random (version 4) UUID as text, as str(uuid.uuid4()) writes it, without building a
    UUID nor a system call: a request id needs to be unique, not unpredictable (the random
    module reseeds in a forked worker)."""
    text = random.randbytes(16).hex()  # then the version (4) and the variant (RFC 4122) digits
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:]}"


_NO_MODELS: dict[type[_rt.Model], bool] = {}


def _holds_no_models(model: type[_rt.Model]) -> bool:
    """Whether no value of `model`'s fields (or its unknown properties) can be a model:
    worked out once per model from its codecs."""
    known = _NO_MODELS.get(model)
    if known is None:
        codecs = [f.codec for f in model._fields]
        if model._additional is not None:
            codecs.append(model._additional)
        known = _NO_MODELS[model] = all(map(_codec_holds_no_models, codecs))
    return known


def _codec_holds_no_models(codec: _rt.Codec) -> bool:
    if isinstance(codec, (_rt.ModelCodec, _rt.LazyCodec)):
        return False
    if isinstance(codec, _rt.NullableCodec):
        return _codec_holds_no_models(codec.inner)
    if isinstance(codec, _rt.ArrayCodec):
        return _codec_holds_no_models(codec.items)
    if isinstance(codec, _rt.MapCodec):
        return _codec_holds_no_models(codec.values)
    if isinstance(codec, _rt.UnionCodec):
        return all(map(_codec_holds_no_models, (*codec.variants, *codec.mapping.values())))
    return True


#: The version (4) and variant (RFC 4122) bits of a random UUID.
#: A random hex digit -> a random digit of the RFC 4122 variant (10xx in binary).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _header_value(value: str) -> str:
    """A value safe to send as a header: printable ASCII only, at most 1024 characters."""
    return _UNSAFE_HEADER_CHARACTERS.sub("?", value)[:1024]


def _no_constant(token: str) -> _t.Any:
    raise ValueError(f"{token} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


#: json.loads with these options, built once (json.loads builds a decoder per call).
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _has_surrogate(value: _t.Any) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (escaped as \\ud800 to \\udfff)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _crash(request_id: str) -> _Failure:
    return _Failure(
        500,
        "InternalServerError",
        f"The server had an error processing the request (request id {request_id}).",
    )


def _failure_of(error: ServiceError) -> _Failure:
    """The answer for a ServiceError; one with a status that is not an error is a bug (500)."""
    if not isinstance(error.status, int) or not 400 <= error.status <= 599:
        raise TypeError(f"ServiceError status must be 400..599, not {error.status!r}") from error
    value = None
    if error.value is not None:
        value = (
            error.value if isinstance(error.value, str) else json.dumps(error.value, default=str)
        )
    details = [_Detail(target, code, message) for target, code, message in error.details]
    if error.target is not None and not details:
        details = [_Detail(error.target, error.code, error.message, value)]
    return _Failure(error.status, error.code, error.message, details, error.headers, error.target)


class _Guard:
    """The time limit of a request's phase (its body, then its service call: one guard,
    re-armed for each): when it passes, the request's task is cancelled (`expired` says so).
    For a service call, once it has run WATCH_AFTER seconds, a task also watches for the
    client going away and cancels it then: most calls end before, and cost no task at all.
    The limits of every phase in flight on an event loop are checked by one timer (_Clock),
    not a timer each."""

    __slots__ = ("clock", "deadline", "expired", "request", "started", "task", "watcher")

    def __init__(self, clock: _Clock, task: asyncio.Task[_t.Any]) -> None:
        self.clock = clock
        self.task = task
        self.request: _Request | None = None
        self.started = 0.0
        self.deadline: float | None = None
        self.expired = False
        self.watcher: asyncio.Task[None] | None = None

    def arm(self, request: _Request | None, seconds: float | None) -> None:
        """Start a phase: `seconds` from now (None: no limit), the client watched for going
        away when `request` is given."""
        clock = self.clock
        self.started = now = clock.loop.time()
        self.deadline = None if seconds is None else now + seconds
        self.request = request
        if seconds is not None or request is not None:
            clock.phases.add(self)
            if clock.handle is None:
                clock.handle = clock.loop.call_at(now + clock.TICK, clock.tick)

    def close(self) -> None:
        self.clock.phases.discard(self)
        watcher = self.watcher
        if watcher is not None:
            watcher.cancel()
            if watcher.done() and not watcher.cancelled():
                # A host whose receive() failed once the body was read: not this request's
                # error (retrieved, so that asyncio does not report it as lost).
                watcher.exception()


class _Clock:
    """The phases in flight on one event loop, and the one timer that checks them every TICK
    seconds while there are any: a deadline is kept to within TICK. One timer handle per
    phase (or asyncio.timeout) costs more than a small request's own work."""

    TICK = 0.05

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.phases: set[_Guard] = set()
        self.handle: asyncio.TimerHandle | None = None

    def tick(self) -> None:
        self.handle = None
        loop = self.loop
        now = loop.time()
        for phase in list(self.phases):
            if phase.deadline is not None and now >= phase.deadline:
                phase.expired = True
                self.phases.discard(phase)
                phase.task.cancel()
            elif (
                phase.request is not None
                and phase.watcher is None
                and now - phase.started >= WATCH_AFTER
            ):
                phase.watcher = loop.create_task(_watch_disconnect(phase.request, phase.task))
        if self.phases:
            self.handle = loop.call_at(now + self.TICK, self.tick)


class _Clocks(threading.local):
    """This thread's clock: the one of the event loop it last ran a request on."""

    clock: _Clock | None = None


_CLOCKS = _Clocks()


def _guard(task: asyncio.Task[_t.Any]) -> _Guard:
    """A guard for `task`'s phases, on the clock of its event loop (not yet armed)."""
    loop = task.get_loop()
    clock = _CLOCKS.clock
    if clock is None or clock.loop is not loop:  # another loop on this thread: its own clock
        clock = _CLOCKS.clock = _Clock(loop)
    return _Guard(clock, task)


#: Seconds a service call runs before its client is watched for going away.
WATCH_AFTER = 0.05


async def _watch_disconnect(request: _Request, task: asyncio.Task[_t.Any]) -> None:
    """Cancel `task` (the request's) when its client goes away. Runs once the body is read:
    receive() then answers only http.disconnect (a body message still coming is dropped)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            request.gone = True
            task.cancel()
            return


def _api_version_of(scope: Scope, route: Route, default: str) -> str:
    """The api-version a request asks for, for the operator's signals: this API's when it
    asks for it or the route has no such parameter; "other" when it asks for another (never
    a client's text); "" when it names none."""
    if route.api_version_param is None:
        return default
    asked = _query_of(scope)[0].get(route.api_version_param)
    return default if asked == default else "other" if asked else ""


def _hook(service: object, name: str) -> Callable[[], Awaitable[None]] | None:
    """The service's `name` lifespan hook, bound, if its class defines one."""
    if not callable(getattr(type(service), name, None)):
        return None
    hook: Callable[[], Awaitable[None]] = getattr(service, name)
    return hook


def _cancelled_from_outside() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _announces_body(headers: Mapping[str, str]) -> bool:
    """Whether the request says a body follows its head."""
    length = headers.get("content-length", "").strip()
    return "transfer-encoding" in headers or (bool(length) and length != "0")


async def _read_json(
    route: Route,
    receive: Receive,
    headers: Mapping[str, str],
    limit: int,
    request: _Request | None = None,
) -> _t.Any:
    """The request body, checked in order: Content-Length (400 unless 1 to 19 digits), media
    type (415), size (413, before reading more than the limit), UTF-8 and JSON (400), then
    the schema (400, the field paths of the first MAX_ERROR_DETAILS problems in the
    details). None when an optional body is absent."""
    declared = headers.get("content-length")
    if declared is not None:
        declared = declared.strip(" \t")
        if not _CONTENT_LENGTH.match(declared):
            raise _Failure(
                400,
                "InvalidHeaderValue",
                f"Header 'content-length' must be a decimal number of bytes; got "
                f"{_clip(declared, 40)!r}.",
                details=[
                    _Detail(
                        "content-length", "InvalidValue", "is not a length", _clip(declared, 40)
                    )
                ],
            )
    content_type = headers.get("content-type", "")
    announced = declared not in (None, "0") or "transfer-encoding" in headers
    if content_type != "application/json" and (content_type or announced):
        _check_media_type(content_type)
    length = None if declared is None else int(declared)
    if length is not None and length > limit:
        raise _Failure(413, "PayloadTooLarge", f"The request body is larger than {limit} bytes.")
    # Read through receive() whatever the framing headers say: an HTTP/2 or HTTP/3 server may
    # send neither Content-Length nor Transfer-Encoding; `more_body` ends the body. With
    # Content-Length, the body also ends at that many bytes: the server has framed the request
    # by it (granian sends the whole body with `more_body`, then an empty last message; not
    # waiting for that one saves a trip through the server, ~12 us a request).
    message = await receive()
    raw = message.get("body", b"")
    if (
        message["type"] != "http.request"
        or (message.get("more_body", False) and len(raw) != length)
        or len(raw) > limit
    ):
        raw = await _read_body(receive, limit, message, length)  # the body in more messages
    if request is not None:
        request.body_done = True
    if raw and not content_type:
        _check_media_type(content_type)
    if not raw:
        if route.body_required:
            raise _Failure(400, "InvalidRequestBody", "The request body is required.")
        return None
    assert route.body_model is not None
    # With msgspec installed, a body that passes its checks as it came is parsed, checked
    # and made the model in one C call (see _fast); any other goes the plain way.
    made = _fast.body_model(route.body_model, raw)
    if made is not None:
        return made
    data = _json_of(raw)
    try:
        return route.body_model.validate(data, max_errors=MAX_ERROR_DETAILS)
    except RecursionError:
        raise _Failure(
            400, "InvalidRequestBody", "The request body is nested too deeply."
        ) from None
    except _rt.ValidationError as exc:
        shown = "; ".join(_clip(str(e), 300) for e in exc.errors[:5])
        more = f" (and {len(exc.errors) - 5} more)" if len(exc.errors) > 5 else ""
        if exc.truncated:
            more += " (more errors not shown)"
        raise _Failure(
            400,
            "InvalidRequestBody",
            f"The request body is invalid: {shown}{more}",
            details=[
                _Detail(_clip(e.path, 1000), "InvalidValue", _clip(e.message, 300))
                for e in exc.errors
            ],
        ) from None


def _json_of(raw: bytes) -> _t.Any:
    """A request body's JSON (400 when it is not UTF-8 JSON): by orjson when it takes it, else
    by the standard library."""
    data = _parsed_by_orjson(raw)
    return _parsed(raw) if data is _NOT_PARSED else data


def _parsed(raw: bytes) -> _t.Any:
    """A request body's JSON by the standard library: UTF-8 (else 400), JSON without NaN,
    infinities or a byte order mark (else 400, in its words), no lone surrogate (else 400)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Failure(
            400, "InvalidRequestBody", f"The request body is not valid UTF-8 (byte {exc.start})."
        ) from None
    try:
        if text.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _DECODER.decode(text)
    except ValueError as exc:
        raise _Failure(
            400, "InvalidRequestBody", f"The request body is not valid JSON: {exc}"
        ) from None
    except RecursionError:
        raise _Failure(
            400, "InvalidRequestBody", "The request body is nested too deeply."
        ) from None
    if _ESCAPED_SURROGATE.search(text) and _has_surrogate(data):
        raise _Failure(
            400, "InvalidRequestBody", "The request body holds an unpaired UTF-16 surrogate."
        )
    return data


#: orjson, when installed: it parses request bodies (_parsed_by_orjson).
_orjson = _fast._orjson
_NOT_PARSED: _t.Final = object()
#: Each byte as "0" if it is a digit, else " ": 19 zeros in a row are a number that may be an
#: integer past 64 bits, which orjson reads as a float (a regular expression's search takes
#: twice as long on a small body).
_DIGITS_AS_ZEROS = bytes.maketrans(bytes(range(256)), b" " * 48 + b"0" * 10 + b" " * 198)
_LONG_NUMBER = b"0" * 19


def _parsed_by_orjson(raw: bytes) -> _t.Any:
    """A request body's JSON by orjson, when installed; _NOT_PARSED when it is not, when
    orjson refuses the body (the standard library then parses it and says what is wrong,
    in its words), or when the body holds a run of 19 digits or more (orjson reads an
    integer past 64 bits as a float; the standard library keeps it exact). A body that
    orjson takes, the standard library takes too, with the same values (tests/runtime says
    so), and it is UTF-8 without lone surrogates, NaN or infinities (orjson refuses them).

    `python bench/helpers.py` (load 3.8 on 2 cores): reading the server benchmark's request
    body takes 0.9 us with it, 2.2 us with the standard library (json and the checks above).
    """
    if _orjson is None or _LONG_NUMBER in raw.translate(_DIGITS_AS_ZEROS):
        return _NOT_PARSED
    try:
        return _orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError is one
        return _NOT_PARSED


def _check_media_type(content_type: str) -> None:
    essence = content_type.split(";", 1)[0].strip().lower()
    charset = "utf-8"
    for name, value in _JSON_PARAMETER.findall(content_type):
        if name.lower() == "charset":
            charset = value.strip('"').lower()
    if (essence != "application/json" and not essence.endswith("+json")) or charset not in (
        "utf-8",
        "utf8",
    ):
        raise _Failure(
            415,
            "UnsupportedMediaType",
            f"The request body must be application/json in UTF-8, not {content_type[:100] or 'unspecified'!r}.",
        )


async def _read_body(
    receive: Receive, limit: int, message: Message | None = None, length: int | None = None
) -> bytes:
    """The body from `message` (when given: the first, already received) and those after,
    until one says no more follows, or `length` bytes (its Content-Length) have come."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if message is None:
            message = await receive()
        if message["type"] == "http.disconnect":
            raise _Failure(
                400, "ClientDisconnected", "The client went away before sending the body."
            )
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Failure(
                413, "PayloadTooLarge", f"The request body is larger than {limit} bytes."
            )
        if not message.get("more_body", False) or size == length:
            # The common case, the whole body in one message, is not copied.
            return b"".join((*chunks, chunk)) if chunks else chunk
        chunks.append(chunk)
        message = None


def _json_bytes(payload: _t.Any) -> bytes:
    """Compact JSON; non-ASCII escaped, so that any string (even a lone surrogate) is safe."""
    return _answer.json_bytes(payload)


async def _stream(
    send: Send, status: int, body: _answer.Stream, headers: Mapping[str, str]
) -> None:
    """Send a big answer as it is written: no Content-Length (the server frames it)."""
    raw_headers = [(b"content-type", b"application/json")]
    raw_headers += [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    async for chunk in body.chunks():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _respond(
    send: Send,
    status: int,
    body: list[bytes] | None,
    headers: Mapping[str, str],
    head: bool,
) -> None:
    """Send the answer: its head, then the body's messages (none of them for HEAD)."""
    if body is None:
        raw_headers = [(b"content-length", b"0")]
    else:
        length = len(body[0]) if len(body) == 1 else sum(map(len, body))
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % length)]
    for name, value in headers.items():  # a loop: a comprehension costs a frame of its own
        raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    if head or not body:
        await send({"type": "http.response.body", "body": b""})
        return
    if len(body) == 1:  # a small answer: one message, the last
        await send({"type": "http.response.body", "body": body[0]})
        return
    chunks = body
    while chunks:
        # Each message dropped once sent: a big answer's memory goes as it goes out.
        chunk = chunks.pop(0)
        await send({"type": "http.response.body", "body": chunk, "more_body": bool(chunks)})
