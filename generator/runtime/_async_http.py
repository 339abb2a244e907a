"""The asynchronous client of the generated packages (the sync one is _http.py's; this
module is the one that imports asyncio).

The async client's methods are the sync client's, derived (AsyncMethod): a generated method
body only describes its call and hands it to `self._request`, which here returns a coroutine.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
import typing as _t
from collections.abc import Callable, Coroutine, Mapping
from types import TracebackType

import httpx

from ._http import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncTokenCredential,
    BaseClient,
    Call,
    RawResponse,
    RawView,
    Timeout,
    TokenCache,
    TokenCredential,
    _Attempt,
    _blank,
    _Prepared,
)

_T = _t.TypeVar("_T")
_S = _t.TypeVar("_S")
_P = _t.ParamSpec("_P")


class AsyncTokenCache(TokenCache):
    """A TokenCache that also fetches without blocking the event loop."""

    _async_lock: asyncio.Lock | None = None

    async def aget(self) -> str:
        token = self.fresh()
        if token is not None:
            return token
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            token = self.fresh()
            if token is not None:
                return token
            get_token = self.credential.get_token
            try:
                if inspect.iscoroutinefunction(get_token):
                    access: _t.Any = await get_token(*self.scopes)
                else:
                    # A synchronous credential may fetch its token over the network: in a
                    # worker thread, so that the event loop keeps running meanwhile.
                    access = await asyncio.to_thread(get_token, *self.scopes)
                    if inspect.isawaitable(access):
                        access = await access
            except Exception:
                token = self.still_valid()
                if token is None:
                    raise
                self.log.info("token refresh failed; using the current token until it expires")
                return token
            return self.store(access)


class AsyncAPIClient(BaseClient):
    """The asynchronous client: one httpx.AsyncClient, retries awaited."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        credential: TokenCredential | AsyncTokenCredential | None = None,
        credential_scopes: tuple[str, ...] | list[str] | None = None,
        api_version: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        total_timeout: float | None = None,
        retry_backoff: float = 0.5,
        retry_backoff_max: float = 8.0,
        headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """As the sync client's (see SyncAPIClient), with an httpx.AsyncClient. A synchronous
        `credential` is asked for its token in a worker thread; `total_timeout` stops the
        call at its deadline."""
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
        self._client = (
            http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        )
        if http_client is not None and timeout is not DEFAULT_TIMEOUT:
            self._default_timeout = timeout

    def _token_cache(
        self, credential: TokenCredential | AsyncTokenCredential, scopes: tuple[str, ...]
    ) -> AsyncTokenCache:
        return AsyncTokenCache(credential, scopes, self._log)

    async def close(self) -> None:
        """Close the underlying httpx client, unless the caller supplied it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> _t.Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _request(self, call: Call) -> _t.Any:
        """Send `call` and return its result, or a RawResponse on the clients behind
        with_raw_response."""
        return await self._send(self._prepare(call))

    async def _send(self, prepared: _Prepared) -> _t.Any:
        number = 0
        reauthorized = False
        tokens = self._tokens
        while True:
            number += 1
            token = None
            if tokens is not None:
                token = await _t.cast(AsyncTokenCache, tokens).aget()
            attempt = _Attempt(number, self._build(self._client, prepared, token))
            self._log_request(attempt.request, number)
            started = time.monotonic()
            response: httpx.Response | None = None
            left = None if prepared.deadline is None else prepared.deadline - time.monotonic()
            try:
                # The deadline bounds the whole attempt, reading the answer included.
                async with asyncio.timeout(left):
                    response = await self._client.send(attempt.request, stream=True)
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                attempt.response = response
            except httpx.HTTPError as exc:
                attempt.cause = exc
                attempt.unread = response
            except TimeoutError:
                attempt.cause = httpx.TimeoutException(
                    "total_timeout ran out", request=attempt.request
                )
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
            await asyncio.sleep(wait)


class AsyncMethod(_t.Generic[_S, _P, _T]):
    """A sync client method as the async client offers it: the same parameters, awaited.
    Declared once per operation (`get: Final = AsyncMethod(Client.get)`): the method body
    only builds its Call, and the async client's `_request` sends it."""

    def __init__(self, method: Callable[_t.Concatenate[_S, _P], _T]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @_t.overload
    def __get__(self, client: None, owner: type[_t.Any]) -> AsyncMethod[_S, _P, _T]: ...

    @_t.overload
    def __get__(
        self, client: object, owner: type[_t.Any]
    ) -> Callable[_P, Coroutine[_t.Any, _t.Any, _T]]: ...

    def __get__(
        self, client: object | None, owner: type[_t.Any]
    ) -> AsyncMethod[_S, _P, _T] | Callable[_P, Coroutine[_t.Any, _t.Any, _T]]:
        if client is None:
            return self
        method = self._method

        @functools.wraps(method)
        async def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            coroutine = _t.cast(_t.Any, method)(client, *args, **kwargs)
            return _t.cast(_T, await coroutine)

        return call


class AsyncRawMethod(_t.Generic[_S, _P, _T]):
    """A sync client method as the async client's `with_raw_response` offers it: the same
    parameters, an awaited RawResponse of the same result."""

    def __init__(self, method: Callable[_t.Concatenate[_S, _P], _T]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @_t.overload
    def __get__(self, view: None, owner: type[_t.Any]) -> AsyncRawMethod[_S, _P, _T]: ...

    @_t.overload
    def __get__(
        self, view: RawView[_t.Any], owner: type[_t.Any]
    ) -> Callable[_P, Coroutine[_t.Any, _t.Any, RawResponse[_T]]]: ...

    def __get__(
        self, view: RawView[_t.Any] | None, owner: type[_t.Any]
    ) -> AsyncRawMethod[_S, _P, _T] | Callable[_P, Coroutine[_t.Any, _t.Any, RawResponse[_T]]]:
        if view is None:
            return self
        method = self._method
        client = view._client

        @functools.wraps(method)
        async def call(*args: _P.args, **kwargs: _P.kwargs) -> RawResponse[_T]:
            coroutine = _t.cast(_t.Any, method)(client, *args, **kwargs)
            return _t.cast(RawResponse[_T], await coroutine)

        return call
