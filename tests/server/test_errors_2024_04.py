"""The generated 2024-04-01-preview server: each documented failure answered with its
documented status and that status's own flat body schema (UnauthorizedError, NotFoundError,
UnprocessableContentError, TooManyRequestsError; ContentFilterError as the default), the
`Authorization: Bearer` key, `ignore` as the drop mode, and the deployment header."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import httpx
import pytest
from model_inference_2024_04_01_preview import RequestContext, ServiceError

from examples.demo_service import image_seed, vector
from tests.server.demo_apps import demo_app, demo_service
from tests.server.spec_schemas import response_errors, response_schema_name

VERSION = "2024-04-01-preview"
KEY = "old-key"
PATH = "/images/embeddings"
URL = f"http://testserver{PATH}?api-version={VERSION}"
PNG = b"\x89PNG\r\n\x1a\n not really decoded by the demo"
IMAGE = "data:image/png;base64," + base64.b64encode(PNG).decode()


class Recording:
    def __init__(self) -> None:
        self.demo = demo_service(VERSION)
        self.calls: list[tuple[Any, RequestContext]] = []
        self.fail: Exception | None = None

    async def get_image_embeddings(self, body: Any, context: RequestContext) -> Any:
        self.calls.append((body, context))
        if self.fail is not None:
            raise self.fail
        return await self.demo.get_image_embeddings(body, context)


def call(service: Any, *, method: str = "POST", url: str = URL, body: Any = None,
         headers: dict[str, str] | None = None) -> httpx.Response:
    app = demo_app(VERSION, KEY, service)
    sent = {"authorization": f"Bearer {KEY}", "content-type": "application/json",
            **(headers or {})}

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
            return await client.request(method, url, headers=sent,
                                        content=json.dumps(body).encode() if body is not None
                                        else None)

    return asyncio.run(run())


def assert_flat_error(response: httpx.Response, status: int, code: str,
                      schema: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-ms-error-code"] == code
    payload = response.json()
    assert response_schema_name(VERSION, PATH, status) == schema
    assert response_errors(VERSION, PATH, status, payload) == []
    assert payload["status"] == status and payload["message"]
    # the body carries the same code as the header: in `code`, or in `error` when the
    # documented schema has no `code`
    assert payload.get("code", payload["error"]) == code
    return payload


def test_success_with_bearer_and_deployment_header() -> None:
    service = Recording()
    response = call(service, body={"input": [{"image": IMAGE, "text": "a cat"}], "dimensions": 4},
                    headers={"azureml-model-deployment": "blue"})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert response_errors(VERSION, PATH, 200, payload) == []
    assert payload["data"][0]["embedding"] == vector(image_seed(PNG, "a cat"), 4)
    assert "id" not in payload  # not a property of this version's result
    [(_body, context)] = service.calls
    assert context.headers["azureml-model-deployment"] == "blue"
    assert "authorization" not in context.headers


@pytest.mark.parametrize("headers", [{"authorization": "Bearer nope"}, {"authorization": KEY},
                                     {"authorization": "", "api-key": KEY}])
def test_401_is_unauthorized_error(headers: dict[str, str]) -> None:
    payload = assert_flat_error(call(Recording(), body={"input": [{"image": IMAGE}]},
                                     headers=headers), 401, "Unauthorized", "UnauthorizedError")
    assert set(payload) == {"error", "message", "status"}


def test_404_is_not_found_error() -> None:
    response = call(Recording(), url=f"http://testserver/embeddings?api-version={VERSION}",
                    body={"input": ["text"]})
    payload = assert_flat_error(response, 404, "NotFound", "NotFoundError")
    assert set(payload) == {"error", "message", "status"}


def test_405_is_the_default_shape() -> None:
    response = call(Recording(), method="GET")
    assert_flat_error(response, 405, "MethodNotAllowed", "ContentFilterError")
    assert response.headers["allow"] == "POST"


def test_422_from_the_service_is_unprocessable_content_error() -> None:
    payload = assert_flat_error(
        call(Recording(), body={"input": [{"image": IMAGE}], "dimensions": 0}),
        422, "UnsupportedParameter", "UnprocessableContentError")
    assert payload["detail"] == {"loc": ["dimensions"], "value": "0"}
    assert payload["error"] == "Unprocessable Entity"


def test_base64_is_refused_since_the_result_cannot_carry_it() -> None:
    payload = assert_flat_error(
        call(Recording(), body={"input": [{"image": IMAGE}], "encoding_format": "base64"}),
        422, "UnsupportedParameter", "UnprocessableContentError")
    assert payload["detail"] == {"loc": ["encoding_format"], "value": "base64"}


def test_422_for_a_nested_field_names_its_path() -> None:
    payload = assert_flat_error(call(Recording(), body={"input": [{"image": IMAGE},
                                                                  {"image": "%%%"}]}),
                                422, "InvalidImage", "UnprocessableContentError")
    assert payload["detail"]["loc"] == ["input", "1", "image"]


def test_429_is_too_many_requests_error_with_retry_after() -> None:
    service = Recording()
    service.fail = ServiceError(429, "TooManyRequests", "Slow down.", retry_after=7)
    response = call(service, body={"input": [{"image": IMAGE}]})
    assert_flat_error(response, 429, "TooManyRequests", "TooManyRequestsError")
    assert response.headers["retry-after"] == "7"


def test_a_full_batcher_queue_is_the_documented_429_with_retry_after() -> None:
    from model_inference_2024_04_01_preview.batching import BatcherClosed, QueueFull

    service = Recording()
    service.fail = QueueFull("4096 inputs are waiting", retry_after=2.2)
    response = call(service, body={"input": [{"image": IMAGE}]})
    payload = assert_flat_error(response, 429, "TooManyRequests", "TooManyRequestsError")
    assert response.headers["retry-after"] == "3"
    assert "4096 inputs are waiting" in json.dumps(payload)
    service.fail = BatcherClosed("closed")
    response = call(service, body={"input": [{"image": IMAGE}]})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


def test_400_validation_is_the_default_shape_naming_every_path() -> None:
    response = call(Recording(), body={"input": [{"text": 3}, "x"], "dimensions": "many"})
    payload = assert_flat_error(response, 400, "InvalidRequestBody", "ContentFilterError")
    assert payload["error"] == "Bad Request"
    assert sorted(payload["param"].split(", ")) == ["dimensions", "input[0].image",
                                                    "input[0].text", "input[1]"]


def test_api_version_is_checked() -> None:
    payload = assert_flat_error(
        call(Recording(), url=f"http://testserver{PATH}?api-version=2024-05-01-preview",
             body={"input": [{"image": IMAGE}]}), 400, "UnsupportedApiVersion",
        "ContentFilterError")
    assert VERSION in payload["message"] and payload["param"] == "api-version"


@pytest.mark.parametrize(("mode", "status", "extra_body"), [
    (None, 400, None), ("error", 400, None), ("ignore", 200, {}),
    ("pass-through", 200, {"top_k": 3}), ("drop", 400, None)])
def test_extra_parameters_modes(mode: str | None, status: int, extra_body: Any) -> None:
    service = Recording()
    headers = {"extra-parameters": mode} if mode else {}
    response = call(service, body={"input": [{"image": IMAGE}], "top_k": 3}, headers=headers)
    assert response.status_code == status, response.text
    if status == 400:
        code = "InvalidHeaderValue" if mode == "drop" else "ExtraParametersNotAllowed"
        payload = assert_flat_error(response, 400, code, "ContentFilterError")
        assert payload["param"] == ("extra-parameters" if mode == "drop" else "top_k")
        assert service.calls == []
    else:
        [(body, context)] = service.calls
        assert context.extra_body == extra_body and context.extra_parameters == mode
        assert body.additional_properties == extra_body


def test_crash_is_a_generic_500_in_the_default_shape(caplog: pytest.LogCaptureFixture) -> None:
    service = Recording()
    service.fail = KeyError("secret")
    with caplog.at_level(logging.ERROR):
        response = call(service, body={"input": [{"image": IMAGE}]})
    payload = assert_flat_error(response, 500, "InternalServerError", "ContentFilterError")
    assert "secret" not in response.text and "param" not in payload
