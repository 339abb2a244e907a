"""A request body's JSON (generator/runtime/_asgi.py): orjson parses it when installed
(`_parsed_by_orjson`, the module's speed helper), and the standard library whenever orjson
refuses a body or may read it otherwise. Whatever parses it, a request gets the same answer:
the same values reach the service, the same 400s with the same messages. Through a whole
request of a hand-built API (no generated package), and on random near-JSON text."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from generator.runtime import _asgi
from generator.runtime._asgi import AZURE_ERROR_SHAPE, RequestContext, Route, ServerApi
from tests.runtime.test_asgi import Body

BODIES = [
    b'{"name": "a", "x": [1.5, -0.0, 1E2, 0.1, null, true, false, {"y": "z"}]}',
    b'{"name": "a", "n": 123456789012345678901234567890}',  # past 64 bits: exact
    b'{"name": "a", "n": -9223372036854775809}',
    b'{"name": "a", "n": 18446744073709551615}',
    b'{"name": "a", "n": 1.00000000000000000001}',
    b'{"name": "a", "f": 1e400}',  # infinite: refused
    b'{"name": "a", "f": -1e400}',
    b'{"name": "a", "f": NaN}',
    b'{"name": "a", "f": Infinity}',
    b'{"name": "\\ud800"}',  # a lone surrogate: refused
    b'{"name": "\\udc00\\ud800"}',
    b'{"name": "\\ud83d\\ude00"}',  # a pair: one character
    b'\xef\xbb\xbf{"name": "a"}',  # a byte order mark: refused
    b'{"name": "\xff"}',  # not UTF-8
    b'{"name": "\xed\xa0\x80"}',  # an encoded surrogate: not UTF-8
    b'{"name": "a"',
    b'{"name": "a"} x',
    b' \t\n{"name": "a"}\r\n ',
    b'{"name": "a", "name": "b"}',
    b'{"name": "\\u0000\x7f\\"\\/"}',
    b'{"name": "a", "deep": ' + b"[" * 3000 + b"]" * 3000 + b"}",  # nested too deeply
    b'{"name": "a", "deep": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"name": 7}',
    b"[]",
    b"null",
    b'"name"',
]


def echo(raw: bytes) -> tuple[int, str, str]:
    """The answer to `raw` as the body of a request, and what reached the service."""
    seen: list[str] = []

    class Service:
        async def echo(self, body: Any, context: RequestContext) -> dict[str, Any]:
            seen.append(repr((body.name, context.extra_body)))
            return {"name": "ok"}

    route = Route(operation_id="Echo", method="POST", path="/echo", handler="echo",
                  body_model=Body, body_required=True, api_version_param=None,
                  extra_parameters_header=None, default_mode="pass-through", status=200,
                  result=None, errors=(("default", AZURE_ERROR_SHAPE),))
    api = ServerApi(api_version="v1", key_header="api-key", routes=(route,),
                    errors=(("default", AZURE_ERROR_SHAPE),), logger="test")
    app = _asgi.create_app(api, Service())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/echo", "query_string": b"",
             "headers": [(b"content-type", b"application/json")]}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], sent[1]["body"].decode(), "".join(seen)


@pytest.mark.parametrize("raw", BODIES, ids=[repr(b)[:40] for b in BODIES])
def test_a_body_gets_the_same_answer_whatever_parses_it(
    raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = echo(raw)
    monkeypatch.setattr(_asgi, "_orjson", None)  # the standard library alone
    assert echo(raw) == answered
    if answered[0] == 400:
        assert json.loads(answered[1])["error"]["code"] == "InvalidRequestBody"


def test_orjson_parses_a_plain_body_and_steps_aside_for_long_numbers() -> None:
    pytest.importorskip("orjson")
    assert _asgi._parsed_by_orjson(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    assert _asgi._parsed_by_orjson(b'{"a": 1234567890123456789}') is _asgi._NOT_PARSED
    assert _asgi._parsed_by_orjson(b'{"a": NaN}') is _asgi._NOT_PARSED


def test_where_orjson_takes_random_near_json_the_standard_library_reads_the_same() -> None:
    pytest.importorskip("orjson")
    rng = random.Random(14)
    alphabet = [*'{}[]":,.-+eE0123456789 \t\n\\/ubfnrtaxNI\x00\x7f\u00a0\u2028', "true",
                "false", "null", '"a"', "1.5", "\\ud83d", "\\ude00", "\\ud800", "\\u0041",
                "\udcff", "\udced\udca0\udc80"]  # the last two: bytes that are not UTF-8
    taken = 0
    for _ in range(20000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))).encode(
            "utf-8", "surrogateescape")
        parsed = _asgi._parsed_by_orjson(raw)
        if parsed is _asgi._NOT_PARSED:
            continue
        taken += 1
        standard = _asgi._parsed(raw)  # raises _Failure where it refuses
        assert repr(standard) == repr(parsed), raw
    assert taken > 500  # both ways were exercised
