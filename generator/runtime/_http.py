"""The HTTP runtime of the generated clients: the base client (building requests, auth,
retries, reading answers) and the synchronous client. The async client is _async_http.py's,
so that the sync client never imports asyncio.

A generated client class declares its API (`_api`, a ClientApi) and one thin method per
operation, whose body is one `self._request(Call(...))`: the method and path, the arguments
by where they go, the result model. Everything else is here:

- Auth: `api_key=`, `token=` (a static bearer token) or `credential=` (any object whose
  `get_token(*scopes)` returns something with `.token` and `.expires_on`, such as an
  azure-identity credential); tokens are cached and refreshed before they expire. Keys and
  tokens never appear in a repr, a str, a log line, or an exception's message, `body` or
  `error` (an exception's raw `response` stays as the service sent it).
- Errors: a failed request raises one of the package's exceptions, never a raw httpx or JSON
  error: a status error, a connection error or timeout, or APIResponseValidationError for a
  success answer that cannot be read.
- Retries: connection errors (not setup errors, such as a request httpx will not send),
  timeouts and RETRY_STATUSES are retried with exponential backoff and jitter, honouring
  `Retry-After` (seconds or an HTTP date) and `retry-after-ms`, bounded by `max_retries` and
  by `total_timeout` (the budget of one call, retries included); both are set per client,
  per derived client (`with_options`) or per call.
- Raw responses: `client.with_raw_response.<method>(...)` returns a RawResponse with the
  httpx response, its headers and `parse()`; its methods are derived from the client's
  (RawMethod), not written again.
- Logging: the package's logger; DEBUG for each request and answer, INFO for each retry;
  secret headers are redacted.
"""

from __future__ import annotations

import copy
import email.utils
import functools
import inspect
import json
import logging
import math
import random
import threading
import time
import types
import typing as _t
import urllib.parse
from collections.abc import Callable, Mapping
from types import TracebackType

import httpx

from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
)
from ._runtime import NOT_GIVEN, Codec, Model, NotGiven, ValidationError, decode_answer, encode

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
#: Statuses worth trying again: the request may succeed later.
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))
#: A `Retry-After` longer than this (seconds) is not waited for, unless a `total_timeout`
#: allows it: the error is raised at once, with `retry_after` set.
MAX_RETRY_AFTER = 60.0
#: A token is refreshed this many seconds before it expires (or at half its lifetime).
TOKEN_REFRESH_MARGIN = 300.0
#: Header names whose values are never logged nor kept in exceptions, besides an API's key
#: header.
SECRET_HEADERS = frozenset(
    (
        "api-key",
        "authorization",
        "cookie",
        "ocp-apim-subscription-key",
        "proxy-authorization",
        "set-cookie",
        "x-api-key",
    )
)
_REDACTED = "REDACTED"
#: Request bodies: UTF-8 as it is (not \u escapes); NaN and infinities refused (not JSON).
_JSON_BODY = json.JSONEncoder(ensure_ascii=False, allow_nan=False)

_T = _t.TypeVar("_T")
_S = _t.TypeVar("_S")
_P = _t.ParamSpec("_P")

#: A request timeout: seconds, an httpx.Timeout (connect/read/write/pool), or None (none).
Timeout = float | httpx.Timeout | None


# The classes here are written out rather than dataclasses: building a dataclass costs
# ~0.35 ms a class, paid by every program that imports the client (models.py's Model says
# more).

#: An empty mapping for Call's defaults: read-only, so one serves every call.
_NOTHING: _t.Final[Mapping[str, _t.Any]] = types.MappingProxyType({})


class ClientApi:
    """What the client runtime needs to know about one API (the generated client.py's)."""

    __slots__ = (
        "api_version",
        "credential_scopes",
        "key_header",
        "key_prefix",
        "logger",
        "secret_headers",
        "status_errors",
        "user_agent",
    )

    api_version: str
    user_agent: str
    #: The header carrying an `api_key` (lower case), and what goes before the key in it.
    key_header: str
    key_prefix: str
    #: The OAuth2 scopes a `credential` is asked for, as the spec documents them.
    credential_scopes: tuple[str, ...]
    #: Headers whose values are secret: never logged, and blanked in the requests that
    #: exceptions and raw responses keep.
    secret_headers: frozenset[str]
    logger: str
    #: The exception class for an HTTP status.
    status_errors: Callable[[int], type[APIStatusError]]

    def __init__(
        self,
        *,
        api_version: str,
        user_agent: str,
        key_header: str,
        key_prefix: str,
        credential_scopes: tuple[str, ...],
        secret_headers: frozenset[str],
        logger: str,
        status_errors: Callable[[int], type[APIStatusError]],
    ) -> None:
        self.api_version = api_version
        self.user_agent = user_agent
        self.key_header = key_header
        self.key_prefix = key_prefix
        self.credential_scopes = credential_scopes
        self.secret_headers = secret_headers
        self.logger = logger
        self.status_errors = status_errors


class Call:
    """One call of an operation, as a generated method describes it."""

    __slots__ = (
        "answer_has_body",
        "body",
        "errors",
        "extra_body",
        "extra_headers",
        "extra_parameters",
        "extra_query",
        "headers",
        "max_retries",
        "method",
        "name",
        "path",
        "path_params",
        "query",
        "result",
        "timeout",
        "total_timeout",
    )

    #: The operation's Python name (for logs and messages).
    name: str
    method: str
    #: The path with `{name}` placeholders, filled from path_params (percent-encoded).
    path: str
    path_params: Mapping[str, object]
    query: Mapping[str, object]
    headers: Mapping[str, object]
    #: The body: its fields by wire name (NOT_GIVEN ones are left out) or a model, or None:
    #: no body.
    body: Mapping[str, object] | Model | None
    #: The extra-parameters header and its pass-through value, when the operation has one.
    extra_parameters: tuple[str, str] | None
    #: Reads a success answer's JSON (None: taken as it comes).
    result: Codec | None
    #: False when the documented success answer has no body: the call returns None.
    answer_has_body: bool
    #: Status key ("404", "4XX", "default") -> the model of that error's body.
    errors: Mapping[str, type[Model]]
    #: The per-call options every method takes.
    extra_body: Mapping[str, object] | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, str] | None
    timeout: Timeout | NotGiven
    max_retries: int | NotGiven
    total_timeout: float | None | NotGiven

    def __init__(
        self,
        *,
        name: str,
        method: str,
        path: str,
        path_params: Mapping[str, object] = _NOTHING,
        query: Mapping[str, object] = _NOTHING,
        headers: Mapping[str, object] = _NOTHING,
        body: Mapping[str, object] | Model | None = None,
        extra_parameters: tuple[str, str] | None = None,
        result: Codec | None = None,
        answer_has_body: bool = True,
        errors: Mapping[str, type[Model]] = _NOTHING,
        extra_body: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        total_timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> None:
        self.name = name
        self.method = method
        self.path = path
        self.path_params = path_params
        self.query = query
        self.headers = headers
        self.body = body
        self.extra_parameters = extra_parameters
        self.result = result
        self.answer_has_body = answer_has_body
        self.errors = errors
        self.extra_body = extra_body
        self.extra_headers = extra_headers
        self.extra_query = extra_query
        self.timeout = timeout
        self.max_retries = max_retries
        self.total_timeout = total_timeout


# ---- auth ----------------------------------------------------------------------------------


class AccessTokenLike(_t.Protocol):
    """What `get_token` returns: azure-core's AccessToken has this shape."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class TokenCredential(_t.Protocol):
    """A source of bearer tokens, such as any azure-identity credential."""

    def get_token(self, *scopes: str) -> AccessTokenLike: ...


class AsyncTokenCredential(_t.Protocol):
    """An asynchronous source of bearer tokens (azure.identity.aio credentials)."""

    async def get_token(self, *scopes: str) -> AccessTokenLike: ...


class Secret:
    """A key or token: its repr and str never show it, and it refuses to be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a key or token must be a non-empty string")
        if not (value.isascii() and value.isprintable()):
            # Such a value cannot go in a header: httpx would fail later, quoting it.
            raise ValueError("a key or token must be printable ASCII (no line breaks)")
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("keys and tokens are not pickled")


class TokenCache:
    """The current token of a credential: fetched on first use, refreshed before it expires.

    If a refresh fails while the old token is still valid, the old token is used.
    """

    def __init__(
        self,
        credential: TokenCredential | AsyncTokenCredential,
        scopes: tuple[str, ...],
        log: logging.Logger,
    ) -> None:
        self.credential = credential
        self.scopes = scopes
        self.log = log
        self._token: Secret | None = None
        self._expires_on = 0.0
        self._refresh_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenCache(scopes={self.scopes!r})"

    def fresh(self) -> str | None:
        if self._token is not None and time.time() < self._refresh_at:
            return self._token.get()
        return None

    def store(self, access: AccessTokenLike) -> str:
        now = time.time()
        expires_on = float(access.expires_on)
        self._token = Secret(access.token)
        self._expires_on = expires_on
        self._refresh_at = expires_on - min(TOKEN_REFRESH_MARGIN, max(0.0, expires_on - now) / 2)
        return access.token

    def still_valid(self) -> str | None:
        if self._token is not None and time.time() < self._expires_on:
            return self._token.get()
        return None

    def invalidate(self) -> None:
        """Forget the cached token (the service refused it)."""
        self._token = None
        self._refresh_at = 0.0

    def get(self) -> str:
        token = self.fresh()
        if token is not None:
            return token
        with self._lock:
            token = self.fresh()
            if token is not None:
                return token
            try:
                access: _t.Any = self.credential.get_token(*self.scopes)
            except Exception:
                token = self.still_valid()
                if token is None:
                    raise
                self.log.info("token refresh failed; using the current token until it expires")
                return token
            if inspect.isawaitable(access):
                _t.cast(_t.Any, access).close()
                raise TypeError("this credential is asynchronous: use it with the async client")
            return self.store(access)


# ---- requests and answers ------------------------------------------------------------------


class _Prepared:
    """One call's request, without auth: every attempt builds a fresh request from it."""

    __slots__ = (
        "call",
        "content",
        "deadline",
        "headers",
        "max_retries",
        "params",
        "timeout",
        "url",
    )

    call: Call
    url: str
    params: dict[str, str]
    headers: dict[str, str]  # by lower-case name
    content: bytes | None
    timeout: Timeout | NotGiven
    max_retries: int
    deadline: float | None  # time.monotonic() by which the call must end, retries included

    def __init__(
        self,
        *,
        call: Call,
        url: str,
        params: dict[str, str],
        headers: dict[str, str],
        content: bytes | None,
        timeout: Timeout | NotGiven,
        max_retries: int,
        deadline: float | None,
    ) -> None:
        self.call = call
        self.url = url
        self.params = params
        self.headers = headers
        self.content = content
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline


class _Attempt:
    """What one try of a call gave: a response, or the error that replaced it."""

    __slots__ = ("cause", "final", "number", "request", "response", "secrets", "unread")

    number: int  # 1, 2, ...
    request: httpx.Request
    response: httpx.Response | None
    #: Why no usable answer came (an httpx error), and the answer it cut short, if any.
    cause: Exception | None
    unread: httpx.Response | None
    #: The secret header values this attempt sent: scrubbed from whatever it raises.
    secrets: tuple[str, ...]
    #: Set when trying again cannot help (a setup error, an answer that cannot be read).
    final: bool

    def __init__(self, number: int, request: httpx.Request) -> None:
        self.number = number
        self.request = request
        self.response = None
        self.cause = None
        self.unread = None
        self.secrets = ()
        self.final = False


class RawResponse(_t.Generic[_T]):
    """The httpx response of a call, before or besides its parsed result."""

    def __init__(self, response: httpx.Response, parse: _t.Callable[[], _T], attempts: int) -> None:
        self.http_response: httpx.Response = response
        self.attempts: int = attempts
        self._parse = parse
        self._parsed: list[_T] = []

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The service's request id header, if it sent one."""
        return _request_id(self.http_response)

    @property
    def client_request_id(self) -> str | None:
        """The `x-ms-client-request-id` this client sent."""
        value: str | None = self.http_response.request.headers.get("x-ms-client-request-id")
        return value

    def parse(self) -> _T:
        """The typed result (parsed once, on first call)."""
        if not self._parsed:
            self._parsed.append(self._parse())
        return self._parsed[0]

    def __repr__(self) -> str:
        return f"RawResponse(status_code={self.status_code!r}, attempts={self.attempts!r})"


def _call_id() -> str:
    """A new x-ms-client-request-id: a random UUID. `uuid` is imported at the first call, not
    with the client: it imports `platform`, ~2 ms that every program importing the client paid
    (`make bench BENCH_ARGS="--only import"`)."""
    import uuid

    return str(uuid.uuid4())


def _request_id(response: httpx.Response) -> str | None:
    for name in ("x-request-id", "apim-request-id", "x-ms-request-id"):
        value: str | None = response.headers.get(name)
        if value:
            return value
    return None


def _text(value: _t.Any) -> str:
    value = encode(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path_segment(value: str) -> str:
    """A path parameter as one RFC 3986 path segment: its UTF-8 bytes percent-encoded, all but
    the unreserved characters, so that '/', '?', '#', '%' and the rest stay data; "." and ".."
    are encoded too, or URL normalisation would take them for dot segments."""
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return urllib.parse.quote(value, safe="")


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the service asks to wait: `retry-after-ms`, or `Retry-After` (seconds or date)."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            try:
                ms = float(value)
            except ValueError:
                continue
            if math.isfinite(ms) and ms >= 0:
                return ms / 1000
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
        return max(0.0, seconds)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _redact_headers(headers: httpx.Headers, secret: frozenset[str]) -> dict[str, str]:
    return {name: _REDACTED if name.lower() in secret else value for name, value in headers.items()}


def _blank(request: httpx.Request, secret: frozenset[str]) -> list[str]:
    """Blank the secret headers of a sent request; return the values they held (and the
    credential after a scheme such as "Bearer ")."""
    found: list[str] = []
    for name, value in list(request.headers.items()):
        if name.lower() in secret and value != _REDACTED:
            found.append(value)
            credential = value.partition(" ")[2].strip()
            if credential:
                found.append(credential)
            request.headers[name] = _REDACTED
    return found


def _scrub(text: str, secrets: _t.Iterable[str]) -> str:
    """`text` with each secret replaced by REDACTED, as it is and as JSON escapes it."""
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
        for escaped in (json.dumps(secret)[1:-1], secret.replace("/", "\\/")):
            if escaped != secret:
                text = text.replace(escaped, _REDACTED)
    return text


def _scrub_json(value: _t.Any, secrets: tuple[str, ...]) -> _t.Any:
    """A decoded JSON value with every string (keys included) scrubbed: what escapes in the
    text hid is plain here."""
    if isinstance(value, str):
        return _scrub(value, secrets)
    if isinstance(value, list):
        return [_scrub_json(item, secrets) for item in value]
    if isinstance(value, dict):
        return {_scrub(key, secrets): _scrub_json(item, secrets) for key, item in value.items()}
    return value


def _scrubbed_body(text: str, secrets: tuple[str, ...]) -> _t.Any:
    """An answer's body with the secrets scrubbed, first from the text, then from what it
    decodes to: the JSON value, or the text when it is not JSON."""
    text = _scrub(text, secrets)
    try:
        return _scrub_json(json.loads(text), secrets)
    except (ValueError, RecursionError):
        return text


class _DeadlineStream(httpx.SyncByteStream):
    """An answer's body that raises a timeout once the call's deadline has passed."""

    def __init__(self, stream: _t.Any, deadline: float, request: httpx.Request) -> None:
        self._stream = stream
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> _t.Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() >= self._deadline:
                raise httpx.ReadTimeout(
                    "total_timeout ran out while reading the answer", request=self._request
                )
            yield chunk

    def close(self) -> None:
        self._stream.close()


class BaseClient:
    """What the sync and async clients share: options, auth, building requests, reading
    answers, deciding retries. The transport (`_send`) is each subclass's."""

    #: The API this client speaks (the generated client class sets it).
    _api: _t.ClassVar[ClientApi]
    _owns_client: bool
    #: Set on the clients behind `with_raw_response`: calls return a RawResponse.
    _raw: bool = False

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None,
        token: str | None,
        credential: TokenCredential | AsyncTokenCredential | None,
        credential_scopes: tuple[str, ...] | list[str] | None,
        api_version: str | None,
        headers: Mapping[str, str] | None,
        max_retries: int,
        total_timeout: float | None,
        retry_backoff: float,
        retry_backoff_max: float,
        user_agent: str | None,
    ) -> None:
        _check_endpoint(endpoint)
        if sum(x is not None for x in (api_key, token, credential)) > 1:
            raise ValueError("give at most one of api_key, token and credential")
        self._endpoint = endpoint.rstrip("/")
        api = self._api
        self.api_version: str = api.api_version if api_version is None else api_version
        self._log = logging.getLogger(api.logger)
        self._headers = httpx.Headers(headers or {})
        self._api_key = Secret(api_key) if api_key is not None else None
        self._token = Secret(token) if token is not None else None
        self._tokens: TokenCache | None = None
        if credential is not None:
            scopes = tuple(credential_scopes or api.credential_scopes)
            if not scopes:
                raise ValueError(
                    "the spec documents no OAuth2 scope for this API: pass credential_scopes="
                )
            if not callable(getattr(credential, "get_token", None)):
                raise TypeError("credential must have a get_token(*scopes) method")
            self._tokens = self._token_cache(credential, scopes)
        _check_retries(max_retries, total_timeout)
        self.max_retries: int = max_retries
        self.total_timeout: float | None = total_timeout
        self.retry_backoff: float = retry_backoff
        self.retry_backoff_max: float = retry_backoff_max
        self.user_agent: str = f"{user_agent} {api.user_agent}" if user_agent else api.user_agent

    def with_options(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        total_timeout: float | None | NotGiven = NOT_GIVEN,
        retry_backoff: float | NotGiven = NOT_GIVEN,
        retry_backoff_max: float | NotGiven = NOT_GIVEN,
        headers: Mapping[str, str] | None | NotGiven = NOT_GIVEN,
    ) -> _t.Self:
        """A client with other defaults that shares this one's connections and credentials
        (closing it does not close them)."""
        return self._copy(
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
            retry_backoff=retry_backoff,
            retry_backoff_max=retry_backoff_max,
            headers=headers,
        )

    def _token_cache(
        self, credential: TokenCredential | AsyncTokenCredential, scopes: tuple[str, ...]
    ) -> TokenCache:
        return TokenCache(credential, scopes, self._log)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint={self._endpoint!r}, "
            f"api_version={self.api_version!r}, auth={self._auth_kind()!r})"
        )

    def _auth_kind(self) -> str:
        if self._api_key is not None:
            return "api_key"
        if self._token is not None:
            return "token"
        if self._tokens is not None:
            return "credential"
        return "none"

    def _secrets(self, sent: _t.Iterable[str] = ()) -> tuple[str, ...]:
        """Every key and token this client holds, with the secret header values a request
        `sent`: longest first, so that no secret is only partly replaced."""
        found = {s.get() for s in (self._api_key, self._token) if s is not None}
        if self._tokens is not None:
            token = self._tokens.still_valid()
            if token is not None:
                found.add(token)
        found.update(sent)
        return tuple(sorted((s for s in found if s), key=lambda s: (-len(s), s)))

    def _copy(self, **changes: _t.Any) -> _t.Self:
        """A client with other defaults sharing this one's connections and credentials."""
        clone = copy.copy(self)
        clone._owns_client = False
        clone._headers = httpx.Headers(self._headers)
        for name, value in changes.items():
            if value is NOT_GIVEN:
                continue
            if name == "headers":
                clone._headers.update(value or {})
            elif name == "timeout":
                clone._default_timeout = value
            else:
                setattr(clone, name, value)
        _check_retries(clone.max_retries, clone.total_timeout)
        return clone

    _default_timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN

    # -- building --------------------------------------------------------------------------

    def _prepare(self, call: Call) -> _Prepared:
        """Everything about a call except auth, which every attempt adds afresh."""
        payload: dict[str, _t.Any] | None = None
        body = call.body
        if isinstance(body, Model):
            # Its unknown properties (additional_properties) count as extra fields.
            known = type(body)._wire_names
            body = body.to_dict()
        else:
            known = frozenset(body or ())
        if body is not None or call.extra_body:
            payload = {
                wire: encode(value)
                for wire, value in (body or {}).items()
                if value is not NOT_GIVEN
            }
            for key, value in (call.extra_body or {}).items():
                payload[str(key)] = encode(value)
        query: dict[str, str] = {}
        for name, value in call.query.items():
            if value is not NOT_GIVEN:
                query[name] = _text(value)
        query.update(call.extra_query or {})
        # By lower-case name, so that a later source replaces an earlier one whatever its case;
        # a plain dict, made into httpx.Headers once, by httpx, when each attempt is built.
        request_headers: dict[str, str] = {
            "accept": "application/json",
            "user-agent": self.user_agent,
            # One id per call, the same on every retry, so that the service's logs tie them.
            "x-ms-client-request-id": _call_id(),
        }
        request_headers.update(self._headers.items())  # httpx gives the names in lower case
        for name, value in call.headers.items():
            if value is not NOT_GIVEN:
                request_headers[name.lower()] = _text(value)
        for name, value in (call.extra_headers or {}).items():
            request_headers[name.lower()] = value
        mode = call.extra_parameters
        if (
            payload is not None
            and mode is not None
            and mode[0].lower() not in request_headers
            and any(key not in known for key in payload)
        ):
            # Fields the spec does not know reach the model only when the header says so:
            # sending them (extra_body) is asking for that, unless the caller chose a mode.
            request_headers[mode[0].lower()] = mode[1]
        path = call.path
        for name, value in call.path_params.items():
            path = path.replace("{" + name + "}", _path_segment(_text(value)))
        content = None
        if payload is not None:
            content = _JSON_BODY.encode(payload).encode()
            request_headers["content-type"] = "application/json"
        retries = self.max_retries if isinstance(call.max_retries, NotGiven) else call.max_retries
        budget = (
            self.total_timeout if isinstance(call.total_timeout, NotGiven) else call.total_timeout
        )
        _check_retries(retries, budget)
        return _Prepared(
            call=call,
            url=self._endpoint + path,
            params=query,
            headers=request_headers,
            content=content,
            timeout=self._default_timeout if isinstance(call.timeout, NotGiven) else call.timeout,
            max_retries=retries,
            deadline=None if budget is None else time.monotonic() + budget,
        )

    def _auth_headers(self, token: str | None) -> dict[str, str]:
        if self._api_key is not None:
            key = self._api_key.get()
            prefix = self._api.key_prefix
            if prefix and not key.lower().startswith(prefix.lower()):
                key = prefix + key
            return {self._api.key_header: key}
        if self._token is not None:
            return {"authorization": "Bearer " + self._token.get()}
        if token is not None:
            return {"authorization": "Bearer " + token}
        return {}

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, prepared: _Prepared, token: str | None
    ) -> httpx.Request:
        headers = prepared.headers | self._auth_headers(token)  # auth: lower-case names too
        return client.build_request(
            prepared.call.method,
            prepared.url,
            params=prepared.params,
            headers=headers,
            content=prepared.content,
            timeout=self._attempt_timeout(client, prepared),
        )

    def _attempt_timeout(
        self, client: httpx.Client | httpx.AsyncClient, prepared: _Prepared
    ) -> httpx.Timeout:
        """This attempt's timeouts: the call's (or the httpx client's), cut to the budget left."""
        timeout = (
            client.timeout
            if isinstance(prepared.timeout, NotGiven)
            else httpx.Timeout(prepared.timeout)
        )
        if prepared.deadline is None:
            return timeout
        left = max(0.001, prepared.deadline - time.monotonic())
        return httpx.Timeout(
            connect=left if timeout.connect is None else min(timeout.connect, left),
            read=left if timeout.read is None else min(timeout.read, left),
            write=left if timeout.write is None else min(timeout.write, left),
            pool=left if timeout.pool is None else min(timeout.pool, left),
        )

    # -- answers ---------------------------------------------------------------------------

    def _log_request(self, request: httpx.Request, attempt: int) -> None:
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug(
                "request %s %s (attempt %d) headers=%s",
                request.method,
                request.url,
                attempt,
                _redact_headers(request.headers, self._api.secret_headers),
            )

    def _outcome(self, prepared: _Prepared, attempt: _Attempt, started: float) -> Exception | None:
        """Turn a failed attempt (its secret headers already blanked) into its exception."""
        elapsed = time.monotonic() - started
        cause = attempt.cause
        if cause is not None:
            self._log.debug(
                "no usable answer to %s %s after %.3fs: %s",
                attempt.request.method,
                attempt.request.url,
                elapsed,
                type(cause).__name__,
            )
            unread = attempt.unread
            if isinstance(cause, httpx.DecodingError) and unread is not None:
                problem = f"its body could not be decoded ({_describe_cause(cause, attempt)})"
                if unread.is_success:
                    attempt.final = True
                    return self._invalid_answer(unread, problem, None, attempt)
                attempt.response = unread
                return self._status_error(prepared.call, unread, attempt, unreadable=problem)
            return _connection_error(cause, attempt)
        response = attempt.response
        assert response is not None
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug(
                "answer %d to %s %s after %.3fs request_id=%s headers=%s",
                response.status_code,
                attempt.request.method,
                attempt.request.url,
                elapsed,
                _request_id(response),
                _redact_headers(response.headers, self._api.secret_headers),
            )
        if response.is_success:
            return None
        return self._status_error(prepared.call, response, attempt)

    def _retry_delay(
        self, prepared: _Prepared, attempt: _Attempt, error: Exception
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the error is final."""
        if attempt.number > prepared.max_retries or attempt.final:
            return None
        response = attempt.response
        wait: float | None = None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return None
            wait = _retry_after(response.headers)
        if wait is None:
            base = min(self.retry_backoff * 2 ** (attempt.number - 1), self.retry_backoff_max)
            wait = base * (
                1 - 0.25 * random.random()
            )  # jitter spreads clients that failed together
        elif prepared.deadline is None and wait > MAX_RETRY_AFTER:
            return None
        if prepared.deadline is not None and time.monotonic() + wait >= prepared.deadline:
            return None
        self._log.info(
            "retrying %s in %.3fs (attempt %d of %d failed: %s)",
            prepared.call.name,
            wait,
            attempt.number,
            prepared.max_retries + 1,
            _describe(error),
        )
        return wait

    def _reauthorize(self, attempt: _Attempt, done: bool) -> bool:
        """Whether to try once more with a fresh token: after a 401 to a credential's token
        (it may have been revoked early), once per call."""
        response = attempt.response
        if self._tokens is None or done or response is None or response.status_code != 401:
            return False
        self._tokens.invalidate()
        return True

    def _final_error(self, attempt: _Attempt, error: Exception) -> Exception:
        if isinstance(error, APIStatusError | APIConnectionError | APIResponseValidationError):
            error.attempts = attempt.number
        return error

    def _result(self, prepared: _Prepared, attempt: _Attempt) -> _t.Any:
        assert attempt.response is not None
        if self._raw:
            parse = functools.partial(self._parse, prepared.call, attempt.response, attempt)
            return RawResponse(attempt.response, parse, attempt.number)
        return self._parse(prepared.call, attempt.response, attempt)

    def _parse(self, call: Call, response: httpx.Response, attempt: _Attempt) -> _t.Any:
        """The typed result of a success answer, or APIResponseValidationError."""
        codec = call.result
        try:
            if not call.answer_has_body:
                return None
            if codec is None:
                return response.json() if response.content else None
            # Parsed here for this call alone: decoding may reuse its lists (owned).
            return decode_answer(codec, response.json(), call.name, owned=True)
        except (ValueError, RecursionError):  # not JSON, not text, not the schema
            pass
        # Raised out of the except clause: the error it caught, holding the raw body, is not
        # kept as the context.
        raise self._invalid_answer(response, "", codec, attempt)

    def _invalid_answer(
        self,
        response: httpx.Response,
        problem: str,
        codec: Codec | None,
        attempt: _Attempt,
    ) -> APIResponseValidationError:
        """The error for a success answer that cannot be read; its body and message come from
        the text with the secrets scrubbed."""
        secrets = attempt.secrets
        body: _t.Any = None
        cause: Exception | None = None
        if not problem:
            body = _scrubbed_body(response.text, secrets)
            if isinstance(body, str):
                problem = "its body is not JSON"
            elif codec is not None:
                try:
                    decode_answer(codec, body, "the answer")
                    problem = "its body could not be read"
                except ValidationError as exc:
                    problem = f"its body does not match the schema: {exc}"
                    cause = exc
            else:
                problem = "its body could not be read"
        error = APIResponseValidationError(
            _scrub(f"HTTP {response.status_code}: {problem}", secrets), response=response, body=body
        )
        error.__cause__ = cause
        error.attempts = attempt.number
        return error

    def _status_error(
        self,
        call: Call,
        response: httpx.Response,
        attempt: _Attempt,
        *,
        unreadable: str = "",
    ) -> APIStatusError:
        # Every secret comes out of the raw text before it is cut short or decoded: `body`,
        # `error` and the message never hold one, even a key the service echoed.
        secrets = attempt.secrets
        body: _t.Any = None if unreadable else _scrubbed_body(response.text, secrets)
        status = str(response.status_code)
        model = (
            call.errors.get(status)
            or call.errors.get(status[0] + "XX")
            or call.errors.get("default")
        )
        error: _t.Any = None
        if model is not None and isinstance(body, dict):
            try:
                error = model.from_dict(body)
            except ValidationError:
                error = None
        code = response.headers.get("x-ms-error-code")
        message = ""
        if isinstance(body, dict):
            detail = body.get("error")
            source = detail if isinstance(detail, dict) else body
            if not code and isinstance(source.get("code"), str):
                code = source["code"]
            message = str(source.get("message") or (detail if isinstance(detail, str) else ""))
        elif isinstance(body, str):
            message = body[:500]
        elif unreadable:
            message = f"the answer could not be read: {unreadable}"
        message = _scrub(message, secrets)
        text = f"HTTP {response.status_code}"
        if code:
            text += f" ({code})"
        if message:
            text += f": {message}"
        exc = self._api.status_errors(response.status_code)(
            text, response=response, error=error, error_code=code, body=body
        )
        exc.attempts = attempt.number
        exc.retry_after = _retry_after(response.headers)
        return exc


def _check_endpoint(endpoint: str) -> None:
    """A ValueError unless `endpoint` is an http or https URL with a host: anything else
    would fail on every call, and no retry helps."""
    problem = ""
    try:
        parts = urllib.parse.urlsplit(endpoint) if isinstance(endpoint, str) else None
        if parts is None or not endpoint:
            problem = "it is empty" if parts is not None else f"got {type(endpoint).__name__}"
        elif not parts.scheme or "://" not in endpoint:
            problem = "it has no scheme (http:// or https://)"
        elif parts.scheme.lower() not in ("http", "https"):
            problem = f"its scheme {parts.scheme!r} is not http or https"
        elif not parts.hostname:
            problem = "it has no host"
        else:
            _ = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise ValueError(
            "endpoint must be an http:// or https:// URL with a host, such as "
            f"https://<resource>.services.ai.azure.com/models: {problem}"
        )


def _check_retries(max_retries: int, total_timeout: float | None) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if total_timeout is not None and not total_timeout > 0:
        raise ValueError(f"total_timeout must be a number of seconds > 0, got {total_timeout!r}")


def _describe(error: Exception) -> str:
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}"
    cause = error.__cause__
    return type(cause).__name__ if cause is not None else type(error).__name__


def _describe_cause(cause: Exception, attempt: _Attempt) -> str:
    """The httpx error's type and message, with the secrets scrubbed."""
    detail = _scrub(str(cause), attempt.secrets)
    return f"{type(cause).__name__}: {detail}" if detail else type(cause).__name__


def _connection_error(cause: Exception, attempt: _Attempt) -> APIConnectionError:
    """The package's error for an attempt without an answer. Only what may go better next time
    is retried: a refused, dropped or timed-out connection, not a setup error (an unsupported
    URL, a request httpx will not send, too many redirects)."""
    what = _describe_cause(cause, attempt)
    error: APIConnectionError
    if isinstance(cause, httpx.TimeoutException):
        error = APITimeoutError(f"Request timed out ({what}).", request=attempt.request)
    else:
        error = APIConnectionError(f"Connection error ({what}).", request=attempt.request)
        attempt.final = not isinstance(
            cause, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError
        )
    if any(secret in str(cause) for secret in attempt.secrets):
        error.__suppress_context__ = True  # its message quotes a secret: not chained
    else:
        error.__cause__ = cause
    return error


class SyncAPIClient(BaseClient):
    """The synchronous client: one httpx.Client, blocking retries."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        credential: TokenCredential | None = None,
        credential_scopes: tuple[str, ...] | list[str] | None = None,
        api_version: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        total_timeout: float | None = None,
        retry_backoff: float = 0.5,
        retry_backoff_max: float = 8.0,
        headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        """Connect to `endpoint`, an http or https URL such as
        https://<resource>.services.ai.azure.com/models (ValueError otherwise).

        Auth, at most one of: `api_key` (sent in the API's key header), `token` (a static
        bearer token) or `credential` (any object with `get_token(*scopes)`, such as an
        azure-identity credential, asked for `credential_scopes` or else the scopes the spec
        documents; its token is cached until shortly before it expires).

        `api_version` defaults to the package's. `timeout` applies to each attempt (an
        httpx.Timeout sets connect/read/write/pool); `total_timeout` bounds a whole call,
        retries, waits and reading the answer included (a credential's token fetch aside):
        the sync client checks it as each part of the answer arrives, and cuts every wait on
        the network (connecting, sending, each read) to the budget left when the attempt
        began, so a call that stalls right at its deadline can overrun it by up to that much.
        Up to `max_retries` more attempts follow a connection error, a timeout or a status in
        RETRY_STATUSES, after the wait the service asks for (`Retry-After`, `retry-after-ms`)
        or an exponential backoff from `retry_backoff` seconds up to `retry_backoff_max`,
        with jitter. `headers` go with every request; `user_agent` is put before the
        package's own User-Agent. An `http_client` is used as it is (its own timeout applies
        unless `timeout` is given) and close() leaves it open.
        """
        if inspect.iscoroutinefunction(getattr(credential, "get_token", None)):
            raise TypeError("this credential is asynchronous: use it with the async client")
        super().__init__(
            endpoint,
            api_key=api_key,
            token=token,
            credential=credential,
            credential_scopes=credential_scopes,
            api_version=api_version,
            headers=headers,
            max_retries=max_retries,
            total_timeout=total_timeout,
            retry_backoff=retry_backoff,
            retry_backoff_max=retry_backoff_max,
            user_agent=user_agent,
        )
        self._owns_client = http_client is None
        self._client = http_client if http_client is not None else httpx.Client(timeout=timeout)
        if http_client is not None and timeout is not DEFAULT_TIMEOUT:
            self._default_timeout = timeout

    def close(self) -> None:
        """Close the underlying httpx client, unless the caller supplied it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> _t.Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _request(self, call: Call) -> _t.Any:
        """Send `call` and return its result (the generated method says its type), or a
        RawResponse on the clients behind with_raw_response."""
        return self._send(self._prepare(call))

    def _send(self, prepared: _Prepared) -> _t.Any:
        number = 0
        reauthorized = False
        while True:
            number += 1
            token = self._tokens.get() if self._tokens is not None else None
            attempt = _Attempt(number, self._build(self._client, prepared, token))
            self._log_request(attempt.request, number)
            started = time.monotonic()
            response: httpx.Response | None = None
            try:
                response = self._client.send(attempt.request, stream=True)
                try:
                    if prepared.deadline is not None:
                        # Each read is bounded by the attempt's timeouts; between reads, the
                        # deadline: a trickling answer cannot outlast total_timeout.
                        response.stream = _DeadlineStream(
                            response.stream, prepared.deadline, attempt.request
                        )
                    response.read()
                finally:
                    response.close()
                attempt.response = response
            except httpx.HTTPError as exc:
                attempt.cause = exc
                attempt.unread = response
            finally:
                # Whatever happened, the request kept by responses and errors holds no secret.
                attempt.secrets = self._secrets(_blank(attempt.request, self._api.secret_headers))
            error = self._outcome(prepared, attempt, started)
            if error is None:
                return self._result(prepared, attempt)
            if self._reauthorize(attempt, reauthorized):
                reauthorized = True
                number -= 1
                continue
            wait = self._retry_delay(prepared, attempt, error)
            if wait is None:
                raise self._final_error(attempt, error)
            time.sleep(wait)


class RawView(_t.Generic[_S]):
    """Base of `client.with_raw_response`: the client's methods (RawMethod), each returning
    a RawResponse."""

    def __init__(self, client: _S) -> None:
        # A copy of the client in raw mode, sharing its connections and credentials.
        raw = copy.copy(client)
        _t.cast(BaseClient, raw)._owns_client = False
        _t.cast(BaseClient, raw)._raw = True
        self._client: _S = raw


class RawMethod(_t.Generic[_S, _P, _T]):
    """A client method as `with_raw_response` offers it: the same parameters, a RawResponse
    of the same result. Declared once per operation (`get: Final = RawMethod(Client.get)`),
    so that the signature has one source."""

    def __init__(self, method: Callable[_t.Concatenate[_S, _P], _T]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @_t.overload
    def __get__(self, view: None, owner: type[_t.Any]) -> RawMethod[_S, _P, _T]: ...

    @_t.overload
    def __get__(self, view: RawView[_S], owner: type[_t.Any]) -> Callable[_P, RawResponse[_T]]: ...

    def __get__(
        self, view: RawView[_S] | None, owner: type[_t.Any]
    ) -> RawMethod[_S, _P, _T] | Callable[_P, RawResponse[_T]]:
        if view is None:
            return self
        method = self._method
        client = view._client

        @functools.wraps(method)
        def call(*args: _P.args, **kwargs: _P.kwargs) -> RawResponse[_T]:
            return _t.cast(RawResponse[_T], method(client, *args, **kwargs))

        return call
