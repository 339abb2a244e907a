"""A fault-injecting ASGI server on 127.0.0.1 for the client tests.

Each test scripts the answers (`server.script(...)`): a status with headers and body, a slow
answer, a body trickled out slowly, raw bytes (not JSON, a broken Content-Encoding), or a
dropped connection (the body is cut short and the socket closed). When the
script is empty the server answers a valid embeddings result. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import serve

RESULT = {
    "id": "result-1",
    "object": "list",
    "model": "test-model",
    "data": [{"index": 0, "object": "embedding", "embedding": [0.5, -0.25, 1.0]}],
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}


@dataclasses.dataclass
class Answer:
    status: int = 200
    json: Any = None  # None: RESULT for 200, no body otherwise
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (cut short if the client goes away)
    drop: bool = False  # start a 200, send part of the body, close the connection
    raw: bytes | None = None  # the body as these bytes, sent as they are (no content-type)
    trickle: float = 0.0  # send the body in 30 pieces spread over this many seconds


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw_headers: list[tuple[str, str]]


class FaultServer:
    def __init__(self) -> None:
        self.url = ""
        self._lock = threading.Lock()
        self._script: list[Answer] = []
        self.requests: list[Seen] = []

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script = list(answers)
            self.requests = []

    def _next(self) -> Answer:
        with self._lock:
            return self._script.pop(0) if self._script else Answer()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]
                await send({"type": kind + ".complete"})
                if kind == "lifespan.shutdown":
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        with self._lock:
            self.requests.append(Seen(
                method=scope["method"], path=scope["path"],
                query=scope["query_string"].decode(),
                headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
                body=json.loads(raw) if raw else None,
                raw_headers=[(k.decode().lower(), v.decode()) for k, v in scope["headers"]]))
        answer = self._next()
        if answer.delay:
            async def disconnected() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
            try:
                await asyncio.wait_for(disconnected(), timeout=answer.delay)
                return  # the client gave up: nobody to answer
            except TimeoutError:
                pass
        body = answer.json if answer.json is not None else (RESULT if answer.status == 200 else None)
        data = json.dumps(body).encode() if body is not None else b""
        headers = [(b"content-type", b"application/json")] if body is not None else []
        if answer.raw is not None:
            data, headers = answer.raw, []
        headers += [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        if answer.drop:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"id": "cut', "more_body": True})
            return  # the body is incomplete: uvicorn closes the connection
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        if answer.trickle:
            size = -(-len(data) // 30)
            for start in range(0, len(data), size):
                await asyncio.sleep(answer.trickle / 30)
                await send({"type": "http.response.body", "body": data[start:start + size],
                            "more_body": True})
            data = b""
        await send({"type": "http.response.body", "body": data})


@pytest.fixture(scope="module")
def _server() -> Iterator[FaultServer]:
    app = FaultServer()
    with serve(app) as url:
        app.url = url
        yield app


@pytest.fixture
def server(_server: FaultServer) -> FaultServer:
    _server.script()
    return _server
