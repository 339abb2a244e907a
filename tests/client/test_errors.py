"""One exception class per status, each carrying the body parsed with the schema the spec
documents for that status, the error code, the request ids and the raw response."""

from __future__ import annotations

from typing import Any

import pytest
from model_inference_2024_04_01_preview import client as client_0401
from model_inference_2024_04_01_preview import exceptions as exc_0401
from model_inference_2024_04_01_preview import models as models_0401
from model_inference_2024_05_01_preview import client as client_0501
from model_inference_2024_05_01_preview import exceptions as exc_0501
from model_inference_2024_05_01_preview import models as models_0501

from tests.client.conftest import Answer, FaultServer

# Every key is scrubbed from error bodies and messages: a one-letter key would be cut out of
# every word that holds its letter.
KEY = "test-key-0123"
AZURE_ERROR = {"error": {"code": "InvalidInput", "message": "input is wrong",
                         "details": [{"code": "Empty", "message": "empty", "target": "input"}]}}

CLASSES_0501 = {400: exc_0501.BadRequestError, 401: exc_0501.AuthenticationError,
                403: exc_0501.PermissionDeniedError, 404: exc_0501.NotFoundError,
                409: exc_0501.ConflictError, 422: exc_0501.UnprocessableEntityError,
                429: exc_0501.RateLimitError, 500: exc_0501.InternalServerError,
                503: exc_0501.InternalServerError, 418: exc_0501.APIStatusError}


@pytest.mark.parametrize(("status", "cls"), sorted(CLASSES_0501.items()))
def test_status_maps_to_its_class_with_everything_attached(server: FaultServer, status: int,
                                                           cls: type) -> None:
    server.script(Answer(status=status, json=AZURE_ERROR,
                         headers={"x-ms-error-code": "FromHeader", "x-request-id": "req-7"}))
    with (client_0501.ModelInferenceClient(server.url, api_key=KEY, max_retries=0) as client,
          pytest.raises(exc_0501.APIStatusError) as caught):
        client.get_embeddings(input=["a"])
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, exc_0501.APIError)
    assert error.status_code == status == error.response.status_code
    assert error.error_code == "FromHeader"
    assert error.request_id == "req-7"
    assert error.client_request_id == server.requests[0].headers["x-ms-client-request-id"]
    assert isinstance(error.error, models_0501.ErrorResponse)
    assert error.error.error.details[0].target == "input"  # type: ignore[index]
    assert error.body == AZURE_ERROR
    assert str(error) == f"HTTP {status} (FromHeader): input is wrong"
    assert "req-7" in repr(error)


def test_code_from_the_body_and_text_bodies(server: FaultServer) -> None:
    server.script(Answer(status=400, json=AZURE_ERROR), Answer(status=400, json=["not", "an", "error"]))
    with client_0501.ModelInferenceClient(server.url, max_retries=0) as client:
        with pytest.raises(exc_0501.BadRequestError) as caught:
            client.get_embeddings(input=["a"])
        assert caught.value.error_code == "InvalidInput"
        with pytest.raises(exc_0501.BadRequestError) as caught:
            client.get_embeddings(input=["a"])
        assert caught.value.error is None  # does not match the documented schema
        assert caught.value.body == ["not", "an", "error"]


def _fail_0401(server: FaultServer, status: int, body: Any) -> exc_0401.APIStatusError:
    server.script(Answer(status=status, json=body, headers={"x-ms-error-code": "E"}))
    with (client_0401.ModelInferenceClient(server.url, api_key=KEY, max_retries=0) as client,
          pytest.raises(exc_0401.APIStatusError) as caught):
        client.get_image_embeddings(input=[{"image": "x"}])
    return caught.value


def test_2024_04_documented_error_responses_each_have_their_own_type(server: FaultServer) -> None:
    flat = {"error": "Unauthorized", "message": "no token", "status": 401}
    error = _fail_0401(server, 401, flat)
    assert type(error) is exc_0401.AuthenticationError
    assert isinstance(error.error, models_0401.UnauthorizedError)
    assert error.error.message == "no token"

    error = _fail_0401(server, 404, {"error": "NotFound", "message": "no images", "status": 404})
    # The exception keeps its fixed name; the schema of the same name is models.NotFoundError.
    assert type(error) is exc_0401.NotFoundError
    assert isinstance(error.error, models_0401.NotFoundError)
    assert str(error) == "HTTP 404 (E): no images"

    body = {"code": "unsupported", "detail": {"loc": ["body", "dimensions"], "value": "7"},
            "error": "Unprocessable", "message": "dimensions", "status": 422}
    error = _fail_0401(server, 422, body)
    assert type(error) is exc_0401.UnprocessableEntityError
    assert isinstance(error.error, models_0401.UnprocessableContentError)
    assert isinstance(error.error.detail, models_0401.Detail)
    assert error.error.detail.loc == ["body", "dimensions"]

    error = _fail_0401(server, 429, {"error": "TooMany", "message": "slow down", "status": 429})
    assert type(error) is exc_0401.RateLimitError
    assert isinstance(error.error, models_0401.TooManyRequestsError)

    # statuses without their own response get the `default` one: ContentFilterError
    content = {"code": "content_filter", "error": "Bad request", "message": "filtered",
               "param": "input", "status": 400}
    error = _fail_0401(server, 400, content)
    assert type(error) is exc_0401.BadRequestError
    assert isinstance(error.error, models_0401.ContentFilterError)
    assert error.error.param == "input"
    assert error.error_code == "E"
    error = _fail_0401(server, 500, content)
    assert type(error) is exc_0401.InternalServerError
    assert isinstance(error.error, models_0401.ContentFilterError)


def test_exception_classes_document_their_status() -> None:
    assert exc_0401.RateLimitError.__doc__ is not None
    assert "rate limit" in exc_0401.RateLimitError.__doc__
    assert exc_0401.status_error_class(404) is exc_0401.NotFoundError
    assert exc_0401.status_error_class(599) is exc_0401.InternalServerError
    assert exc_0401.status_error_class(402) is exc_0401.APIStatusError
    assert issubclass(exc_0501.APITimeoutError, exc_0501.APIConnectionError)
    assert issubclass(exc_0501.APIConnectionError, exc_0501.APIError)
