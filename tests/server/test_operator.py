"""The generated 2024-05 server as an operator runs it, by direct ASGI calls: protocol safety
(framing, method case, early answers), faults from the service (BaseException, hangs,
disconnects, invalid results), big answers, the lifespan hooks and readiness, the operator
endpoints, the access log, Prometheus metrics and OpenTelemetry spans (the real libraries).
What needs a real server on a socket is in test_wire.py."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from model_inference_2024_05_01_preview import NOT_GIVEN, _answer, _fast, models
from model_inference_2024_05_01_preview.server import create_app

from tests.server.spec_schemas import response_errors

VERSION = "2024-05-01-preview"
KEY = "operator-key"
BODY = b'{"input":["hi"]}'
ACCESS_LOGGER = "model_inference_2024_05_01_preview.server.access"


def result(rows: int = 1, dims: int = 4, **overrides: Any) -> models.EmbeddingsResult:
    fields: dict[str, Any] = {
        "id": "r", "object": "list", "model": "m",
        "data": [models.EmbeddingItem(index=i, object="embedding",
                                      embedding=[0.25 * (i % 4)] * dims) for i in range(rows)],
        "usage": models.EmbeddingsUsage(prompt_tokens=1, total_tokens=1)}
    fields.update(overrides)
    return models.EmbeddingsResult(**fields)


class Service:
    """Answers with `answer()`: a result, or whatever the test makes it do."""

    def __init__(self, answer: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.answer = answer
        self.calls = 0
        self.cancelled = 0

    async def get_embeddings(self, body: Any, context: Any) -> Any:
        self.calls += 1
        try:
            return await self.answer() if self.answer else result()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def get_image_embeddings(self, body: Any, context: Any) -> Any:
        raise NotImplementedError


class Exchange:
    """One request by direct ASGI call. After the body, receive() waits until `disconnect`
    is set (as servers do: it then answers http.disconnect)."""

    def __init__(self, app: Any, *, method: str = "POST", path: str = "/embeddings",
                 query: str = f"api-version={VERSION}", headers: list[tuple[bytes, bytes]] | None = None,
                 chunks: tuple[bytes, ...] = (BODY,), key: str | None = KEY) -> None:
        self.app = app
        self.messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                         for i, c in enumerate(chunks)]
        base = [(b"content-type", b"application/json")]
        if key is not None:
            base.append((b"api-key", key.encode()))
        self.scope = {"type": "http", "method": method, "path": path,
                      "query_string": query.encode(), "http_version": "1.1",
                      "headers": base + (headers or [])}
        self.sent: list[dict[str, Any]] = []
        self.disconnect = asyncio.Event()
        self.read_past_body = False

    async def receive(self) -> dict[str, Any]:
        if self.messages:
            return self.messages.pop(0)
        self.read_past_body = True
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def run(self) -> None:
        await self.app(self.scope, self.receive, self.send)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.sent[0]["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def run(app: Any, **options: Any) -> Exchange:
    exchange = Exchange(app, **options)
    asyncio.run(asyncio.wait_for(exchange.run(), 30))
    return exchange


def documented(exchange: Exchange, status: int, code: str) -> dict[str, Any]:
    assert exchange.status == status, exchange.body
    payload: dict[str, Any] = json.loads(exchange.body)
    assert response_errors(VERSION, "/embeddings", status, payload) == []
    assert payload["error"]["code"] == code
    assert exchange.headers["x-ms-error-code"] == code
    return payload


def app_for(service: Any = None, **options: Any) -> Any:
    options.setdefault("api_keys", [KEY])
    return create_app(service or Service(), **options)


# ---- protocol safety ---------------------------------------------------------------------


def test_content_length_with_transfer_encoding_is_400_and_closes() -> None:
    exchange = run(app_for(), headers=[(b"content-length", b"16"),
                                       (b"transfer-encoding", b"chunked")])
    documented(exchange, 400, "InvalidRequestFraming")
    assert exchange.headers["connection"] == "close"


@pytest.mark.parametrize("method", ["post", "Post", "pOST"])
def test_methods_are_case_sensitive(method: str) -> None:
    service = Service()
    exchange = run(app_for(service), method=method)
    documented(exchange, 405, "MethodNotAllowed")
    assert exchange.headers["allow"] == "POST"
    assert service.calls == 0


def test_an_answer_before_the_body_is_read_closes_the_connection() -> None:
    exchange = run(app_for(), key="wrong", headers=[(b"transfer-encoding", b"chunked")],
                   chunks=(b'{"input":', b'["hi"]}'))
    documented(exchange, 401, "Unauthorized")
    assert exchange.headers["connection"] == "close"


def test_an_answer_after_the_body_keeps_the_connection() -> None:
    exchange = run(app_for(), headers=[(b"content-length", str(len(BODY)).encode())])
    assert exchange.status == 200
    assert "connection" not in exchange.headers


def test_a_stalled_body_is_408_and_closes() -> None:
    app = app_for(body_timeout=0.2)
    exchange = Exchange(app, headers=[(b"content-length", b"100")], chunks=(b'{"input":',))
    exchange.messages[0]["more_body"] = True  # ...and nothing more comes

    async def scenario() -> None:
        await asyncio.wait_for(exchange.run(), 10)

    asyncio.run(scenario())
    documented(exchange, 408, "RequestTimeout")
    assert exchange.headers["connection"] == "close"


# ---- faults from the service -------------------------------------------------------------


@pytest.mark.parametrize("raised", [asyncio.CancelledError, KeyboardInterrupt, SystemExit,
                                    GeneratorExit, type("Custom", (BaseException,), {})])
def test_a_base_exception_from_the_service_is_a_logged_500(
    raised: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    async def answer() -> Any:
        raise raised()

    exchange = run(app_for(Service(answer)))
    payload = documented(exchange, 500, "InternalServerError")
    request_id = exchange.headers["x-request-id"]
    assert request_id in payload["error"]["message"]
    assert any(request_id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_a_hung_service_is_cancelled_and_answered_504() -> None:
    async def answer() -> Any:
        await asyncio.sleep(60)

    service = Service(answer)
    exchange = run(app_for(service, request_timeout=0.2))
    payload = documented(exchange, 504, "Timeout")
    assert "0.2 s" in payload["error"]["message"]
    assert service.cancelled == 1


def test_a_timeout_error_raised_by_the_service_is_a_500_not_a_504() -> None:
    async def answer() -> Any:
        raise TimeoutError("the model's own")

    documented(run(app_for(Service(answer))), 500, "InternalServerError")


def test_a_client_that_goes_away_cancels_the_service(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event

    async def scenario() -> tuple[Service, Exchange]:
        began = started()

        async def answer() -> Any:
            began.set()
            await asyncio.sleep(60)

        service = Service(answer)
        exchange = Exchange(app_for(service))
        task = asyncio.create_task(exchange.run())
        await asyncio.wait_for(began.wait(), 5)
        exchange.disconnect.set()
        await asyncio.wait_for(task, 5)  # the app returns at once, without answering
        return service, exchange

    caplog.set_level(logging.INFO, ACCESS_LOGGER)
    service, exchange = asyncio.run(scenario())
    assert service.cancelled == 1
    assert exchange.sent == []
    [record] = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert record.access["outcome"] == "client disconnected"  # type: ignore[attr-defined]


def test_the_server_cancelling_a_request_is_not_swallowed() -> None:
    async def scenario() -> None:
        began = asyncio.Event()

        async def answer() -> Any:
            began.set()
            await asyncio.sleep(60)

        exchange = Exchange(app_for(Service(answer)))
        task = asyncio.create_task(exchange.run())
        await began.wait()
        task.cancel()  # as a server does on shutdown
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def _item(**fields: Any) -> models.EmbeddingItem:
    return models.EmbeddingItem(**{"index": 0, "object": "embedding", "embedding": [0.1], **fields})


@pytest.mark.parametrize("bad", [
    {"id": None}, {"data": "oops"}, {"object": 7}, {"id": NOT_GIVEN}, {"usage": NOT_GIVEN},
    {"data": [_item(index="0")]}, {"data": [_item(index=2**31)]}, {"data": [_item(index=True)]},
    {"data": [_item(embedding=[0.1, float("nan")])]}, {"data": [_item(embedding=[True])]},
    {"data": [_item(embedding=[[0.1]])]}, {"data": [_item(object=NOT_GIVEN)]},
    {"data": [models.EmbeddingsUsage(prompt_tokens=1, total_tokens=1)]},
    {"usage": _item()}, {"usage": models.EmbeddingsUsage(prompt_tokens=1.5, total_tokens=1)},
    {"data": [_item(), {"index": 1}]},
], ids=repr)
@pytest.mark.parametrize("fast", [True, False], ids=["msgspec", "no msgspec"])
def test_an_invalid_result_is_a_logged_500(bad: dict[str, Any], fast: bool,
                                           caplog: pytest.LogCaptureFixture,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if not fast:  # as where msgspec is not installed: the check's walk alone
        monkeypatch.setattr(_fast, "_msgspec", None)

    async def answer() -> Any:
        return result(**bad)

    exchange = run(app_for(Service(answer)))
    documented(exchange, 500, "InternalServerError")
    [record] = [r for r in caplog.records if "does not fit its schema" in r.getMessage()]
    assert exchange.headers["x-request-id"] in record.getMessage()


def test_the_result_check_can_be_switched_off() -> None:
    async def answer() -> Any:
        return result(id=None)

    exchange = run(app_for(Service(answer), check_results=False))
    assert exchange.status == 200
    assert json.loads(exchange.body)["id"] is None


@pytest.mark.parametrize("orjson", [True, False])
@pytest.mark.parametrize("fast", [True, False], ids=["msgspec", "no msgspec"])
def test_a_checked_answer_is_its_to_dict_whatever_the_encoder(
    orjson: bool, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result that passes its check as it is is written straight from the check's walk
    (or by msgspec): the same JSON as to_dict(), a string orjson and msgspec refuse (a lone
    surrogate) included."""
    if not orjson:
        monkeypatch.setattr(_answer, "_orjson", None)
    if not fast:
        monkeypatch.setattr(_fast, "_msgspec", None)
    for text in ("plain", "caf\u00e9 \u2603", "lone \ud800 surrogate"):
        expected = result(rows=3, id=text)

        async def answer(expected: Any = expected) -> Any:
            return expected

        exchange = run(app_for(Service(answer)))
        assert exchange.status == 200
        assert json.loads(exchange.body) == expected.to_dict()
        assert int(exchange.headers["content-length"]) == len(exchange.body)


def test_nan_in_a_result_is_a_500_whatever_the_encoder() -> None:
    async def answer() -> Any:
        return result(rows=2, dims=3, data=[models.EmbeddingItem(
            index=0, object="embedding", embedding=[0.1, float("nan"), 0.2])])

    documented(run(app_for(Service(answer))), 500, "InternalServerError")


# ---- big answers -------------------------------------------------------------------------


@pytest.mark.parametrize("orjson", [True, False])
def test_a_big_answer_is_sent_in_pieces_equal_to_the_whole(
    orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not orjson:
        monkeypatch.setattr(_answer, "_orjson", None)
    monkeypatch.setattr(_answer, "CHUNK_BYTES", 1 << 16)
    big = result(rows=300, dims=512)  # 153,600 values: past BIG_ANSWER_VALUES
    assert _answer.weight(big) > _answer.BIG_ANSWER_VALUES

    async def answer() -> Any:
        return big

    exchange = run(app_for(Service(answer)))
    assert exchange.status == 200
    assert len(exchange.sent) > 3  # several body messages, streamed as written
    assert "content-length" not in exchange.headers  # the server frames it (chunked)
    assert exchange.sent[-1] == {"type": "http.response.body", "body": b""}
    assert json.loads(exchange.body) == big.to_dict()


def test_an_answer_is_big_by_what_it_holds_not_by_its_first_item() -> None:
    """An answer's size is counted by the check's walk, each list before it is walked: one
    whose first vectors are short and a later one long is big, streamed from a thread."""
    tricky = result(rows=3, dims=2)
    tricky.data[2].embedding = [0.5] * (_answer.BIG_ANSWER_VALUES + 10)
    assert _answer.weight(tricky) <= _answer.BIG_ANSWER_VALUES  # the first item's estimate
    assert _answer.small_answer(tricky, models.EmbeddingsResult, True) is None

    async def answer() -> Any:
        return tricky

    exchange = run(app_for(Service(answer)))
    assert exchange.status == 200
    assert "content-length" not in exchange.headers  # streamed
    assert json.loads(exchange.body) == tricky.to_dict()


@pytest.mark.parametrize("orjson", [True, False])
def test_nan_in_a_big_answer_is_a_500_before_anything_is_sent(
    orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not orjson:
        monkeypatch.setattr(_answer, "_orjson", None)
    big = result(rows=300, dims=512)
    big.data[200].embedding[7] = float("inf")  # type: ignore[index]

    async def answer() -> Any:
        return big

    documented(run(app_for(Service(answer))), 500, "InternalServerError")


def test_nan_in_a_big_answer_is_a_500() -> None:
    big = result(rows=300, dims=512)
    big.data[200].embedding[7] = float("inf")  # type: ignore[index]

    async def answer() -> Any:
        return big

    documented(run(app_for(Service(answer))), 500, "InternalServerError")


# ---- lifespan, readiness, operator endpoints ---------------------------------------------


class Hooked(Service):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []
        self.release = asyncio.Event()

    async def startup(self) -> None:
        self.events.append("startup")
        await self.release.wait()
        self.events.append("loaded")

    async def shutdown(self) -> None:
        self.events.append("shutdown")


def test_readiness_waits_for_startup_and_ends_at_shutdown() -> None:
    service = Hooked()
    app = app_for(service)

    async def get(path: str) -> Exchange:
        exchange = Exchange(app, method="GET", path=path, query="", chunks=(b"",), key=None)
        await exchange.run()
        return exchange

    async def scenario() -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            outbox.append(message)

        lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"})
        await asyncio.sleep(0.05)
        assert (await get("/health/ready")).status == 503
        assert (await get("/health/live")).status == 200
        early = Exchange(app)
        await early.run()
        documented(early, 503, "ServiceUnavailable")
        assert early.headers["retry-after"] == "1"
        assert outbox == []  # startup not complete while the model loads
        service.release.set()
        await asyncio.sleep(0.05)
        assert outbox == [{"type": "lifespan.startup.complete"}]
        ready = await get("/health/ready")
        assert (ready.status, json.loads(ready.body)) == (200, {"status": "ready"})
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(lifespan, 5)
        assert outbox[-1] == {"type": "lifespan.shutdown.complete"}
        assert (await get("/health/ready")).status == 503
        late = Exchange(app)  # readiness told the balancer to stop; stragglers are served
        await late.run()
        assert late.status == 200
        assert service.events == ["startup", "loaded", "shutdown"]

    asyncio.run(scenario())


def test_a_failed_startup_fails_the_lifespan() -> None:
    class Broken(Service):
        async def startup(self) -> None:
            raise RuntimeError("no model file")

    app = app_for(Broken())

    async def scenario() -> list[dict[str, Any]]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            outbox.append(message)

        await inbox.put({"type": "lifespan.startup"})
        await asyncio.wait_for(app({"type": "lifespan"}, inbox.get, send), 5)
        return outbox

    [message] = asyncio.run(scenario())
    assert message["type"] == "lifespan.startup.failed"
    assert "no model file" in message["message"]


def test_without_lifespan_startup_runs_before_the_first_request() -> None:
    service = Hooked()
    service.release.set()
    exchange = run(app_for(service))
    assert exchange.status == 200
    assert service.events == ["startup", "loaded"]


def test_a_proxy_service_has_no_hooks() -> None:
    class Proxy:
        def __getattr__(self, name: str) -> Any:
            async def handle(body: Any, context: Any) -> Any:
                return result()
            return handle

    assert run(app_for(Proxy())).status == 200


def test_openapi_json_is_the_spec() -> None:
    exchange = run(app_for(), method="GET", path="/openapi.json", query="", key=None)
    assert exchange.status == 200
    spec = json.loads(exchange.body)
    assert spec["info"]["version"] == VERSION
    assert "/embeddings" in spec["paths"]


def test_operator_endpoints_can_be_switched_off() -> None:
    exchange = run(app_for(operator_endpoints=False), method="GET", path="/health", query="",
                   key=None)
    documented_404 = json.loads(exchange.body)
    assert exchange.status == 404 and documented_404["error"]["code"] == "NotFound"


def test_operator_endpoints_answer_get_only() -> None:
    exchange = run(app_for(), method="POST", path="/health", query="")
    assert exchange.status == 404


# ---- access log, metrics, traces ---------------------------------------------------------


def test_the_access_log_has_the_fields_and_never_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, ACCESS_LOGGER)
    app = app_for()
    run(app, headers=[(b"x-ms-client-request-id", b"req-42"),
                      (b"authorization", b"Bearer " + KEY.encode())])
    run(app, key="not-the-key")
    run(app, path="/nowhere/" + KEY)
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [r.access["status"] for r in records] == [200, 401, 404]  # type: ignore[attr-defined]
    first = json.loads(records[0].getMessage())
    assert first["request_id"] == "req-42"
    assert first["method"] == "POST"
    assert first["route"] == "/embeddings"
    assert first["api_version"] == VERSION
    assert first["latency_ms"] >= 0
    assert records[2].access["route"] == "unmatched"  # type: ignore[attr-defined]
    text = caplog.text
    assert KEY not in text and "not-the-key" not in text


def test_the_access_log_follows_its_level_at_run_time_with_every_other_signal_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # With metrics and traces off, a request ends with no work unless the access log is on:
    # its switch is still read per request, so an operator can turn it on and off live.
    app = app_for(metrics=False, tracing=False)
    caplog.set_level(logging.WARNING, ACCESS_LOGGER)
    run(app, headers=[(b"x-ms-client-request-id", b"req-off-1")])
    caplog.set_level(logging.INFO, ACCESS_LOGGER)
    run(app, headers=[(b"x-ms-client-request-id", b"req-on")])
    caplog.set_level(logging.WARNING, ACCESS_LOGGER)
    run(app, headers=[(b"x-ms-client-request-id", b"req-off-2")])
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [json.loads(r.getMessage())["request_id"] for r in records] == ["req-on"]
    assert records[0].access["status"] == 200  # type: ignore[attr-defined]
    assert records[0].access["latency_ms"] >= 0  # type: ignore[attr-defined]


def test_prometheus_metrics_count_requests_errors_and_latency() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    app = app_for()
    run(app)
    run(app)
    run(app, key="bad")
    exchange = run(app, method="GET", path="/metrics", query="", key=None)
    assert exchange.status == 200
    assert exchange.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(exchange.body.decode())}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in families.values() for s in f.samples}
    ok = (("api_version", VERSION), ("method", "POST"), ("route", "/embeddings"),
          ("status", "200"))
    denied = (("api_version", VERSION), ("method", "POST"), ("route", "/embeddings"),
              ("status", "401"))
    assert samples[("http_server_requests_total", ok)] == 2
    assert samples[("http_server_requests_total", denied)] == 1
    assert samples[("http_server_errors_total", denied)] == 1
    assert ("http_server_errors_total", ok) not in samples
    count = samples[("http_server_request_duration_seconds_count",
                     (("method", "POST"), ("route", "/embeddings")))]
    assert count == 3


def test_metrics_go_to_a_registry_given() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    run(app_for(metrics=registry))
    assert registry.get_sample_value("http_server_requests_total", {
        "method": "POST", "route": "/embeddings", "status": "200",
        "api_version": VERSION}) == 1


def test_the_in_flight_gauge_counts_requests_being_answered() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()

    async def scenario() -> list[float | None]:
        began, release = asyncio.Event(), asyncio.Event()

        async def answer() -> Any:
            began.set()
            await release.wait()
            return result()

        app = app_for(Service(answer), metrics=registry)
        task = asyncio.create_task(Exchange(app).run())
        await asyncio.wait_for(began.wait(), 5)
        during = registry.get_sample_value("http_server_requests_in_flight")
        release.set()
        await asyncio.wait_for(task, 5)
        return [during, registry.get_sample_value("http_server_requests_in_flight")]

    assert asyncio.run(scenario()) == [1.0, 0.0]


def test_a_span_per_request_with_route_and_request_id() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[Any] = []

    async def answer() -> Any:
        from opentelemetry import trace

        seen.append(trace.get_current_span().get_span_context())
        raise RuntimeError("boom")

    # The app takes its tracer from the global provider at creation, as in production.
    from opentelemetry import trace

    original = trace._TRACER_PROVIDER  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = provider  # type: ignore[attr-defined]
    try:
        app = app_for(Service(answer))
        parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        exchange = run(app, headers=[(b"traceparent", parent.encode())])
    finally:
        trace._TRACER_PROVIDER = original  # type: ignore[attr-defined]
    [span] = exporter.get_finished_spans()
    assert span.name == "POST /embeddings"
    assert span.kind == SpanKind.SERVER
    assert span.attributes["http.route"] == "/embeddings"
    assert span.attributes["request.id"] == exchange.headers["x-request-id"]
    assert span.attributes["http.response.status_code"] == 500
    assert span.status.status_code == StatusCode.ERROR
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert seen[0].span_id == span.context.span_id  # the service ran inside the span


def test_without_the_optional_libraries_the_server_still_serves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from model_inference_2024_05_01_preview import _observe

    monkeypatch.setattr(_observe, "_import_prometheus", lambda: None)
    monkeypatch.setattr(_observe, "_import_opentelemetry", lambda: None)
    monkeypatch.setattr(_answer, "_orjson", None)
    monkeypatch.setattr(_fast, "_msgspec", None)
    app = app_for()
    assert run(app).status == 200
    exchange = run(app, method="GET", path="/metrics", query="", key=None)
    assert exchange.status == 404
    assert "prometheus-client" in json.loads(exchange.body)["error"]["message"]


@pytest.mark.parametrize("orjson", [True, False])
def test_small_answers_are_the_same_json_whatever_the_encoder(
    orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not orjson:
        monkeypatch.setattr(_answer, "_orjson", None)
    for text in ("plain", "caf\u00e9 \u2603", "lone \ud800 surrogate"):
        expected = result(id=text, model=None)  # a null too: the standard library writes it

        async def answer(expected: Any = expected) -> Any:
            return expected

        exchange = run(app_for(Service(answer), check_results=False))
        assert exchange.status == 200
        assert json.loads(exchange.body) == expected.to_dict()
