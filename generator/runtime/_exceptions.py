"""The exceptions of the generated clients: the bases every package shares.

Every error carries what a caller needs to act on it. The client's keys and tokens are
scrubbed from its message, `body` and `error`, and the secret headers of the request it
keeps are blanked. The raw `response` stays as received: what the service sent back (a key
it echoed included) is not scrubbed there. The per-status classes (BadRequestError,
NotFoundError, ...) are declared by each package's exceptions.py, where `error` is typed
with the schemas its spec documents.
"""

from __future__ import annotations

from typing import Any

import httpx


class APIError(Exception):
    """Base of every error this package's clients raise."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message: str = message
        #: How many attempts the call made before giving up (retries included).
        self.attempts: int = 1


class APIConnectionError(APIError):
    """The service could not be reached, or the connection broke."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message)
        #: The request that got no answer (its secret headers blanked).
        self.request: httpx.Request | None = request


class APITimeoutError(APIConnectionError):
    """The request took longer than its timeout."""

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class APIStatusError(APIError):
    """The service answered with a status that is not a success."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        error: Any,
        error_code: str | None,
        body: Any,
    ) -> None:
        super().__init__(message)
        self.status_code: int = response.status_code
        self.response: httpx.Response = response
        #: The parsed error body, or None when it does not match the documented schema (each
        #: status class narrows its type to the schemas documented for it).
        self.error: Any = error
        #: The `x-ms-error-code` header (or the code in the body when the header is absent).
        self.error_code: str | None = error_code
        #: The service's `x-request-id` (or `apim-request-id`, `x-ms-request-id`) header:
        #: quote it when asking for support.
        self.request_id: str | None = (
            response.headers.get("x-request-id")
            or response.headers.get("apim-request-id")
            or response.headers.get("x-ms-request-id")
        )
        #: The `x-ms-client-request-id` the client sent.
        self.client_request_id: str | None = response.request.headers.get("x-ms-client-request-id")
        #: The decoded JSON body, or the text when it is not JSON.
        self.body: Any = body
        #: Seconds the service asked to wait before trying again (`Retry-After`), if it did.
        self.retry_after: float | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, "
            f"error_code={self.error_code!r}, request_id={self.request_id!r}, "
            f"message={self.message!r})"
        )


class APIResponseValidationError(APIError):
    """The service answered with a success status, but the answer could not be read: its
    body is not valid JSON, does not match the documented schema, or its Content-Encoding
    is broken. Not retried."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message)
        self.status_code: int = response.status_code
        self.response: httpx.Response = response
        #: The service's `x-request-id` (or `apim-request-id`, `x-ms-request-id`) header.
        self.request_id: str | None = (
            response.headers.get("x-request-id")
            or response.headers.get("apim-request-id")
            or response.headers.get("x-ms-request-id")
        )
        #: The `x-ms-client-request-id` the client sent.
        self.client_request_id: str | None = response.request.headers.get("x-ms-client-request-id")
        #: The decoded JSON body, the text when it is not JSON, or None when it could not be
        #: read.
        self.body: Any = body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )


def status_error_class(
    table: dict[int, type[APIStatusError]], server_error: type[APIStatusError], status: int
) -> type[APIStatusError]:
    """The class for an HTTP status: the table's, else `server_error` for 5xx, else the base."""
    if status in table:
        return table[status]
    if status >= 500:
        return server_error
    return APIStatusError
