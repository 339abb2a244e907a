"""The generated 2024-05 server against hostile or sloppy requests and service code: bounded
error answers, header and query repeats, malformed framing, extra parameters at any depth,
badly built ServiceErrors. Driven by direct ASGI calls (raw header bytes) or httpx.ASGITransport.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from model_inference_2024_05_01_preview import _runtime as rt
from model_inference_2024_05_01_preview.server import (
    MAX_ERROR_DETAILS,
    ServiceError,
    create_app,
)

from tests.server.spec_schemas import response_errors
from tests.server.test_errors import IMAGE_URL, KEY, VERSION, Service, assert_error, call

QUERY = f"api-version={VERSION}".encode()
BODY = b'{"input":["hi"]}'


def asgi(app: Any, headers: list[tuple[bytes, bytes]], chunks: tuple[bytes, ...] = (BODY,), *,
         path: str = "/embeddings", query: bytes = QUERY) -> tuple[int, dict[bytes, list[bytes]], bytes]:
    """One request by direct ASGI call, headers given as raw bytes; (status, headers, body)."""
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            raise AssertionError("the app read past the end of the body")
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "query_string": query,
             "headers": headers, "http_version": "2"}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    reply: dict[bytes, list[bytes]] = {}
    for name, value in sent[0]["headers"]:
        reply.setdefault(name, []).append(value)
    return sent[0]["status"], reply, sent[1]["body"]


def documented(status: int, body: bytes, code: str, path: str = "/embeddings") -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(body)
    assert response_errors(VERSION, path, status, payload) == []
    assert payload["error"]["code"] == code
    return payload


KEY_H = (b"api-key", KEY.encode())
JSON_H = (b"content-type", b"application/json")


# ---- 1. bounded error answers ----------------------------------------------------------


def test_a_million_invalid_items_answer_a_small_400() -> None:
    # images must be objects: a million numbers are a million problems
    content = b'{"input":[' + b",".join([b"1"] * 1_000_000) + b"]}"
    response = call(Service(), url=IMAGE_URL, content=content)
    assert len(response.content) < 64 * 1024
    payload = assert_error(response, 400, "InvalidRequestBody")
    assert len(payload["error"]["details"]) == MAX_ERROR_DETAILS
    assert payload["error"]["details"][0]["target"] == "input[0]"
    assert "more errors not shown" in payload["error"]["message"]


def test_a_hundred_thousand_unknown_properties_answer_a_small_400() -> None:
    body = {"input": ["a"], **{f"k{i}": 1 for i in range(100_000)}}
    response = call(Service(), body=body)
    assert len(response.content) < 64 * 1024
    payload = assert_error(response, 400, "ExtraParametersNotAllowed")
    assert len(payload["error"]["details"]) <= MAX_ERROR_DETAILS
    assert "99990 more" in payload["error"]["message"]


def test_a_huge_unknown_name_is_clipped() -> None:
    response = call(Service(), body={"input": ["a"], "k" * 1_000_000: 1})
    assert len(response.content) < 64 * 1024
    assert_error(response, 400, "ExtraParametersNotAllowed")


def test_capped_validation_stops_and_says_so() -> None:
    from model_inference_2024_05_01_preview.models import ImageEmbeddingsOptions

    with pytest.raises(rt.ValidationError) as caught:
        ImageEmbeddingsOptions.validate({"input": [1] * 50}, max_errors=3)
    assert len(caught.value.errors) == 3 and caught.value.truncated
    assert "more errors not shown" in str(caught.value)
    with pytest.raises(rt.ValidationError) as uncapped:
        ImageEmbeddingsOptions.validate({"input": [1] * 50})
    assert len(uncapped.value.errors) == 50 and not uncapped.value.truncated


def test_a_union_variant_that_fills_the_cap_does_not_fail_the_union() -> None:
    union = rt.UnionCodec((rt.ArrayCodec(rt.BooleanCodec()), rt.ArrayCodec(rt.NumberCodec())))
    errors = rt._CappedErrors(2)
    assert union.decode([1, 2, 3, 4, 5], "x", errors, True) == [1, 2, 3, 4, 5]
    assert list(errors) == []


# ---- 2. api_keys as one string -------------------------------------------------------------


@pytest.mark.parametrize("keys", ["my-secret", b"my-secret", [b"my-secret"]])
def test_api_keys_must_be_an_iterable_of_str(keys: Any) -> None:
    with pytest.raises(TypeError):
        create_app(Service(), api_keys=keys)


# ---- 3. malformed Content-Length -------------------------------------------------------


@pytest.mark.parametrize("length", ["²".encode("latin-1"), "١٦".encode(), b"9" * 5000,
                                    b"9" * 20, b"-1", b"+16", b"1e3", b"0x10", b""])
def test_malformed_content_length_is_400(length: bytes) -> None:
    service = Service()
    status, _, body = asgi(create_app(service, api_keys=[KEY]),
                           [KEY_H, JSON_H, (b"content-length", length)])
    assert status == 400
    assert documented(status, body, "InvalidHeaderValue")["error"]["details"][0]["target"] == (
        "content-length")
    assert service.calls == []


def test_nineteen_digit_content_length_is_a_413() -> None:
    status, _, body = asgi(create_app(Service(), api_keys=[KEY]),
                           [KEY_H, JSON_H, (b"content-length", b"9" * 19)], ())
    assert status == 413 and documented(status, body, "PayloadTooLarge")


# ---- 4. extra parameters at any depth --------------------------------------------------

NESTED = {"input": [{"image": "aGk="}, {"image": "aGk=", "evil": 1, "b c": 2}]}


def test_nested_unknown_property_is_refused_by_default() -> None:
    service = Service()
    response = call(service, url=IMAGE_URL, body=NESTED)
    payload = assert_error(response, 400, "ExtraParametersNotAllowed", "/images/embeddings")
    assert [d["target"] for d in payload["error"]["details"]] == ["input[1]['b c']",
                                                                 "input[1].evil"]
    assert "input[1].evil" in payload["error"]["message"]
    assert service.calls == []


def test_nested_unknown_property_is_dropped() -> None:
    service = Service()
    response = call(service, url=IMAGE_URL, body={**NESTED, "top": 1},
                    headers={"extra-parameters": "drop"})
    assert response.status_code == 200, response.text
    [(body, context)] = service.calls
    assert body.additional_properties == {} and context.extra_body == {}
    assert [item.additional_properties for item in body.input] == [{}, {}]
    assert "evil" not in json.dumps(body.to_dict())


def test_nested_unknown_property_passes_through() -> None:
    service = Service()
    response = call(service, url=IMAGE_URL, body={**NESTED, "top": 1},
                    headers={"extra-parameters": "pass-through"})
    assert response.status_code == 200, response.text
    [(body, context)] = service.calls
    assert body.input[1].additional_properties == {"evil": 1, "b c": 2}
    assert context.extra_body == {"top": 1}  # the body's own; nested ones stay in place


# ---- 5. badly built ServiceErrors ----------------------------------------------------------


@pytest.mark.parametrize(("arguments", "options", "error"), [
    ((422, 123, "x"), {}, TypeError),
    ((422, "C", None), {}, TypeError),
    ((200, "C", "x"), {}, ValueError),
    ((True, "C", "x"), {}, TypeError),
    ((422, "C", "x"), {"headers": {"x-\u20ac": "v"}}, ValueError),
    ((422, "C", "x"), {"headers": {"x bad": "v"}}, ValueError),
    ((422, "C", "x"), {"headers": {"content-length": "0"}}, ValueError),
    ((422, "C", "x"), {"headers": {"Transfer-Encoding": "chunked"}}, ValueError),
    ((422, "C", "x"), {"headers": {"x-n": 1}}, TypeError),
    ((422, "C", "x"), {"details": [("a", "b")]}, TypeError),
    ((422, "C", "x"), {"retry_after": float("nan")}, TypeError),
    ((422, "C", "x"), {"target": 3}, TypeError)])
def test_service_error_checks_its_arguments(arguments: tuple[Any, ...], options: dict[str, Any],
                                            error: type[Exception]) -> None:
    with pytest.raises(error):
        ServiceError(*arguments, **options)


def test_service_error_changed_after_construction_still_answers_500(
        caplog: pytest.LogCaptureFixture) -> None:
    for change in ({"code": 123}, {"headers": {"x-n": 1}}, {"message": object()}):
        service = Service()
        service.fail = ServiceError(422, "C", "x")
        for name, value in change.items():
            setattr(service.fail, name, value)
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            response = call(service, body={"input": ["a"]},
                            headers={"x-ms-client-request-id": "rid-5"})
        payload = assert_error(response, 500, "InternalServerError")
        assert "rid-5" in payload["error"]["message"]
        assert any("rid-5" in r.getMessage() and r.exc_info for r in caplog.records)


def test_service_error_headers_cannot_set_framing_or_bad_names() -> None:
    service = Service()
    service.fail = error = ServiceError(422, "C", "x", headers={"X-Note": "ok"})
    error.headers.update({"content-length": "0", "x-\u20ac": "v", "connection": "close"})
    app = create_app(service, api_keys=[KEY])
    status, headers, body = asgi(app, [KEY_H, JSON_H, (b"content-length", b"16")])
    assert status == 422 and documented(status, body, "C")
    assert headers[b"content-length"] == [str(len(body)).encode()]
    assert headers[b"x-note"] == [b"ok"] and b"connection" not in headers
    assert all(name.isascii() for name in headers)


# ---- 6. repeated headers, key bytes, Bearer --------------------------------------------


@pytest.mark.parametrize("name", [b"api-key", b"extra-parameters", b"content-type",
                                  b"content-length"])
def test_identical_repeats_count_once(name: bytes) -> None:
    value = {b"api-key": KEY.encode(), b"extra-parameters": b"drop",
             b"content-type": b"application/json", b"content-length": b"16"}[name]
    headers = [KEY_H, JSON_H, (b"content-length", b"16")]
    headers = [h for h in headers if h[0] != name] + [(name, value), (name, value)]
    service = Service()
    status, _, body = asgi(create_app(service, api_keys=[KEY]), headers)
    assert status == 200, body
    assert service.calls[0][1].extra_parameters == ("drop" if name == b"extra-parameters"
                                                    else "error")


@pytest.mark.parametrize(("name", "values"), [
    (b"api-key", (KEY.encode(), b"other")),
    (b"authorization", (b"Bearer " + KEY.encode(), b"Bearer other")),
    (b"extra-parameters", (b"drop", b"error")),
    (b"content-type", (b"application/json", b"text/plain")),
    (b"content-length", (b"16", b"17"))])
def test_conflicting_repeats_are_400(name: bytes, values: tuple[bytes, bytes]) -> None:
    headers = [h for h in [KEY_H, JSON_H, (b"content-length", b"16")] if h[0] != name]
    service = Service()
    status, _, body = asgi(create_app(service, api_keys=[KEY]),
                           headers + [(name, v) for v in values])
    assert status == 400
    payload = documented(status, body, "InvalidHeaderValue")
    assert payload["error"]["details"][0]["target"] == name.decode()
    assert service.calls == []


def test_repeated_content_length_still_answers_413_without_reading() -> None:
    status, _, body = asgi(create_app(Service(), api_keys=[KEY], max_body_bytes=10),
                           [KEY_H, JSON_H, (b"content-length", b"16"), (b"content-length", b"16")],
                           ())
    assert status == 413 and documented(status, body, "PayloadTooLarge")


def test_non_ascii_keys_match_their_utf8_bytes() -> None:
    app = create_app(Service(), api_keys=["cl\u00e9"])
    assert asgi(app, [(b"api-key", "cl\u00e9".encode()), JSON_H])[0] == 200
    assert asgi(app, [(b"api-key", "cl\u00e9".encode("latin-1")), JSON_H])[0] == 401
    assert asgi(app, [(b"authorization", "Bearer cl\u00e9".encode()), JSON_H])[0] == 200


def test_bearer_belongs_in_authorization_only() -> None:
    app = create_app(Service(), api_keys=[KEY])
    assert asgi(app, [(b"api-key", f"Bearer {KEY}".encode()), JSON_H])[0] == 401
    assert asgi(app, [(b"authorization", f"Bearer {KEY}".encode()), JSON_H])[0] == 200


# ---- 7. repeated api-version -----------------------------------------------------------


def test_repeated_api_version_with_different_values_is_400() -> None:
    app = create_app(Service(), api_keys=[KEY])
    for query in (QUERY + b"&api-version=x", b"api-version=x&" + QUERY,
                  QUERY + b"&api-version=2024%2D05-01-previeW"):
        status, _, body = asgi(app, [KEY_H, JSON_H], query=query)
        assert status == 400
        assert documented(status, body, "InvalidApiVersionParameter")["error"]["target"] == (
            "api-version")
    assert asgi(app, [KEY_H, JSON_H], query=QUERY + b"&" + QUERY)[0] == 200


# ---- 8. a body without framing headers -------------------------------------------------


def test_a_body_without_length_or_chunking_is_read() -> None:
    service = Service()
    status, _, body = asgi(create_app(service, api_keys=[KEY]), [KEY_H, JSON_H],
                           (BODY[:5], BODY[5:], b""))
    assert status == 200, body
    assert service.calls[0][0].input == ["hi"]


def test_a_body_without_framing_nor_content_type_is_415() -> None:
    status, _, body = asgi(create_app(Service(), api_keys=[KEY]), [KEY_H])
    assert status == 415 and documented(status, body, "UnsupportedMediaType")
    status, _, body = asgi(create_app(Service(), api_keys=[KEY]), [KEY_H], (b"",))
    assert status == 400 and documented(status, body, "InvalidRequestBody")


# ---- the body as it comes: one message (read where the body is parsed) or several -------


@pytest.mark.parametrize("chunks", [(BODY,), (b"", BODY), (BODY[:5], BODY[5:]),
                                    (BODY[:5], b"", BODY[5:], b"")])
def test_a_body_is_read_whole_in_one_message_or_several(chunks: tuple[bytes, ...]) -> None:
    service = Service()
    status, _, _ = asgi(create_app(service, api_keys=[KEY]), [KEY_H, JSON_H], chunks)
    assert status == 200 and service.calls[0][0].input == ["hi"]


@pytest.mark.parametrize("chunks", [(BODY,), (BODY[:5], BODY[5:]), (b"", BODY[:5], BODY[5:])])
def test_a_body_ends_at_its_content_length(chunks: tuple[bytes, ...]) -> None:
    # As granian sends it: every piece with more_body, the empty last message still to come.
    # The server framed the request by its Content-Length: the app answers without waiting.
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    received: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            await asyncio.sleep(60)  # the last message: never needed
        received.append(messages.pop(0))
        return received[-1]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    service = Service()
    length = (b"content-length", str(len(BODY)).encode())
    scope = {"type": "http", "method": "POST", "path": "/embeddings", "query_string": QUERY,
             "headers": [KEY_H, JSON_H, length], "http_version": "1.1"}
    asyncio.run(asyncio.wait_for(create_app(service, api_keys=[KEY])(scope, receive, send), 5))
    assert sent[0]["status"] == 200 and service.calls[0][0].input == ["hi"]
    assert len(received) == len(chunks)
    assert "connection" not in dict(sent[0]["headers"])  # the body was read: kept alive


@pytest.mark.parametrize("chunks", [(BODY,), (BODY[:5], BODY[5:])])
def test_a_body_past_the_limit_without_a_length_is_a_413_in_one_message_or_several(
    chunks: tuple[bytes, ...],
) -> None:
    service = Service()
    status, _, body = asgi(create_app(service, api_keys=[KEY], max_body_bytes=len(BODY) - 1),
                           [KEY_H, JSON_H], chunks)
    assert status == 413 and documented(status, body, "PayloadTooLarge")
    assert service.calls == []


def test_a_client_gone_before_its_body_is_a_400() -> None:
    service = Service()
    app = create_app(service, api_keys=[KEY])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/embeddings", "query_string": QUERY,
             "headers": [KEY_H, JSON_H], "http_version": "1.1"}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    assert sent[0]["status"] == 400
    assert documented(400, sent[1]["body"], "ClientDisconnected")
    assert service.calls == []
