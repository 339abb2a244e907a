"""The generated 2024-05 server on the wire: every failure in the documented error shape.

Driven over ASGI (httpx.ASGITransport) for speed; tests/server/test_uvicorn.py repeats the
parts that depend on a real HTTP server (size limits on a socket, SDKs) under uvicorn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from model_inference_2024_05_01_preview import models
from model_inference_2024_05_01_preview.server import RequestContext, ServiceError, create_app

from tests.server.spec_schemas import response_errors

VERSION = "2024-05-01-preview"
KEY = "secret-key-1"
URL = f"http://testserver/embeddings?api-version={VERSION}"
IMAGE_URL = f"http://testserver/images/embeddings?api-version={VERSION}"
RESULT = {"id": "x", "data": [{"index": 0, "object": "embedding", "embedding": [0.5]}],
          "object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}


class Service:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, RequestContext]] = []
        self.fail: BaseException | None = None
        self.result: Any = None

    async def get_embeddings(self, body: models.EmbeddingsOptions,
                             context: RequestContext) -> models.EmbeddingsResult:
        self.calls.append((body, context))
        if self.fail is not None:
            raise self.fail
        if self.result is not None:
            return self.result  # type: ignore[no-any-return]
        return models.EmbeddingsResult.from_dict(RESULT)

    async def get_image_embeddings(self, body: models.ImageEmbeddingsOptions,
                                   context: RequestContext) -> models.EmbeddingsResult:
        self.calls.append((body, context))
        return models.EmbeddingsResult.from_dict(RESULT)


def call(service: Service, method: str = "POST", url: str = URL, *,
         headers: dict[str, str] | None = None, content: bytes | None = None,
         body: Any = None, **options: Any) -> httpx.Response:
    options.setdefault("api_keys", [KEY])
    app = create_app(service, **options)
    sent_headers = {"api-key": KEY, "content-type": "application/json", **(headers or {})}
    sent_headers = {k: v for k, v in sent_headers.items() if v is not None}
    if body is not None:
        content = json.dumps(body).encode()

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
            return await client.request(method, url, headers=sent_headers, content=content)

    return asyncio.run(run())


def assert_error(response: httpx.Response, status: int, code: str,
                 path: str = "/embeddings") -> dict[str, Any]:
    """The answer is `status`, in the schema the spec documents for it, with matching codes."""
    assert response.status_code == status, response.text
    assert response.headers["x-ms-error-code"] == code
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert response_errors(VERSION, path, status, payload) == []
    error = models.ErrorResponse.validate(payload).error  # the generated model agrees
    assert error.code == code and error.message
    return payload


def test_success() -> None:
    service = Service()
    response = call(service, body={"input": ["a"]})
    assert response.status_code == 200 and response.json() == RESULT
    assert "x-ms-error-code" not in response.headers


@pytest.mark.parametrize("url", ["http://testserver/embeddings",
                                 "http://testserver/embeddings?api-version="])
def test_api_version_missing(url: str) -> None:
    payload = assert_error(call(Service(), url=url, body={"input": ["a"]}), 400,
                           "MissingApiVersionParameter")
    assert VERSION in payload["error"]["message"]
    assert payload["error"]["target"] == "api-version"


@pytest.mark.parametrize("version", ["2023-01-01", "2024-04-01-preview", "2024-05-01-PREVIEW"])
def test_api_version_unsupported(version: str) -> None:
    url = f"http://testserver/embeddings?api-version={version}"
    payload = assert_error(call(Service(), url=url, body={"input": ["a"]}), 400,
                           "UnsupportedApiVersion")
    assert VERSION in payload["error"]["message"]


@pytest.mark.parametrize("headers", [
    {"api-key": "wrong"}, {"api-key": ""}, {"api-key": None},
    {"api-key": "", "authorization": "Bearer nope"},
    {"api-key": None, "authorization": f"Basic {KEY}"},
    {"api-key": f"{KEY}x"}, {"api-key": KEY[:-1]}])
def test_wrong_or_missing_key_is_401(headers: dict[str, str]) -> None:
    service = Service()
    response = call(service, headers=headers, body={"input": ["a"]})
    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert service.calls == []


@pytest.mark.parametrize("headers", [
    {"api-key": None, "authorization": f"Bearer {KEY}"},
    {"api-key": None, "authorization": f"bearer   {KEY}"},
    {"api-key": "wrong", "authorization": f"Bearer {KEY}"},  # either credential may match
    {"api-key": KEY, "authorization": "Bearer something-else"}])
def test_key_in_api_key_or_bearer_is_accepted(headers: dict[str, str]) -> None:
    service = Service()
    response = call(service, headers=headers, body={"input": ["a"]})
    assert response.status_code == 200
    [(_body, context)] = service.calls
    assert "api-key" not in context.headers and "authorization" not in context.headers


def test_several_keys_rotate() -> None:
    for key in ("old", "new"):
        assert call(Service(), headers={"api-key": key}, body={"input": ["a"]},
                    api_keys=["old", "new"]).status_code == 200


def test_own_authenticator_replaces_the_key_check() -> None:
    seen: list[tuple[str, ...]] = []

    async def authenticate(context: RequestContext) -> bool:
        seen.append(context.credentials)
        if "banned" in context.credentials:
            raise ServiceError(403, "Forbidden", "This key is banned.")
        return "token-from-my-idp" in context.credentials

    def run(**headers: str | None) -> httpx.Response:
        return call(Service(), headers={"api-key": None, **headers}, body={"input": ["a"]},
                    api_keys=None, authenticate=authenticate)

    assert run(authorization="Bearer token-from-my-idp").status_code == 200
    assert_error(run(authorization="Bearer other"), 401, "Unauthorized")
    assert_error(run(**{"api-key": "banned"}), 403, "Forbidden")
    assert seen == [("token-from-my-idp",), ("other",), ("banned",)]


def test_validation_errors_name_every_field_path() -> None:
    response = call(Service(), url=IMAGE_URL,
                    body={"input": [{"text": 3}, "x"], "dimensions": "many"})
    payload = assert_error(response, 400, "InvalidRequestBody", "/images/embeddings")
    targets = sorted(d["target"] for d in payload["error"]["details"])
    assert targets == ["dimensions", "input[0].image", "input[0].text", "input[1]"]
    for target in targets:
        assert target in payload["error"]["message"]


@pytest.mark.parametrize(("content", "why"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid UTF-8"),
    (b'{"input": ["\xc3"]}', "not valid UTF-8"),
    (b'{"input": [NaN]}', "not valid JSON"),
    (b'{"input": ["a"], "dimensions": Infinity}', "not valid JSON"),
    (b'{"input": ["a"], "dimensions": 1e999}', "not valid JSON"),
    (b'{"input": ["a"], "dimensions": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b'{"input": ["\\ud800"]}', "surrogate"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"", "required"),
    (b"[]", "invalid"),
    (b"null", "invalid"),
    (b'{"input": 42}', "invalid"),
    (b'{"input": [["not a token"]]}', "invalid")])
def test_unparseable_bodies_are_400(content: bytes, why: str) -> None:
    service = Service()
    payload = assert_error(call(service, content=content), 400, "InvalidRequestBody")
    assert why in payload["error"]["message"]
    assert service.calls == []


def test_paired_surrogates_are_fine() -> None:
    service = Service()
    response = call(service, content=b'{"input": ["\\ud83d\\ude00 \xc3\xa9"]}')
    assert response.status_code == 200
    assert service.calls[0][0].input == ["\U0001f600 \u00e9"]


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/json; charset=latin-1", "application/jsonx", None])
def test_wrong_content_type_is_415(content_type: str | None) -> None:
    service = Service()
    assert_error(call(service, headers={"content-type": content_type}, content=b'{"input":["a"]}'),
                 415, "UnsupportedMediaType")
    assert service.calls == []


@pytest.mark.parametrize("content_type", [
    "application/json", "Application/JSON; charset=UTF-8", 'application/json;charset="utf-8"',
    "application/merge-patch+json"])
def test_json_content_types_are_accepted(content_type: str) -> None:
    response = call(Service(), headers={"content-type": content_type}, body={"input": ["a"]})
    assert response.status_code == 200, response.text


def test_missing_body_without_content_type_is_400_not_415() -> None:
    assert_error(call(Service(), headers={"content-type": None}), 400, "InvalidRequestBody")


def test_body_over_the_limit_is_413() -> None:
    assert_error(call(Service(), body={"input": ["a" * 2000]}, max_body_bytes=1000), 413,
                 "PayloadTooLarge")
    assert call(Service(), body={"input": ["a" * 900]}, max_body_bytes=1000).status_code == 200


def test_declared_length_over_the_limit_is_413_without_reading() -> None:
    """The app answers from Content-Length alone: it never asks for the body."""
    app = create_app(Service(), api_keys=[KEY], max_body_bytes=1000)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/embeddings",
             "query_string": f"api-version={VERSION}".encode(),
             "headers": [(b"api-key", KEY.encode()), (b"content-type", b"application/json"),
                         (b"content-length", b"1000000000")]}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "PayloadTooLarge"


def test_unknown_route_404_and_wrong_method_405() -> None:
    assert_error(call(Service(), url=f"http://testserver/nope?api-version={VERSION}", body={}),
                 404, "NotFound")
    assert_error(call(Service(), url="http://testserver/embeddings/", body={}), 404, "NotFound")
    for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = call(Service(), method=method)
        assert_error(response, 405, "MethodNotAllowed")
        assert response.headers["allow"] == "POST"


def test_head_gets_405_without_a_body() -> None:
    response = call(Service(), method="HEAD")
    assert response.status_code == 405 and response.content == b""
    assert response.headers["x-ms-error-code"] == "MethodNotAllowed"


def test_extra_parameters_error_is_the_default() -> None:
    service = Service()
    payload = assert_error(call(service, body={"input": ["a"], "top_k": 3, "seed": 1}), 400,
                           "ExtraParametersNotAllowed")
    assert "seed" in payload["error"]["message"] and "top_k" in payload["error"]["message"]
    assert sorted(d["target"] for d in payload["error"]["details"]) == ["seed", "top_k"]
    assert service.calls == []


def test_extra_parameters_drop() -> None:
    service = Service()
    response = call(service, headers={"extra-parameters": "drop"},
                    body={"input": ["a"], "top_k": 3})
    assert response.status_code == 200
    [(body, context)] = service.calls
    assert body.additional_properties == {} and context.extra_body == {}
    assert context.extra_parameters == "drop"


def test_extra_parameters_pass_through() -> None:
    service = Service()
    response = call(service, headers={"extra-parameters": "pass-through"},
                    body={"input": ["a"], "top_k": 3})
    assert response.status_code == 200
    [(body, context)] = service.calls
    assert body.additional_properties == {"top_k": 3} and context.extra_body == {"top_k": 3}


def test_extra_parameters_unknown_mode() -> None:
    payload = assert_error(call(Service(), headers={"extra-parameters": "sometimes"},
                                body={"input": ["a"]}), 400, "InvalidHeaderValue")
    assert payload["error"]["details"][0]["target"] == "extra-parameters"


def test_service_error_maps_to_its_status() -> None:
    service = Service()
    service.fail = ServiceError(422, "UnsupportedParameter", "dimensions is not supported",
                                target="dimensions", value=7)
    payload = assert_error(call(service, body={"input": ["a"], "dimensions": 7}), 422,
                           "UnsupportedParameter")
    assert payload["error"]["target"] == "dimensions"
    assert payload["error"]["details"][0]["target"] == "dimensions"
    service.fail = ServiceError(429, "RateLimited", "slow down", retry_after=2.2)
    response = call(service, body={"input": ["a"]})
    assert_error(response, 429, "RateLimited")
    assert response.headers["retry-after"] == "3"


def test_service_error_text_cannot_break_headers() -> None:
    service = Service()
    service.fail = ServiceError(400, "Bad\r\nX-Injected: 1", "no", headers={"x-note": "é\n"})
    response = call(service, body={"input": ["a"]})
    assert response.status_code == 400
    assert "x-injected" not in response.headers
    assert response.headers["x-ms-error-code"] == "Bad??X-Injected: 1"
    assert response.json()["error"]["code"] == "Bad\r\nX-Injected: 1"


def _changed_to_200() -> ServiceError:
    """ServiceError(200, ...) fails at construction; one changed afterwards still answers 500."""
    error = ServiceError(400, "Fine", "a ServiceError must be an error status: hunter2")
    error.status = 200
    return error


@pytest.mark.parametrize("failure", [
    RuntimeError("database password is hunter2"),
    _changed_to_200(),
    ValueError("hunter2")])
def test_service_crash_is_a_generic_500(failure: Exception,
                                        caplog: pytest.LogCaptureFixture) -> None:
    service = Service()
    service.fail = failure
    with caplog.at_level(logging.ERROR):
        response = call(service, body={"input": ["a"]}, headers={"x-ms-client-request-id": "rid-1"})
    payload = assert_error(response, 500, "InternalServerError")
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert "rid-1" in payload["error"]["message"]
    assert response.headers["x-request-id"] == "rid-1"
    assert any("rid-1" in record.getMessage() and record.exc_info for record in caplog.records)


@pytest.mark.parametrize("result", [
    {"not": "a model"},
    models.EmbeddingsResult.from_dict({**RESULT, "data": [
        {"index": 0, "object": "embedding", "embedding": [float("nan")]}]})])
def test_a_bad_result_is_a_generic_500(result: Any, caplog: pytest.LogCaptureFixture) -> None:
    service = Service()
    service.result = result
    with caplog.at_level(logging.ERROR):
        response = call(service, body={"input": ["a"]})
    assert_error(response, 500, "InternalServerError")


def test_request_ids() -> None:
    response = call(Service(), body={"input": ["a"]}, headers={"x-ms-client-request-id": "abc-1"})
    assert response.headers["x-ms-client-request-id"] == "abc-1"
    assert response.headers["x-request-id"] == "abc-1"
    response = call(Service(), body={"input": ["a"]},
                    headers={"x-ms-client-request-id": "x" * 300})
    assert "x-ms-client-request-id" not in response.headers
    assert len(response.headers["x-request-id"]) == 36  # a fresh uuid


def test_context_carries_headers_query_and_mode() -> None:
    service = Service()
    call(service, url=URL + "&other=1", body={"input": ["a"]},
         headers={"x-custom": "v", "extra-parameters": "error"})
    [(_body, context)] = service.calls
    assert context.operation_id == "GetEmbeddings" and context.api_version == VERSION
    assert context.headers["x-custom"] == "v" and context.query["other"] == "1"
    assert context.extra_parameters == "error" and context.credentials == (KEY,)
    assert KEY not in repr(context)
