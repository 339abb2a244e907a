"""An ASGI app that hands each request to the contract its `api-version` names.

It knows nothing of embeddings: it takes one ASGI app per contract (each a generated
package's create_app(), which validates and answers in its own shapes) and chooses:

- `api-version` absent: the default contract (the one that takes no api-version: OpenAI v1);
  a path under one of its prefixes (`/v1`, `/openai/v1`) reaches it with the prefix moved
  to `root_path`, so that `{base_url}/embeddings` works for any of those base URLs;
- `api-version` naming a contract: that contract's app;
- anything else: 400 `UnsupportedApiVersionValue` (the code of the Azure REST API
  guidelines), listing the supported versions, in the Azure core error shape.

Lifespan events go to every contract app (each answers as it would alone: its readiness
follows its own startup); `hooks`, if given, run once around them (create_app() gives none:
its contract apps share the service's hooks through SharedHooks, so that a host without a
lifespan still runs them once, before the first request).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_VERSION = "api-version"
_API_VERSION_BYTES = API_VERSION.encode()
#: The most query strings remembered (then forgotten at once: a client varying its query
#: only costs the parse it would cost anyway).
_KNOWN_QUERIES = 256

logger = logging.getLogger(__name__)


class ApiVersionDispatcher:
    """One ASGI app over several contracts, chosen by the `api-version` query parameter."""

    def __init__(
        self,
        contracts: Mapping[str, ASGIApp],
        *,
        default: str,
        prefixes: tuple[str, ...] = (),
        hooks: object | None = None,
    ) -> None:
        """contracts: api-version -> its app. default: the contract for requests without an
        api-version. prefixes: path prefixes (such as "/v1") the default contract is also
        served under. hooks: an object whose async `startup()` / `shutdown()` (either may be
        missing) run once in the lifespan, around the contract apps' own."""
        if default not in contracts:
            raise ValueError(f"the default contract {default!r} is not one of {list(contracts)}")
        for prefix in prefixes:
            if not prefix.startswith("/") or prefix.endswith("/"):
                raise ValueError(f"a prefix starts with '/' and does not end with one: {prefix!r}")
        self.contracts = dict(contracts)
        self.default = default
        self._default_app = self.contracts[default]
        # longest first, so that "/openai/v1" is tried before a shorter prefix it contains
        self.prefixes = tuple(sorted(prefixes, key=len, reverse=True))
        self.hooks = hooks
        self.supported = tuple(self.contracts)
        # Query string -> the (non-default) contract app it names: clients send the same
        # query on every request, and parsing it costs several times the rest of dispatch.
        self._known_queries: dict[bytes, ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            query = scope.get("query_string", b"")
            if _API_VERSION_BYTES not in query and b"%" not in query:
                await self._default_app(self._unprefixed(scope), receive, send)
                return
            known = self._known_queries.get(query)
            if known is not None:  # a query string seen before, that named one contract
                await known(scope, receive, send)
                return
            versions = {value for name, value in
                        parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                        if name == API_VERSION}
            if not versions:
                await self._default_app(self._unprefixed(scope), receive, send)
            elif len(versions) > 1:
                await self._refuse(scope, send, "InvalidApiVersionParameter",
                                   f"The {API_VERSION!r} query parameter is repeated with "
                                   "different values; send it once.")
            else:
                [version] = versions
                app = self.contracts.get(version)
                if app is None:
                    await self._refuse(scope, send, "UnsupportedApiVersionValue",
                                       f"Unsupported {API_VERSION!r} {version[:100]!r}. "
                                       f"{self._supported_text()}", value=version[:100])
                elif app is self._default_app:
                    await app(self._unprefixed(scope), receive, send)
                else:
                    if len(self._known_queries) >= _KNOWN_QUERIES:
                        self._known_queries.clear()
                    self._known_queries[query] = app
                    await app(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        else:  # websocket and anything newer: the default contract answers as it would alone
            await self._default_app(scope, receive, send)

    def _unprefixed(self, scope: Scope) -> Scope:
        """The scope as the default contract sees it: a known prefix moved to root_path."""
        path: str = scope.get("path", "")
        for prefix in self.prefixes:
            if path.startswith(prefix) and path[len(prefix):len(prefix) + 1] == "/":
                moved = dict(scope)
                moved["path"] = path[len(prefix):]
                moved["root_path"] = scope.get("root_path", "") + prefix
                raw = scope.get("raw_path")
                if isinstance(raw, bytes) and raw.startswith(prefix.encode()):
                    moved["raw_path"] = raw[len(prefix):]
                return moved
        return scope

    def _supported_text(self) -> str:
        listed = ", ".join(repr(v) for v in self.supported)
        return (f"The supported api-versions are {listed} ({self.default!r} is also the contract "
                "of a request without an api-version).")

    async def _refuse(self, scope: Scope, send: Send, code: str, message: str,
                      value: str | None = None) -> None:
        """400 in the Azure core error shape: the request named no contract we serve."""
        error: dict[str, Any] = {"code": code, "message": message, "target": API_VERSION}
        error["details"] = [{"code": "SupportedApiVersion", "message": version,
                             "target": API_VERSION} for version in self.supported]
        body = json.dumps({"error": error}, separators=(",", ":")).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", b"%d" % len(body)),
                   (b"x-ms-error-code", code.encode()),
                   (b"x-request-id", str(uuid.uuid4()).encode())]
        for name, raw in scope.get("headers", ()):
            if name.lower() == b"x-ms-client-request-id" and 0 < len(raw) <= 256 \
                    and all(0x21 <= c <= 0x7e for c in raw):
                headers.append((b"x-ms-client-request-id", raw))
                break
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body",
                    "body": b"" if scope.get("method") == "HEAD" else body})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Startup: the service's hook, then every contract app's lifespan; shutdown in the
        reverse order. A failure in either fails the startup (or shutdown) with its message."""
        lifespans: list[_Lifespan] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await _call_hook(self.hooks, "startup")
                    for app in self.contracts.values():
                        lifespan = _Lifespan(app, scope)
                        lifespans.append(lifespan)
                        await lifespan.step("startup")
                except Exception as exc:
                    logger.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                failures: list[str] = []
                for lifespan in reversed(lifespans):
                    try:
                        await lifespan.step("shutdown")
                    except Exception as exc:
                        logger.exception("a contract app failed its shutdown")
                        failures.append(str(exc))
                try:
                    await _call_hook(self.hooks, "shutdown")
                except Exception as exc:
                    logger.exception("shutdown failed")
                    failures.append(str(exc))
                if failures:
                    await send({"type": "lifespan.shutdown.failed", "message": "; ".join(failures)})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return


async def _call_hook(hooks: object | None, name: str) -> None:
    hook = getattr(hooks, name, None)
    if hook is not None:
        await hook()


class _Lifespan:
    """One contract app's lifespan, driven event by event (a task with its own queues)."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._done = False
        self._task = asyncio.ensure_future(self._run(app, scope))

    async def _run(self, app: ASGIApp, scope: Scope) -> None:
        try:
            await app(scope, self._inbox.get, self._outbox.put)
        except Exception as exc:  # noqa: BLE001 - as ASGI servers do: it has no lifespan
            await self._outbox.put({"type": "_ended", "error": exc})
        else:
            await self._outbox.put({"type": "_ended", "error": None})

    async def step(self, event: str) -> None:
        if self._done:
            return
        await self._inbox.put({"type": f"lifespan.{event}"})
        reply = await self._outbox.get()
        if reply["type"] == f"lifespan.{event}.failed":
            self._done = True
            raise RuntimeError(reply.get("message") or f"a contract app failed its {event}")
        if reply["type"] == "_ended":
            # It returned (or raised) instead of answering: it takes no part in lifespan.
            self._done = True
            if reply["error"] is not None:
                logger.debug("a contract app does not support lifespan: %r", reply["error"])
            return
        if event == "shutdown":
            self._done = True
            await self._task
