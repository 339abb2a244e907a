"""generator/runtime/_asgi.py as itself: the error-body interpreter, routing and a whole
request through a tiny ServerApi built by hand (no generated package involved)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from generator.runtime import _asgi
from generator.runtime import _runtime as rt
from generator.runtime._asgi import (
    AZURE_ERROR_SHAPE,
    ErrorField,
    ErrorShape,
    RequestContext,
    Route,
    Router,
    ServerApi,
    ServiceError,
    write_error_body,
)

DETAILS = (_asgi._Detail("input[0].image", "InvalidValue", "is not a URL", "x"),
           _asgi._Detail("dimensions", "Bad", "too big"))


def test_each_field_kind_is_written_from_the_failure() -> None:
    shape = ErrorShape(name="Flat", fields=(
        ErrorField("code", "code"),
        ErrorField("error", "phrase"),
        ErrorField("message", "message"),
        ErrorField("param", "target"),
        ErrorField("status", "status"),
        ErrorField("statusText", "status_text"),
        ErrorField("detail", "detail_object", loc_key="loc", value_key="value"),
        ErrorField("details", "detail_list", loc_key="loc", message_key="msg", code_key="type"),
        ErrorField("count", "zero", True, zero=0),
    ))
    body = write_error_body(shape, 422, "Bad", "No good", None, DETAILS)
    assert body == {
        "code": "Bad", "error": "Unprocessable Entity", "message": "No good",
        "param": "input[0].image, dimensions", "status": 422, "statusText": "422",
        "detail": {"loc": ["input", "0", "image"], "value": "x"},
        "details": [{"loc": ["input", "0", "image"], "msg": "is not a URL", "type": "InvalidValue"},
                    {"loc": ["dimensions"], "msg": "too big", "type": "Bad"}],
        "count": 0,
    }
    assert list(body) == [f.wire for f in shape.fields]  # the shape's order


def test_optional_fields_are_left_out_and_required_ones_filled() -> None:
    optional = ErrorShape(name="O", fields=(
        ErrorField("param", "target"), ErrorField("detail", "detail_object", loc_key="loc"),
        ErrorField("details", "detail_list", loc_key="loc"),
        ErrorField("more", "azure_details")))
    assert write_error_body(optional, 400, "C", "M", None, ()) == {}
    required = ErrorShape(name="R", fields=(
        ErrorField("param", "target", True), ErrorField("detail", "detail_object", True,
                                                        loc_key="loc", message_key="msg"),
        ErrorField("details", "detail_list", True, loc_key="loc")))
    assert write_error_body(required, 400, "C", "M", "a.b", ()) == {
        "param": "a.b", "detail": {"loc": ["a", "b"], "msg": "M"}, "details": []}


def test_the_azure_shape_carries_target_and_details_when_declared() -> None:
    body = write_error_body(AZURE_ERROR_SHAPE, 400, "C", "M", "t", DETAILS[:1])
    assert body == {"error": {"code": "C", "message": "M", "target": "t", "details": [
        {"code": "InvalidValue", "message": "is not a URL", "target": "input[0].image"}]}}
    bare = ErrorShape(name="E", fields=(ErrorField("error", "azure_error", True),))
    assert write_error_body(bare, 400, "C", "M", "t", DETAILS) == {
        "error": {"code": "C", "message": "M"}}
    assert write_error_body(bare, 599, "C", "M", None, ())["error"]["code"] == "C"


OPENAI_SHAPE = ErrorShape(name="ErrorResponse", fields=(ErrorField(
    "error", "object", True, fields=(
        ErrorField("message", "message", True), ErrorField("type", "error_type", True),
        ErrorField("param", "target", True, nullable=True), ErrorField("code", "code", True))),))


@pytest.mark.parametrize(("status", "category"), [
    (400, "invalid_request_error"), (401, "authentication_error"), (403, "permission_error"),
    (404, "not_found_error"), (413, "invalid_request_error"), (422, "invalid_request_error"),
    (429, "rate_limit_error"), (500, "server_error"), (503, "server_error")])
def test_a_nested_error_object_as_openai_writes_it(status: int, category: str) -> None:
    body = write_error_body(OPENAI_SHAPE, status, "C", "M", None, ())
    assert body == {"error": {"message": "M", "type": category, "param": None, "code": "C"}}
    assert list(body["error"]) == ["message", "type", "param", "code"]  # the shape's order
    named = write_error_body(OPENAI_SHAPE, 400, "C", "M", None, DETAILS)
    assert named["error"]["param"] == "input[0].image, dimensions"


@dataclasses.dataclass(kw_only=True, slots=True)
class Body(rt.Model):
    name: str
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Body._set_fields((rt.Field("name", "name", rt.StringCodec(), True),), rt.ANY)


def _route(path: str, handler: str, method: str = "POST") -> Route:
    return Route(operation_id=handler, method=method, path=path, handler=handler,
                 body_model=None, body_required=False, api_version_param=None,
                 extra_parameters_header=None, default_mode="pass-through", status=200,
                 result=None, errors=(("default", AZURE_ERROR_SHAPE),))


def test_the_router_takes_the_first_matching_route_and_knows_405() -> None:
    routes = (_route("/items/{name}", "item"), _route("/items/special", "special"),
              _route("/things", "things", "GET"))
    router = Router(routes)
    assert router.match("POST", "/items/special") == (routes[0], {"name": "special"})
    assert router.route_of({"method": "POST", "path": "/items/special"})[0] is routes[0]
    assert router.route_of({"method": "GET", "path": "/things"}) == (routes[2], {})
    with pytest.raises(_asgi._Failure) as failure:
        router.match("POST", "/things")
    assert failure.value.status == 405 and failure.value.headers == {"allow": "GET"}
    with pytest.raises(_asgi._Failure) as failure:
        router.match("POST", "/nothing")
    assert failure.value.status == 404


def _call(app: _asgi.ASGIApp, path: str, body: bytes, headers: list[tuple[bytes, bytes]]
          ) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"",
             "headers": headers}
    asyncio.run(app(scope, receive, send))
    start, end = sent
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, end["body"])


def test_a_whole_request_through_a_hand_built_api() -> None:
    seen: list[RequestContext] = []

    class Service:
        async def echo(self, body: Any, context: RequestContext) -> dict[str, Any]:
            seen.append(context)
            if body.name == "boom":
                raise ServiceError(429, "Slow", "Slow down", retry_after=2)
            return {"name": body.name}

    flat = ErrorShape(name="Flat", fields=(ErrorField("error", "code"),
                                           ErrorField("status", "status")))
    route = Route(operation_id="Echo", method="POST", path="/echo", handler="echo",
                  body_model=Body, body_required=True, api_version_param=None,
                  extra_parameters_header=None, default_mode="pass-through", status=200,
                  result=None, errors=(("429", flat), ("default", AZURE_ERROR_SHAPE)))
    api = ServerApi(api_version="v1", key_header="api-key", routes=(route,),
                    errors=(("default", AZURE_ERROR_SHAPE),), logger="test")
    app = _asgi.create_app(api, Service(), api_keys=["k"])
    json_type = (b"content-type", b"application/json")
    status, headers, body = _call(app, "/echo", b'{"name": "a", "x": 1}', [(b"api-key", b"k"), json_type])
    assert status == 200 and json.loads(body) == {"name": "a"}
    assert seen[0].extra_body == {"x": 1} and seen[0].credentials == ("k",)
    assert "api-key" not in seen[0].headers
    status, headers, body = _call(app, "/echo", b'{"name": "boom"}', [(b"api-key", b"k"), json_type])
    assert (status, json.loads(body), headers["retry-after"]) == (
        429, {"error": "Slow", "status": 429}, "2")
    status, headers, body = _call(app, "/echo", b"{}", [(b"api-key", b"wrong"), json_type])
    assert status == 401 and json.loads(body)["error"]["code"] == "Unauthorized"
    status, headers, body = _call(app, "/echo", b"{}", [(b"api-key", b"k"), json_type])
    assert status == 400 and headers["x-ms-error-code"] == "InvalidRequestBody"
    assert len(headers["x-request-id"]) == 36  # a uuid4


def test_request_ids_are_random_version_4_uuids_as_uuid_writes_them() -> None:
    import uuid

    ids = [_asgi._uuid4() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    assert {text[19] for text in ids} == set("89ab")  # the variant digit takes each value
