"""What an operator sees of every request a generated server answers: one structured access
log record, Prometheus metrics (with prometheus-client) and an OpenTelemetry span (with
opentelemetry-api).

Both libraries are optional: each is imported once, on the first app that asks for it, and
its absence turns off its signal and nothing else. The access log is the standard library's
`logging`. Nothing here ever sees a key: it is handed the method, the route template, the
status, the request id and the api-version, never the headers' values (only, for a trace,
the W3C `traceparent`/`tracestate` headers, through opentelemetry's own propagator).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import time
import typing as _t
from collections.abc import Mapping
from dataclasses import dataclass

#: The latency histogram's bucket bounds, in seconds (an embedding call: 1 ms to a minute).
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
#: The content type of the Prometheus text exposition format.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(slots=True)
class Exchange:
    """One request as the operator's signals describe it; filled in as it is learnt."""

    method: str
    request_id: str
    started: float
    #: The route template ("/embeddings"), or "unmatched": never the raw path, so that a
    #: client cannot mint label values or log lines at will.
    route: str = "unmatched"
    operation_id: str = ""
    api_version: str = ""
    status: int = 0
    #: Why a request ended without an answer ("client disconnected"), for the log.
    outcome: str = ""
    span: _t.Any = None
    span_token: _t.Any = None


class _Metrics:
    """Request count, latency histogram and errors, by route, method and status, in a
    registry of the app's own (or PROMETHEUS_MULTIPROC_DIR's, with several workers)."""

    def __init__(self, prometheus: _t.Any, registry: _t.Any) -> None:
        self._prometheus = prometheus
        self.registry = registry
        labels = ("method", "route", "status", "api_version")
        self.requests = prometheus.Counter(
            "http_server_requests",
            "Requests answered, by route, method and status.",
            labels,
            registry=registry,
        )
        self.errors = prometheus.Counter(
            "http_server_errors",
            "Requests answered with a 4xx or 5xx status.",
            labels,
            registry=registry,
        )
        self.latency = prometheus.Histogram(
            "http_server_request_duration_seconds",
            "Time from the request's head to the end of its answer, by route and method.",
            ("method", "route"),
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self._children: dict[tuple[str, str, int, str], tuple[_t.Any, _t.Any, _t.Any]] = {}
        self.in_flight = prometheus.Gauge(
            "http_server_requests_in_flight",
            "Requests being answered.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        #: Requests being answered by this app; read at scrape time, rather than a locked
        #: gauge update on each request's start and end (with several worker processes,
        #: PROMETHEUS_MULTIPROC_DIR, each worker's count must reach its file: updated then).
        self.answering = 0
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        if not self.multiprocess:
            self.in_flight.set_function(lambda: self.answering)

    def started(self) -> None:
        if self.multiprocess:
            self.in_flight.inc()
        else:
            self.answering += 1

    def ended(self) -> None:
        if self.multiprocess:
            self.in_flight.dec()
        else:
            self.answering -= 1

    def record(self, exchange: Exchange, seconds: float) -> None:
        key = (exchange.method, exchange.route, exchange.status, exchange.api_version)
        children = self._children.get(key)
        if children is None:
            # The labelled series of one (method, route, status, api-version), looked up once:
            # labels() takes a lock and builds a tuple on every call.
            labels = (exchange.method, exchange.route, str(exchange.status), exchange.api_version)
            children = (
                self.requests.labels(*labels),
                self.errors.labels(*labels) if exchange.status >= 400 else None,
                self.latency.labels(exchange.method, exchange.route),
            )
            if len(self._children) < 10_000:  # bounded: labels come from a closed set
                self._children[key] = children
        requests, errors, latency = children
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        prometheus = self._prometheus
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Several worker processes: every worker's samples, merged from their files.
            multiprocess = importlib.import_module("prometheus_client.multiprocess")
            merged = prometheus.CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)
            return bytes(prometheus.generate_latest(merged))
        return bytes(prometheus.generate_latest(self.registry))


#: Where a registry a caller gave keeps the metrics registered in it (see Observer).
_SHARED_ATTRIBUTE = "_embeddings_codegen_metrics"


def _import_prometheus() -> _t.Any:
    try:
        return importlib.import_module("prometheus_client")
    except ImportError:
        return None


def _import_opentelemetry() -> tuple[_t.Any, ...] | None:
    try:
        return tuple(
            importlib.import_module(f"opentelemetry.{name}")
            for name in ("context", "propagate", "trace")
        )
    except ImportError:
        return None


class Observer:
    """The access log, metrics and tracing of one app.

    logger: the name of the access logger (records at INFO, one per request).
    metrics: False, True (a registry of the app's own, when prometheus-client is installed),
    or a prometheus_client CollectorRegistry to register in (several apps may share one).
    tracing: whether to start a span per request (when opentelemetry-api is installed; with
    no SDK configured its spans are no-ops).
    """

    def __init__(
        self,
        logger: str,
        *,
        metrics: bool | object = True,
        tracing: bool = True,
        tracer_name: str = "",
    ) -> None:
        self.access_log = logging.getLogger(logger)
        self.metrics: _Metrics | None = None
        if metrics is not False:
            prometheus = _import_prometheus()
            if prometheus is not None and metrics is True:
                self.metrics = _Metrics(prometheus, prometheus.CollectorRegistry())
            elif prometheus is not None:
                # Apps given the same registry (one process serving several contracts, each
                # package with its own copy of this module) share its metric families,
                # which prometheus would refuse to register twice: the registry keeps them.
                shared = getattr(metrics, _SHARED_ATTRIBUTE, None)
                if shared is None:
                    shared = _Metrics(prometheus, metrics)
                    setattr(metrics, _SHARED_ATTRIBUTE, shared)
                self.metrics = shared
        self._otel = _import_opentelemetry() if tracing else None
        self._tracer = None
        if self._otel is not None:
            self._tracer = self._otel[2].get_tracer(tracer_name or logger)

    def begin(self, method: str, request_id: str, headers: Mapping[str, str]) -> Exchange:
        exchange = Exchange(method, request_id, time.perf_counter())
        if self.metrics is not None:
            self.metrics.started()
        if self._otel is not None and self._tracer is not None:
            context, propagate, trace = self._otel
            parent = None
            if "traceparent" in headers:
                carrier = {k: headers[k] for k in ("traceparent", "tracestate") if k in headers}
                parent = propagate.extract(carrier)
            span = self._tracer.start_span(
                method,
                context=parent,
                kind=trace.SpanKind.SERVER,
                attributes={"http.request.method": method, "request.id": request_id},
            )
            if span.is_recording():  # no SDK configured: nothing more to do for it
                exchange.span = span
                # The service's own spans are children of this one.
                exchange.span_token = context.attach(trace.set_span_in_context(span))
        return exchange

    def routed(self, exchange: Exchange, route: str, operation_id: str, api_version: str) -> None:
        exchange.route = route
        exchange.operation_id = operation_id
        exchange.api_version = api_version
        if exchange.span is not None:
            exchange.span.update_name(f"{exchange.method} {route}")
            exchange.span.set_attribute("http.route", route)
            exchange.span.set_attribute("api.version", api_version)
            if operation_id:
                exchange.span.set_attribute("operation.id", operation_id)

    def end(self, exchange: Exchange) -> None:
        # The access log's switch is its logger's level, read per request (logging caches
        # it), so that an operator may turn it on or off at run time.
        logs = self.access_log.isEnabledFor(logging.INFO)
        if not logs and self.metrics is None and exchange.span is None:
            return  # every signal off: nothing to time or record
        seconds = time.perf_counter() - exchange.started
        if self.metrics is not None:
            self.metrics.ended()
            self.metrics.record(exchange, seconds)
        if exchange.span is not None:
            self._end_span(exchange)
        if logs:
            fields = {
                "request_id": exchange.request_id,
                "method": exchange.method,
                "route": exchange.route,
                "status": exchange.status,
                "latency_ms": round(seconds * 1000, 3),
                "api_version": exchange.api_version,
            }
            if exchange.operation_id:
                fields["operation_id"] = exchange.operation_id
            if exchange.outcome:
                fields["outcome"] = exchange.outcome
            # The record made and handled as Logger.info() would, without its search of the
            # stack for the caller (this line, every time).
            log = self.access_log
            record = log.makeRecord(
                log.name,
                logging.INFO,
                __file__,
                0,
                json.dumps(fields, ensure_ascii=True),
                (),
                None,
                extra={"access": fields},
            )
            log.handle(record)

    def _end_span(self, exchange: Exchange) -> None:
        assert self._otel is not None
        context, _propagate, trace = self._otel
        span = exchange.span
        if exchange.status:
            span.set_attribute("http.response.status_code", exchange.status)
        if exchange.status >= 500 or not exchange.status:
            span.set_status(trace.Status(trace.StatusCode.ERROR, exchange.outcome or None))
        span.end()
        if exchange.span_token is not None:
            try:
                context.detach(exchange.span_token)
            except ValueError:  # ended in another context than it began: nothing to undo
                pass

    def exposition(self) -> bytes | None:
        """The metrics in Prometheus text format, or None without prometheus-client."""
        return self.metrics.exposition() if self.metrics is not None else None
