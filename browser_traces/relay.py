"""The relay for the browser's spans (static/js/rum.min.js): what a batch must be, what is
kept of it, and where it goes. ``api.py`` is its endpoint, ``POST /api/otlp/v1/traces``.

The browser is a second service, ``<service>-frontend``. Its OpenTelemetry web SDK posts
OTLP/JSON here (the CSP allows no other origin, and the collector is not exposed to browsers);
the relay trusts nothing in it: the whole batch is refused (and nothing exported) unless every
span is from a known instrumentation scope and span kind, within the size and count limits, and
timed within the last hour. Query strings and fragments are cut from every URL attribute, so
search words never reach Tempo. The resource is the server's own (``service.name`` with
``-frontend``), never the browser's.

Accepted spans go through a ``BatchSpanProcessor`` of their own, on the same exporter
configuration as the server's spans (``telemetry.own_batch_span_processor()``): a flood of
browser spans fills only its own queue, never the server's. Each click span also becomes one JSON log line of
``<service>-frontend``, so Loki keeps what the browser's users did. docs/ARCHITECTURE.md.
"""

import logging
import os
import re
import threading
import time
from http import HTTPStatus
from typing import Annotated

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Schema
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from pydantic import ConfigDict, Field

from observability import telemetry, trace_store

logger = logging.getLogger("jiwoo.browser")

MAX_BODY_BYTES = 64 * 1024
MAX_SPANS = 64
MAX_ATTRIBUTES = 32  # per span, per event, and the events of a span
MAX_STRING = 1024  # longer attribute values are cut, as the SDKs' attribute limits do
MAX_AGE_NS = 3600 * 10**9
MAX_CLOCK_SKEW_NS = 300 * 10**9  # a browser's clock a little ahead of the server's

CLICK_SCOPE = "jiwoo.browser"
# The instrumentation scopes the bundle has (frontend/rum.js), and the span kinds of each
# (OTLP numbers them from 1: INTERNAL 1, SERVER 2, CLIENT 3).
KNOWN_SCOPES = {
    "@opentelemetry/instrumentation-document-load": {1},
    "@opentelemetry/instrumentation-fetch": {1, 3},
    CLICK_SCOPE: {1},
}
HEX_TRACE_ID = re.compile(r"[0-9a-f]{32}")
HEX_SPAN_ID = re.compile(r"[0-9a-f]{16}")
TRACK_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# Attributes that never leave the relay, whatever their value.
DROPPED_KEYS = {"url.query", "url.fragment", "http.request.header.cookie", "http.request.header.authorization"}
DECIMAL = re.compile(r"[0-9]{1,20}")
URL_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/)", re.IGNORECASE)


class RelayError(Exception):
    """A refused batch: ``status`` and a message for the browser's developer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- the OTLP/JSON request (opentelemetry-proto's JSON mapping, the fields the relay reads) -----


class Otlp(Schema):
    # Fields the relay does not read (droppedAttributesCount, flags, schemaUrl ...) are ignored:
    # spans are rebuilt from the fields below, so nothing unread is passed on.
    model_config = ConfigDict(extra="ignore")


Nanos = Annotated[int | str, Field(description="Unix time in nanoseconds (a decimal string or a number).")]


class ScalarValue(Otlp):
    stringValue: str | None = None
    boolValue: bool | None = None
    intValue: int | str | None = None
    doubleValue: float | None = None


class ArrayValue(Otlp):
    # Scalars only, as span attributes allow: an array of arrays is refused by the schema, so a
    # body nested hundreds deep never reaches a recursive validator.
    values: list[ScalarValue] = Field(max_length=MAX_ATTRIBUTES)


class AnyValue(ScalarValue):
    arrayValue: ArrayValue | None = None


class KeyValue(Otlp):
    key: str = Field(min_length=1, max_length=128)
    value: AnyValue


Attributes = Annotated[list[KeyValue], Field(max_length=MAX_ATTRIBUTES)]


class SpanEvent(Otlp):
    name: str = Field(max_length=128)
    timeUnixNano: Nanos
    attributes: Attributes = []


class SpanStatus(Otlp):
    code: int = Field(0, ge=0, le=2)
    message: str = Field("", max_length=MAX_STRING)


class OtlpSpan(Otlp):
    traceId: str
    spanId: str
    parentSpanId: str | None = None
    name: str = Field(min_length=1, max_length=256)
    kind: int
    startTimeUnixNano: Nanos
    endTimeUnixNano: Nanos
    attributes: Attributes = []
    events: list[SpanEvent] = Field([], max_length=MAX_ATTRIBUTES)
    status: SpanStatus | None = None


class Scope(Otlp):
    name: str = Field(max_length=128)
    version: str | None = Field(None, max_length=64)


class ScopeSpans(Otlp):
    scope: Scope
    spans: list[OtlpSpan] = Field(max_length=MAX_SPANS)


class ResourceSpans(Otlp):
    scopeSpans: list[ScopeSpans] = Field(max_length=MAX_SPANS)


class TracesRequest(Otlp):
    """An OTLP/JSON ExportTraceServiceRequest (the browser's resource is replaced by the server)."""

    resourceSpans: list[ResourceSpans] = Field(max_length=MAX_SPANS)


ArrayValue.model_rebuild()


# --- validation and conversion (plain functions; the endpoint in api.py only calls them) -------


def _nanos(value: int | str, now_ns: int) -> int:
    if isinstance(value, str):
        if not DECIMAL.fullmatch(value):
            raise RelayError(HTTPStatus.BAD_REQUEST, _("Timestamps must be whole nanoseconds."))
        value = int(value)
    if not now_ns - MAX_AGE_NS <= value <= now_ns + MAX_CLOCK_SKEW_NS:
        raise RelayError(HTTPStatus.BAD_REQUEST, _("Span timestamps must be within the last hour."))
    return value


def strip_url(value: str) -> str:
    """A URL-like value without its query string and fragment: search words stay in the browser."""
    if not URL_LIKE.match(value):
        return value
    return re.split(r"[?#]", value, maxsplit=1)[0]


def _scalar(value: AnyValue | ScalarValue):
    present = [
        name
        for name in ("stringValue", "boolValue", "intValue", "doubleValue", "arrayValue")
        if getattr(value, name, None) is not None
    ]
    if len(present) != 1:
        raise RelayError(HTTPStatus.BAD_REQUEST, _("Each attribute value must be one string, number or boolean."))
    kind = present[0]
    raw = getattr(value, kind)
    if kind == "stringValue":
        return strip_url(raw)[:MAX_STRING]
    if kind == "intValue":
        try:
            number = int(raw)
        except ValueError:
            raise RelayError(HTTPStatus.BAD_REQUEST, _("An intValue must be a whole number.")) from None
        if not -(2**63) <= number < 2**63:
            raise RelayError(HTTPStatus.BAD_REQUEST, _("An intValue must fit in 64 bits."))
        return number
    if kind == "arrayValue":
        items = [_scalar(item) for item in raw.values]
        if any(isinstance(item, tuple) for item in items) or len({type(item) for item in items}) > 1:
            raise RelayError(HTTPStatus.BAD_REQUEST, _("An array attribute must hold values of one type."))
        return tuple(items)
    return raw


def clean_attributes(attributes: list[KeyValue]) -> dict:
    """The attributes as a dict, URL values without query strings, the never-exported keys left out."""
    return {item.key: _scalar(item.value) for item in attributes if item.key not in DROPPED_KEYS}


def _span_id(value: str | None, pattern: re.Pattern, *, optional: bool = False) -> int | None:
    if optional and not value:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value) or not int(value, 16):
        raise RelayError(HTTPStatus.BAD_REQUEST, _("Trace and span ids must be lower-case hex and not zero."))
    return int(value, 16)


def frontend_resource() -> Resource:
    """The server's resource as the browser's service: ``<service>-frontend``, no instance id."""
    server = dict(telemetry.build_resource().attributes)
    server.pop("service.instance.id", None)
    server.update({"service.name": f"{settings.SERVICE_NAME}-frontend", "telemetry.sdk.language": "webjs"})
    return Resource(server)


def parse_batch(request_model: TracesRequest, *, now_ns: int | None = None) -> list[ReadableSpan]:
    """Every span of the request as an SDK span of ``<service>-frontend``, or RelayError(400) for the whole batch."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    groups = [group for resource in request_model.resourceSpans for group in resource.scopeSpans]
    if sum(len(group.spans) for group in groups) > MAX_SPANS:
        raise RelayError(HTTPStatus.BAD_REQUEST, _("At most %(count)d spans a request.") % {"count": MAX_SPANS})
    resource = frontend_resource()
    spans = []
    for group in groups:
        kinds = KNOWN_SCOPES.get(group.scope.name)
        if kinds is None:
            raise RelayError(HTTPStatus.BAD_REQUEST, _("Unknown instrumentation scope."))
        scope = InstrumentationScope(group.scope.name, group.scope.version)
        for span in group.spans:
            if span.kind not in kinds:
                raise RelayError(HTTPStatus.BAD_REQUEST, _("Span kind not accepted for this instrumentation scope."))
            spans.append(_readable_span(span, scope, resource, now_ns))
    return spans


def _readable_span(span: OtlpSpan, scope: InstrumentationScope, resource: Resource, now_ns: int) -> ReadableSpan:
    trace_id = _span_id(span.traceId, HEX_TRACE_ID)
    context = SpanContext(trace_id, _span_id(span.spanId, HEX_SPAN_ID), False, TraceFlags(TraceFlags.SAMPLED))
    parent_id = _span_id(span.parentSpanId, HEX_SPAN_ID, optional=True)
    parent = SpanContext(trace_id, parent_id, True, TraceFlags(TraceFlags.SAMPLED)) if parent_id else None
    start, end = _nanos(span.startTimeUnixNano, now_ns), _nanos(span.endTimeUnixNano, now_ns)
    if end < start:
        raise RelayError(HTTPStatus.BAD_REQUEST, _("A span must not end before it starts."))
    events = tuple(
        Event(event.name, clean_attributes(event.attributes), _nanos(event.timeUnixNano, now_ns))
        for event in span.events
    )
    status = span.status or SpanStatus()
    return ReadableSpan(
        name=strip_url(span.name),
        context=context,
        parent=parent,
        resource=resource,
        attributes=clean_attributes(span.attributes),
        events=events,
        kind=SpanKind(span.kind - 1),
        status=Status(StatusCode(status.code), status.message if status.code == StatusCode.ERROR.value else None),
        start_time=start,
        end_time=end,
        instrumentation_scope=scope,
    )


def log_clicks(spans: list[ReadableSpan]) -> None:
    """One ``browser.click`` line of ``<service>-frontend`` per click span, in the click's trace."""
    service_name = f"{settings.SERVICE_NAME}-frontend"
    for span in spans:
        if span.instrumentation_scope.name != CLICK_SCOPE:
            continue
        target = span.attributes.get("jiwoo.track")
        path = span.attributes.get("url.path")
        extra = {
            "event": "browser.click",
            "service_name": service_name,
            "trace_id": format(span.context.trace_id, "032x"),
            "span_id": format(span.context.span_id, "016x"),
        }
        if isinstance(target, str) and TRACK_NAME.fullmatch(target):
            extra["target"] = target
        if isinstance(path, str):
            extra["path"] = path[:200]
        logger.info("browser click %s %s", extra.get("target", "?"), extra.get("path", ""), extra=extra)


# --- export: a queue of its own -------------------------------------------------------------

_processor_lock = threading.Lock()
_processor = None
_processor_pid = None


def span_processor():
    """This process's batch processor for browser spans, or None when spans are not exported."""
    global _processor, _processor_pid
    if not telemetry.traces_exported():
        return None
    with _processor_lock:
        if _processor is None or _processor_pid != os.getpid():
            _processor = telemetry.own_batch_span_processor()
            _processor_pid = os.getpid()
    return _processor


def export(spans: list[ReadableSpan], user_id: int | None = None) -> int:
    """Queue the spans on the browser's own processor, and give the trace view's store, where it
    runs, those that join a trace of ``user_id``'s own (anyone can post spans under any trace id:
    they may neither add to someone else's trace nor fill the store with traces of their own);
    how many were queued for export (0 when export is off)."""
    store = trace_store.store()
    if store is not None:
        owned = trace_store.traces_owned_by({format(span.context.trace_id, "032x") for span in spans}, user_id)
        store.store_spans([span for span in spans if format(span.context.trace_id, "032x") in owned])
    processor = span_processor()
    if processor is None:
        return 0
    for span in spans:
        processor.on_end(span)
    return len(spans)
