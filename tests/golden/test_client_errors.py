"""A non-2xx answer raises a typed exception with status, parsed error and code, never the key."""

from __future__ import annotations

import httpx
from model_inference_2024_05_01_preview import client as client_module
from model_inference_2024_05_01_preview import models
from model_inference_2024_05_01_preview.exceptions import APIStatusError, BadRequestError

SECRET = "sk-very-secret-0000"


def test_error_answer_becomes_a_typed_exception_without_the_key() -> None:
    body = {"error": {"code": "InvalidInput", "message": "input must not be empty",
                      "details": [{"code": "Empty", "message": "empty", "target": "input"}]}}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["api-key"] == SECRET
        return httpx.Response(400, json=body, headers={"x-ms-error-code": "InvalidInput",
                                                       "x-request-id": "req-42"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = client_module.ModelInferenceClient("https://example.test", api_key=SECRET,
                                                http_client=http)
    try:
        client.get_embeddings(input=[""])
    except BadRequestError as exc:
        error = exc
    else:
        raise AssertionError("no exception")
    assert isinstance(error, APIStatusError)
    assert error.status_code == 400
    assert error.error_code == "InvalidInput"
    assert isinstance(error.error, models.ErrorResponse)
    assert error.error.error.details[0].target == "input"  # type: ignore[index]
    assert error.request_id == "req-42"
    for text in (str(error), repr(error), str(error.args), repr(client)):
        assert SECRET not in text
