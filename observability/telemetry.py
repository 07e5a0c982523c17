"""OpenTelemetry for jiwoo: the one module that builds the providers and instruments libraries.

``setup()`` runs once per process, after any fork: gunicorn calls it from ``post_fork``,
``jiwoo.wsgi`` calls it for every other server (a second call in the same process does
nothing). Configuration is the standard ``OTEL_*`` variables: with no OTLP endpoint nothing
is exported and nothing touches the network; with ``OTEL_SDK_DISABLED=true`` no SDK starts.
docs/ARCHITECTURE.md shows where spans, metrics and logs go from here.
"""

import atexit
import logging
import os
import socket
import threading
import time
import uuid

from opentelemetry import metrics, trace
from opentelemetry.sdk.trace import SpanProcessor

from core import __version__
from core.environment import service_name

logger = logging.getLogger(__name__)

# Where the browser's telemetry comes in (browser_traces' relay): its requests are telemetry,
# not the app's work, so they make no server span and no activity entry.
TELEMETRY_PATH = "/api/otlp/"
# Probes never reach Django (observability.probes answers them in front of it); static files do.
# The instrumentation matches these with re.search against the absolute URL, so anchor them.
EXCLUDED_URLS = rf"^[a-z]+://[^/]+/(?:static/|{TELEMETRY_PATH.strip('/')}/)"

_setup_pid: int | None = None
_providers: list = []


def current_trace_ids() -> tuple[str, str] | None:
    """The active span's trace and span id as lower-case hex, or None outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def sdk_disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def _endpoint_configured(signal: str) -> bool:
    return bool(
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def _protocol(signal: str) -> str:
    return (
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()


def traces_exported() -> bool:
    """Whether this process exports spans: the SDK is on and a traces endpoint is configured.

    Pages carry <meta name="traceparent"> (and so start the browser SDK) only then.
    """
    return not sdk_disabled() and _exporter_wanted("TRACES")


def trace_view_enabled() -> bool:
    """Whether this process keeps its traces in Redis for the trace view (TRACE_VIEW_ENABLED;
    unset: where no traces endpoint is configured, as under make run)."""
    from django.conf import settings

    if sdk_disabled():
        return False
    chosen = settings.TRACE_VIEW_ENABLED
    return not _exporter_wanted("TRACES") if chosen is None else chosen


def log_export_enabled() -> bool:
    """OTLP log export: off unless OTEL_LOGS_EXPORTER=otlp (Promtail already ships stdout)."""
    return not sdk_disabled() and _exporter_wanted("LOGS", default="none")


def _exporter_wanted(signal: str, default: str = "otlp") -> bool:
    """OTEL_<SIGNAL>S_EXPORTER=none switches one signal off; otherwise an endpoint is needed."""
    chosen = os.environ.get(f"OTEL_{signal}_EXPORTER", default).strip().lower()
    return chosen == "otlp" and _endpoint_configured(signal)


def otlp_exporter(signal: str):
    """The OTLP exporter for TRACES, METRICS or LOGS over the configured protocol: the library's,
    except for spans over OTLP/HTTP, which go through jiwoo's own (observability/otlp_http.py)
    unless OTLP_SPAN_EXPORTER=library."""
    if signal == "TRACES" and _protocol(signal) != "grpc" and span_exporter_choice() == "jiwoo":
        from observability import otlp_http

        endpoint = otlp_http.traces_endpoint()
        if not (needs := otlp_http.library_only(endpoint)):
            try:
                exporter = otlp_http.OtlpHttpSpanExporter(endpoint)
            except (OSError, ValueError) as error:
                # A certificate file that cannot be read, say: the library's exporter meets it
                # at each export and says so, and the app still starts.
                needs = f"{type(error).__name__}: {error}"
            else:
                logger.info(
                    "spans go to %s through jiwoo's OTLP/HTTP exporter",
                    endpoint,
                    extra={"event": "telemetry.span_exporter", "exporter": "jiwoo"},
                )
                return exporter
        logger.info("spans go to %s through the library's OTLP exporter, for %s", endpoint, needs)
    if _protocol(signal) == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc import _log_exporter, metric_exporter, trace_exporter
    else:
        from opentelemetry.exporter.otlp.proto.http import _log_exporter, metric_exporter, trace_exporter
    return {
        "TRACES": trace_exporter.OTLPSpanExporter,
        "METRICS": metric_exporter.OTLPMetricExporter,
        "LOGS": _log_exporter.OTLPLogExporter,
    }[signal]()


def span_exporter_choice() -> str:
    """OTLP_SPAN_EXPORTER: ``jiwoo`` (the default: the same bytes for less CPU, docs/BENCHMARKS.md)
    or ``library``, for spans over OTLP/HTTP."""
    choice = os.environ.get("OTLP_SPAN_EXPORTER", "jiwoo").strip().lower() or "jiwoo"
    if choice not in ("library", "jiwoo"):
        logger.warning("OTLP_SPAN_EXPORTER=%r is neither jiwoo nor library: using the library's", choice)
        return "library"
    return choice


def build_resource():
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource

    defaults = Resource(
        {
            "service.name": service_name(),
            "service.version": __version__,
            "service.instance.id": f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
            "deployment.environment.name": os.environ.get("DEPLOYMENT_ENVIRONMENT", "development"),
        }
    )
    # OTEL_RESOURCE_ATTRIBUTES overrides the defaults; OTEL_SERVICE_NAME overrides both.
    return (
        Resource.create({})
        .merge(defaults)
        .merge(OTELResourceDetector().detect())
        .merge(Resource({"service.name": service_name()}))
    )


def setup() -> bool:
    """Start the SDK in this process and instrument Django, Redis, psycopg and sqlite3.

    Returns whether the SDK is running. Safe to call more than once per process.
    """
    global _setup_pid
    if sdk_disabled():
        return False
    if _setup_pid == os.getpid():
        return True
    _setup_pid = os.getpid()
    # Stable HTTP semantic conventions: http.server.request.duration, http.request.method ...
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    # Export in batches of 64 spans rather than 512: encoding a batch holds the GIL, and a
    # request that waits behind a big batch waits for all of it (docs/BENCHMARKS.md).
    os.environ.setdefault("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64")

    from opentelemetry.instrumentation.propagators import (
        TraceResponsePropagator,
        set_global_response_propagator,
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = build_resource()

    # The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parentbased_always_on).
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    tracer_provider.add_span_processor(_span_counter)
    if _exporter_wanted("TRACES"):
        tracer_provider.add_span_processor(BatchSpanProcessor(otlp_exporter("TRACES")))
    if trace_view_enabled():
        _start_trace_store(tracer_provider)
    trace.set_tracer_provider(tracer_provider)

    readers = []
    if _exporter_wanted("METRICS"):
        readers.append(PeriodicExportingMetricReader(otlp_exporter("METRICS")))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
    metrics.set_meter_provider(meter_provider)
    _providers[:] = [tracer_provider, meter_provider]
    atexit.register(shutdown)

    if log_export_enabled():
        _setup_log_export(resource)

    set_global_response_propagator(TraceResponsePropagator())
    _instrument_libraries()
    return True


def _start_trace_store(tracer_provider) -> None:
    """The trace view's store: a span processor, told each request's owner by request_completed."""
    from observability import trace_store
    from observability.signals import request_completed

    store = trace_store.start()
    tracer_provider.add_span_processor(store)
    request_completed.connect(trace_store.on_request_completed, dispatch_uid="trace-store-owner")


def own_batch_span_processor():
    """A batch processor with a queue of its own on the server's trace exporter configuration.

    For spans this process relays rather than makes (the browser's, browser_traces/relay.py):
    however many arrive, they fill only their own queue. Flushed by shutdown() like the providers.
    """
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    processor = BatchSpanProcessor(otlp_exporter("TRACES"))
    _providers.append(processor)
    return processor


def _setup_log_export(resource) -> None:
    """The provider behind the OTLP logging handler that json_logging.logging_config adds."""
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(otlp_exporter("LOGS")))
    set_logger_provider(logger_provider)
    _providers.append(logger_provider)


def disabled_instrumentations() -> set[str]:
    """OTEL_PYTHON_DISABLED_INSTRUMENTATIONS: the instrumentations to leave out, by name, or ``*``
    for all of them, as OpenTelemetry's zero-code start reads it. Names jiwoo does not use match nothing."""
    return {name.strip() for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}


def _instrument_libraries() -> None:
    """Patch the libraries once per process; instrumentors refuse a second instrument() anyway."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    instrumentations = {
        "django": (DjangoInstrumentor, {"excluded_urls": EXCLUDED_URLS}),
        "redis": (RedisInstrumentor, {}),
        "psycopg": (PsycopgInstrumentor, {"skip_dep_check": True}),
        "sqlite3": (SQLite3Instrumentor, {}),
    }
    disabled = disabled_instrumentations()
    for name, (instrumentor_class, options) in instrumentations.items():
        instrumentor = instrumentor_class()
        if not {name, "*"} & disabled and not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**options)


def force_flush() -> bool:
    """Export what every provider of this process holds now; False if one of them did not manage."""
    flushed = []
    for provider in _providers:
        try:
            flushed.append(provider.force_flush())
        except Exception:  # the meter provider raises when a reader fails; flush the others still
            logger.exception("telemetry flush failed", extra={"event": "telemetry.flush_failed"})
            flushed.append(False)
    return all(flushed)


def spans_ended() -> int:
    """The spans that ended in this process since the SDK started (what the collector should receive)."""
    return _span_counter.ended


def shutdown() -> None:
    """Flush and stop the providers: gunicorn's worker_exit and the process exit call this."""
    global _setup_pid
    if _providers:
        logger.info(
            "telemetry shutting down: %d spans ended in this process, %d dropped",
            _span_counter.ended,
            DroppedTelemetryFilter.total,
            extra={
                "event": "telemetry.shutdown",
                "spans_ended": _span_counter.ended,
                "spans_dropped": DroppedTelemetryFilter.total,
            },
        )
    for provider in _providers:
        try:
            provider.shutdown()
        except Exception:
            logger.exception("telemetry shutdown failed", extra={"event": "telemetry.shutdown_failed"})
    _providers.clear()
    _setup_pid = None


class SpanCounter(SpanProcessor):
    """Counts ended spans: what was created, to set against what the collector received
    (the shutdown log line reports it, and the benchmark compares the two)."""

    def __init__(self) -> None:
        self.ended = 0

    def on_end(self, span) -> None:
        self.ended += 1


_span_counter = SpanCounter()


class DroppedTelemetryFilter(logging.Filter):
    """Turns the SDK's "Queue full, dropping Span." warning, one per item, into a counted line.

    When the collector is slow or gone, the batch processor drops every item that does not fit
    its bounded queue and warns for each. This filter lets the first warning through, then one
    line per interval that says how many were dropped since, so a dead collector costs a log
    line every few seconds rather than one per span.
    """

    # Items dropped in this process, across every instance (the shutdown line reports it).
    total = 0

    def __init__(self, interval_seconds: float = 10.0) -> None:
        super().__init__()
        self.interval_seconds = interval_seconds
        self._lock = threading.Lock()
        self._dropped = 0
        self._window_started: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Queue full, dropping"):
            return True
        kind = str(record.args[0]).lower() if record.args else "item"
        now = time.monotonic()
        with self._lock:
            self._dropped += 1
            DroppedTelemetryFilter.total += 1
            if self._window_started is not None and now - self._window_started < self.interval_seconds:
                return False
            dropped, self._dropped, self._window_started = self._dropped, 0, now
        record.msg = "%d %s(s) dropped: the export queue is full (the collector is slow or unreachable)"
        record.args = (dropped, kind)
        record.dropped = dropped
        record.event = "telemetry.dropped"
        return True
