"""The generated server's behaviour on the wire: every failure in the documented error shape."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from model_inference_2024_05_01_preview import models
from model_inference_2024_05_01_preview.server import RequestContext, ServiceError, create_app

KEY = "secret-key-1"
URL = "http://testserver/embeddings?api-version=2024-05-01-preview"
RESULT = {"id": "x", "data": [{"index": 0, "object": "embedding", "embedding": [0.5]}],
          "object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}


class Service:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, RequestContext]] = []
        self.fail: Exception | None = None

    async def get_embeddings(self, body: models.EmbeddingsOptions,
                             context: RequestContext) -> models.EmbeddingsResult:
        self.calls.append((body, context))
        if self.fail is not None:
            raise self.fail
        return models.EmbeddingsResult.from_dict(RESULT)

    async def get_image_embeddings(self, body: models.ImageEmbeddingsOptions,
                                   context: RequestContext) -> models.EmbeddingsResult:
        self.calls.append((body, context))
        return models.EmbeddingsResult.from_dict(RESULT)


def call(service: Service, method: str = "POST", url: str = URL, *,
         headers: dict[str, str] | None = None, content: bytes | None = None,
         body: Any = None, **options: Any) -> httpx.Response:
    app = create_app(service, api_keys=[KEY], **options)
    sent_headers = {"api-key": KEY, "content-type": "application/json", **(headers or {})}
    if body is not None:
        content = json.dumps(body).encode()

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
            return await client.request(method, url, headers=sent_headers, content=content)

    return asyncio.run(run())


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-ms-error-code"] == code
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    error = models.ErrorResponse.validate(payload).error  # the documented shape, strictly
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
    assert "2024-05-01-preview" in payload["error"]["message"]


def test_api_version_unsupported() -> None:
    url = "http://testserver/embeddings?api-version=2023-01-01"
    payload = assert_error(call(Service(), url=url, body={"input": ["a"]}), 400,
                           "UnsupportedApiVersion")
    assert "2024-05-01-preview" in payload["error"]["message"]


@pytest.mark.parametrize("headers", [{"api-key": "wrong"}, {"api-key": ""},
                                     {"api-key": "", "authorization": "Bearer nope"}])
def test_wrong_key_is_401(headers: dict[str, str]) -> None:
    service = Service()
    assert_error(call(service, headers=headers, body={"input": ["a"]}), 401, "Unauthorized")
    assert service.calls == []


def test_bearer_key_is_accepted() -> None:
    response = call(Service(), headers={"api-key": "", "authorization": f"Bearer {KEY}"},
                    body={"input": ["a"]})
    assert response.status_code == 200


def test_validation_errors_name_every_field_path() -> None:
    response = call(Service(), url="http://testserver/images/embeddings?api-version=2024-05-01-preview",
                    body={"input": [{"text": 3}, "x"], "dimensions": "many"})
    payload = assert_error(response, 400, "InvalidRequestBody")
    targets = sorted(d["target"] for d in payload["error"]["details"])
    assert targets == ["dimensions", "input[0].image", "input[0].text", "input[1]"]


@pytest.mark.parametrize(("content", "code"), [
    (b"{not json", "InvalidRequestBody"), (b"\xff\xfe", "InvalidRequestBody"),
    (b'{"input": [NaN]}', "InvalidRequestBody"), (b"", "InvalidRequestBody"),
    (b"[]", "InvalidRequestBody")])
def test_unparseable_bodies_are_400(content: bytes, code: str) -> None:
    assert_error(call(Service(), content=content), 400, code)


def test_wrong_content_type_is_415() -> None:
    assert_error(call(Service(), headers={"content-type": "text/plain"}, content=b"{}"), 415,
                 "UnsupportedMediaType")


def test_body_over_the_limit_is_413() -> None:
    assert_error(call(Service(), body={"input": ["a" * 2000]}, max_body_bytes=1000), 413,
                 "PayloadTooLarge")


def test_unknown_route_404_and_wrong_method_405() -> None:
    assert_error(call(Service(), url="http://testserver/nope?api-version=2024-05-01-preview",
                      body={}), 404, "NotFound")
    response = call(Service(), method="GET")
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == "POST"


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
    assert_error(call(Service(), headers={"extra-parameters": "sometimes"},
                      body={"input": ["a"]}), 400, "InvalidHeaderValue")


def test_service_error_maps_to_its_status() -> None:
    service = Service()
    service.fail = ServiceError(422, "UnsupportedParameter", "dimensions is not supported",
                                target="dimensions")
    payload = assert_error(call(service, body={"input": ["a"], "dimensions": 7}), 422,
                           "UnsupportedParameter")
    assert payload["error"]["details"][0]["target"] == "dimensions"
    service.fail = ServiceError(429, "RateLimited", "slow down", retry_after=3)
    response = call(service, body={"input": ["a"]})
    assert_error(response, 429, "RateLimited")
    assert response.headers["retry-after"] == "3"


def test_service_crash_is_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    service = Service()
    service.fail = RuntimeError("database password is hunter2")
    response = call(service, body={"input": ["a"]}, headers={"x-ms-client-request-id": "rid-1"})
    payload = assert_error(response, 500, "InternalServerError")
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert "rid-1" in payload["error"]["message"]
    assert any("rid-1" in record.getMessage() for record in caplog.records)
