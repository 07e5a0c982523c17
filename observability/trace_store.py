"""Recent traces kept in Redis for the trace view, so that a trace can be seen with no collector.

``TraceStore`` is a span processor (the SDK's public interface). It holds the finished spans of
a request until the request's own server span ends, then hands the whole trace to a
``BatchSpanProcessor`` of its own, whose exporter, ``RedisTraceExporter``, writes batches to
Redis off the request path: every worker and every pod sees every trace. Holding them back that
long lets a trace leave with its owner (the user whose request made it, from the request
middleware's ``request_completed``) and its warnings, and lets the trace view's own requests
be left out whole. The browser's spans, relayed by browser_traces, join their trace directly.

Only the traces of signed-in users' requests are kept: nobody but staff could read another's,
and anyone could fill the store with them. A trace belongs to the user whose request made it,
once: a later request that joins it (its traceparent names the trace) is kept only if it is the
same user's, and the browser's spans only if they are (browser_traces checks). What the store
may take is bounded: TRACE_VIEW_MAX_SPANS spans a trace (the server span first), each span's
record at most MAX_SPAN_BYTES with attribute values cut to TRACE_VIEW_MAX_ATTRIBUTE_LENGTH,
an expiry of TRACE_VIEW_TTL_SECONDS, and the newest TRACE_VIEW_MAX_TRACES traces, older ones
dropped whole. Nothing secret is kept: no query string, header or cookie, no stack trace, and
SQL as the instrumentation gives it, without its parameters. A Redis outage loses spans (the
batch processor's full queue drops them, and the log counts them), never a request.
docs/ARCHITECTURE.md, "The trace view".
"""

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from functools import wraps
from typing import NamedTuple

import orjson
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode
from redis.exceptions import RedisError

from core.redis import get_redis

logger = logging.getLogger(__name__)

TRACE_ID = re.compile(r"[0-9a-f]{32}")
# Traces whose request is still running, at most: a worker killed mid-request leaves its spans
# here until newer ones push them out.
MAX_OPEN_TRACES = 1000
# Attributes that never reach the store, whatever their value (a query string may hold search
# words; headers, cookies and a stack trace may hold anything).
DROPPED_KEYS = {"url.query", "exception.stacktrace"}
DROPPED_PREFIXES = ("http.request.header.", "http.response.header.")
# Attributes that hold a URL or a request target: kept without their query string.
URL_KEYS = {"url.full", "http.url", "http.target"}
EVENT_KEYS = ("exception.type", "exception.message", "exception.escaped")
# A stored span's JSON at most: attributes beyond it are left out (and counted).
MAX_SPAN_BYTES = 2048
STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}


def _keys(trace_id: str) -> tuple[str, str, str]:
    base = f"{settings.REDIS_KEY_PREFIX}:trace:{trace_id}"
    return f"{base}:spans", f"{base}:meta", f"{base}:logs"


def _index_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:traces"


def _is_local_root(span: ReadableSpan) -> bool:
    return span.parent is None or span.parent.is_remote


def _cut(value, length: int):
    if isinstance(value, str):
        return value[:length]
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [_cut(item, length) for item in value[:32]]
    return value


def clean_attributes(attributes, length: int, keep: Sequence[str] | None = None) -> dict:
    """The attributes a stored span may keep, each value cut to ``length``."""
    cleaned = {}
    for key, value in (attributes or {}).items():
        if keep is not None and key not in keep:
            continue
        if key in DROPPED_KEYS or key.startswith(DROPPED_PREFIXES):
            continue
        if key in URL_KEYS and isinstance(value, str):
            value = value.split("?", 1)[0].split("#", 1)[0]
        cleaned[key] = _cut(value, length)
    return cleaned


def span_record(span: ReadableSpan, length: int) -> bytes:
    """A finished span as the store keeps it: JSON of at most MAX_SPAN_BYTES."""
    record = _span_fields(span, length)
    encoded = orjson.dumps(record)
    if len(encoded) <= MAX_SPAN_BYTES:
        return encoded
    # Too big: keep the attributes that fit, in their order, and say how many were left out.
    attributes, record["attributes"] = record["attributes"], {}
    record["events"] = record["events"][:1]
    budget = MAX_SPAN_BYTES - len(orjson.dumps(record)) - 48
    for key, value in attributes.items():
        size = len(orjson.dumps({key: value}))
        if size > budget:
            continue
        record["attributes"][key] = value
        budget -= size
    record["attributes"]["jiwoo.dropped_attributes"] = len(attributes) - len(record["attributes"])
    return orjson.dumps(record)


def _span_fields(span: ReadableSpan, length: int) -> dict:
    parent = span.parent
    return {
        "span_id": format(span.context.span_id, "016x"),
        "parent_span_id": format(parent.span_id, "016x") if parent is not None else None,
        "name": span.name[:length],
        "kind": span.kind.name.lower(),
        "service_name": str(span.resource.attributes.get("service.name", "")),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": STATUS[span.status.status_code],
        "attributes": clean_attributes(span.attributes, length),
        "events": [
            {"name": event.name[:length], "attributes": clean_attributes(event.attributes, length, EVENT_KEYS)}
            for event in span.events
            if event.name == "exception"
        ],
    }


class Claim(NamedTuple):
    """What a request's spans bring to their trace: whose request it was, and its warnings."""

    trace_id: str
    owner: int
    logs: list[dict]


class RedisTraceExporter(SpanExporter):
    """Writes batches of spans to Redis: one round trip to learn who owns the traces the batch
    claims, one to write, and one more to drop the oldest traces once there are more than
    TRACE_VIEW_MAX_TRACES."""

    def __init__(self, store: "TraceStore") -> None:
        self.store = store
        self._failures = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self._write(self._kept(spans))
        except RedisError as exc:
            self._failures += 1
            if self._failures == 1 or self._failures % 100 == 0:
                logger.warning(
                    "%d spans not stored for the trace view: %s",
                    len(spans),
                    type(exc).__name__,
                    extra={"event": "trace_view.write_failed", "failures": self._failures},
                )
            return SpanExportResult.FAILURE
        self._failures = 0
        return SpanExportResult.SUCCESS

    def _kept(self, spans: Sequence[ReadableSpan]) -> dict[str, tuple[list[ReadableSpan], list[Claim]]]:
        """The spans to write by trace, with the claims of the requests they came from. A
        request's spans go to a trace nobody owns yet or that is its own user's; spans that came
        with no request (the browser's, a late child) go where they are."""
        segments: dict[object, list[ReadableSpan]] = {}
        for span in spans:
            segments.setdefault(self.store.segment_of(span), []).append(span)
        claims = {root: self.store.pop_claim(root) for root in segments if root is not None}
        claimed = sorted({claim.trace_id for claim in claims.values() if claim is not None})
        pipe = get_redis().pipeline(transaction=False)
        for trace_id in claimed:
            pipe.hget(_keys(trace_id)[1], "owner")
        owners = {trace_id: owner for trace_id, owner in zip(claimed, pipe.execute() if claimed else [], strict=True)}
        kept: dict[str, tuple[list[ReadableSpan], list[Claim]]] = {}
        for root, segment in segments.items():
            trace_id = format(segment[0].context.trace_id, "032x")
            claim = claims.get(root)
            if claim is not None:
                owner = str(claim.owner).encode()
                if owners.get(trace_id) is None:
                    owners[trace_id] = owner  # the first request of the trace: its user owns it
                elif owners[trace_id] != owner:
                    continue  # another user's trace: this request's spans are not kept there
            spans_of_trace, claims_of_trace = kept.setdefault(trace_id, ([], []))
            spans_of_trace.extend(segment)
            if claim is not None:
                claims_of_trace.append(claim)
        return kept

    def _write(self, kept: dict[str, tuple[list[ReadableSpan], list["Claim"]]]) -> None:
        length = settings.TRACE_VIEW_MAX_ATTRIBUTE_LENGTH
        ttl = settings.TRACE_VIEW_TTL_SECONDS
        now = time.time()
        pipe = get_redis().pipeline(transaction=False)
        for trace_id, (trace_spans, claims) in kept.items():
            spans_key, meta_key, logs_key = _keys(trace_id)
            records = [span_record(span, length) for span in trace_spans]
            pipe.rpush(spans_key, *records).ltrim(spans_key, 0, settings.TRACE_VIEW_MAX_SPANS - 1)
            pipe.expire(spans_key, ttl)
            if claims:
                # The first request's user owns the trace for good.
                pipe.hsetnx(meta_key, "owner", str(claims[0].owner)).expire(meta_key, ttl)
                logs = [orjson.dumps(line) for claim in claims for line in claim.logs]
                if logs:
                    pipe.rpush(logs_key, *logs).ltrim(logs_key, 0, 19).expire(logs_key, ttl)
                pipe.zadd(_index_key(), {trace_id: now}, nx=True)
        pipe.zremrangebyscore(_index_key(), "-inf", now - ttl)
        pipe.zcard(_index_key())
        excess = pipe.execute()[-1] - settings.TRACE_VIEW_MAX_TRACES
        if excess > 0:
            # The oldest traces go whole: their spans, owner and warnings.
            dropped = [member.decode() for member, _ in get_redis().zpopmin(_index_key(), excess)]
            get_redis().delete(*(key for trace_id in dropped for key in _keys(trace_id)))

    def shutdown(self) -> None:
        return None


class TraceStore(SpanProcessor):
    """Keeps each request's spans until its server span ends, then stores the trace whole."""

    def __init__(self, exporter: SpanExporter | None = None, *, schedule_delay_millis: float = 200) -> None:
        self._lock = threading.Lock()
        self._open: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._owners: OrderedDict[str, int | None] = OrderedDict()
        self._logs: dict[str, list[dict]] = {}
        self._left_out: OrderedDict[int, bool] = OrderedDict()
        # A request's spans, by span id, point to their local root; its claim is kept by that root.
        self._segments: OrderedDict[int, int] = OrderedDict()
        self._claims: OrderedDict[int, Claim] = OrderedDict()
        self._batch = BatchSpanProcessor(
            exporter or RedisTraceExporter(self),
            max_queue_size=4096,
            max_export_batch_size=256,
            schedule_delay_millis=schedule_delay_millis,
        )

    def on_end(self, span: ReadableSpan) -> None:
        trace_id = span.context.trace_id
        with self._lock:
            if not _is_local_root(span):
                waiting = self._open.setdefault(trace_id, [])
                if len(waiting) < settings.TRACE_VIEW_MAX_SPANS - 1:  # a place for the server span
                    waiting.append(span)
                if len(self._open) > MAX_OPEN_TRACES:
                    self._open.popitem(last=False)
                return
            # The server span first: the span cap never cuts it.
            finished = [span, *self._open.pop(trace_id, [])]
            hex_id = format(trace_id, "032x")
            owner, logs = self._owners.pop(hex_id, None), self._logs.pop(hex_id, [])
            if self._left_out.pop(trace_id, False) or owner is None:
                return  # the trace view's own request, or nobody's: not kept
            root = span.context.span_id
            self._claims[root] = Claim(hex_id, owner, logs)
            for each in finished:
                self._segments[each.context.span_id] = root
            while len(self._claims) > MAX_OPEN_TRACES:  # their spans were dropped on the way
                self._claims.popitem(last=False)
            while len(self._segments) > MAX_OPEN_TRACES * 50:
                self._segments.popitem(last=False)
        for each in finished:
            self._batch.on_end(each)

    def store_spans(self, spans: Sequence[ReadableSpan]) -> None:
        """Spans that join their trace as they are (the browser's, relayed)."""
        for span in spans:
            self._batch.on_end(span)

    def remember_owner(self, trace_id: str, user_id: int | None) -> None:
        """The user whose request made ``trace_id`` (None: anonymous, shown to staff only)."""
        with self._lock:
            self._owners[trace_id] = user_id
            if len(self._owners) > MAX_OPEN_TRACES:
                self._owners.popitem(last=False)

    def remember_log(self, trace_id: str, line: dict) -> None:
        with self._lock:
            lines = self._logs.setdefault(trace_id, [])
            if len(lines) < 20:
                lines.append(line)
            if len(self._logs) > MAX_OPEN_TRACES:
                self._logs.pop(next(iter(self._logs)))

    def leave_out(self, trace_id: int) -> None:
        """Store nothing of this trace (a request of the trace view itself)."""
        with self._lock:
            self._left_out[trace_id] = True
            if len(self._left_out) > MAX_OPEN_TRACES:
                self._left_out.popitem(last=False)

    def segment_of(self, span: ReadableSpan) -> int | None:
        """The local root of the request a span came from; None for a span that came with none."""
        with self._lock:
            return self._segments.pop(span.context.span_id, None)

    def pop_claim(self, root: int) -> Claim | None:
        """The claim of a finished request, once: the exporter writes it with its spans."""
        with self._lock:
            return self._claims.pop(root, None)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._batch.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._batch.shutdown()


_store: TraceStore | None = None


def store() -> TraceStore | None:
    """This process's trace store, or None when the trace view is off (telemetry.setup starts it)."""
    return _store


def start() -> TraceStore:
    """Make this process's trace store (telemetry.setup adds it to the tracer provider); a
    setting it cannot work with stops the start, saying which."""
    global _store
    bounds = {
        "TRACE_VIEW_MAX_TRACES": 1,
        "TRACE_VIEW_MAX_SPANS": 2,
        "TRACE_VIEW_MAX_ATTRIBUTE_LENGTH": 16,
        "TRACE_VIEW_TTL_SECONDS": 60,
    }
    for name, least in bounds.items():
        if getattr(settings, name) < least:
            raise ImproperlyConfigured(f"{name} must be at least {least}, not {getattr(settings, name)}.")
    _store = TraceStore()
    return _store


def unstored(view):
    """A view whose requests leave no trace in the store: the trace view's own pages and API."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        current = _store
        context = trace.get_current_span().get_span_context()
        if current is not None and context.is_valid:
            current.leave_out(context.trace_id)
        return view(request, *args, **kwargs)

    return wrapper


def on_request_completed(sender, summary: dict, user_id: int | None, **kwargs) -> None:
    """request_completed's receiver: the trace's owner, stored with its spans."""
    current = _store
    if current is not None and summary.get("trace_id"):
        current.remember_owner(summary["trace_id"], user_id)


class TraceLogHandler(logging.Handler):
    """Keeps the warnings of a request (and worse) with its trace, for the trace view."""

    def emit(self, record: logging.LogRecord) -> None:
        current = _store
        trace_id = getattr(record, "trace_id", None)
        if current is None or not trace_id:
            return
        line = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage()[:500],
            "event": getattr(record, "event", None),
        }
        current.remember_log(trace_id, line)


def traces_owned_by(trace_ids: set[str], user_id: int | None) -> set[str]:
    """Those of ``trace_ids`` that are stored as ``user_id``'s (none for an anonymous user, or
    when Redis cannot be reached): the browser's spans may only join their own user's traces."""
    if user_id is None or not trace_ids:
        return set()
    ordered = sorted(trace_ids)
    pipe = get_redis().pipeline(transaction=False)
    for trace_id in ordered:
        pipe.hget(_keys(trace_id)[1], "owner")
    try:
        owners = pipe.execute()
    except RedisError:
        return set()
    return {trace_id for trace_id, owner in zip(ordered, owners, strict=True) if owner == str(user_id).encode()}


class TraceUnavailable(Exception):
    """Redis could not be reached, so the trace cannot be read."""


def trace_read(trace_id: str) -> dict | None:
    """``{"owner": user id or None, "spans": [...], "logs": [...]}`` of a stored trace, None when
    there is none (or ``trace_id`` is no trace id). Raises TraceUnavailable."""
    if not TRACE_ID.fullmatch(trace_id):
        return None
    spans_key, meta_key, logs_key = _keys(trace_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.lrange(spans_key, 0, -1).hget(meta_key, "owner").lrange(logs_key, 0, -1)
    try:
        spans, owner, logs = pipe.execute()
    except RedisError as exc:
        raise TraceUnavailable(str(exc)) from exc
    if not spans:
        return None
    return {
        "owner": int(owner) if owner else None,
        "spans": orjson.loads(b"[" + b",".join(spans) + b"]"),
        "logs": [orjson.loads(line) for line in logs],
    }
