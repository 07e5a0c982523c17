"""The trace store against the SDK: spans in, the stored JSON out, with its caps and expiry."""

import logging

import orjson
import pytest
from django.core.exceptions import ImproperlyConfigured
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, set_span_in_context

from core.redis import get_redis
from observability import trace_store
from observability.trace_store import TraceStore, trace_read


@pytest.fixture
def store():
    """A TraceStore on a tracer provider of the test's own; flushed and shut down after."""
    processor = TraceStore(schedule_delay_millis=50)
    provider = TracerProvider(resource=Resource({"service.name": "jiwoo"}))
    provider.add_span_processor(processor)
    processor.tracer = provider.get_tracer("test")
    yield processor
    provider.shutdown()


def hex_id(span) -> str:
    return format(span.get_span_context().trace_id, "032x")


def request(store, *, children: int = 2, attributes: dict | None = None, owner: int | None = 1, trace_from=None):
    """A server span with SQL children, as a request of the user ``owner`` makes them (the
    request middleware tells the store whose it is); its trace id. ``trace_from``: a span whose
    trace the request joins, as a traceparent header makes it."""
    tracer = store.tracer
    context = None
    if trace_from is not None:  # as a traceparent header makes it: a remote parent
        caller = trace_from.get_span_context()
        remote = SpanContext(caller.trace_id, caller.span_id, is_remote=True, trace_flags=caller.trace_flags)
        context = set_span_in_context(NonRecordingSpan(remote))
    with tracer.start_as_current_span(
        "GET messages/", context=context, kind=SpanKind.SERVER, attributes=attributes
    ) as server:
        store.remember_owner(hex_id(server), owner)
        for number in range(children):
            with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as sql:
                sql.set_attribute("db.system", "postgresql")
                sql.set_attribute("db.statement", "SELECT %s FROM t WHERE id = %s")
                sql.set_attribute("test.number", number)
    return hex_id(server)


def stored(store, trace_id: str) -> dict:
    assert store.force_flush()
    found = trace_read(trace_id)
    assert found is not None, f"trace {trace_id} was not stored"
    return found


def test_a_request_is_stored_whole(store):
    trace_id = request(store)

    first = stored(store, trace_id)

    assert first["owner"] == 1
    assert [span["name"] for span in first["spans"]] == ["GET messages/", "SELECT", "SELECT"]
    server = first["spans"][0]
    assert server["parent_span_id"] is None
    assert server["kind"] == "server"
    assert server["service_name"] == "jiwoo"
    assert server["status"] == "unset"
    assert server["end_ns"] >= server["start_ns"]
    assert {span["parent_span_id"] for span in first["spans"][1:]} == {server["span_id"]}
    assert first["spans"][1]["attributes"]["db.statement"] == "SELECT %s FROM t WHERE id = %s"


def test_nobodys_request_is_not_kept(store):
    """Only staff could read it, and anyone could fill the store with such traces."""
    trace_id = request(store, owner=None)

    assert store.force_flush()
    assert trace_read(trace_id) is None


def test_a_trace_stays_its_first_users_and_another_users_request_cannot_join_it(store):
    """A traceparent naming someone else's trace (its id is shown on error pages) takes nothing."""
    tracer = store.tracer
    with tracer.start_as_current_span("GET messages/", kind=SpanKind.SERVER) as first:
        store.remember_owner(hex_id(first), 1)
    trace_id = hex_id(first)
    stored(store, trace_id)

    request(store, owner=2, trace_from=first, children=1)
    request(store, owner=1, trace_from=first, children=0)
    after = stored(store, trace_id)

    assert after["owner"] == 1
    assert len(after["spans"]) == 2  # its own first request and the same user's second


def test_the_owner_told_during_the_request_is_stored_with_it(store):
    tracer = store.tracer
    with tracer.start_as_current_span("POST messages/", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 7)

    assert stored(store, hex_id(server))["owner"] == 7


def test_nothing_is_written_before_the_request_ends(store):
    tracer = store.tracer
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 1)
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
            pass
        assert store.force_flush()
        assert trace_read(hex_id(server)) is None

    assert len(stored(store, hex_id(server))["spans"]) == 2


def test_no_query_string_header_or_stack_is_kept_and_values_are_cut(store, settings):
    settings.TRACE_VIEW_MAX_ATTRIBUTE_LENGTH = 10
    tracer = store.tracer
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 1)
        server.set_attributes(
            {
                "url.query": "q=secret+words",
                "url.full": "http://x/messages/?q=secret",
                "http.request.header.cookie": ("sessionid=abc",),
                "http.route": "messages/and/a/long/route",
            }
        )
        try:
            raise ValueError("broken")
        except ValueError as exc:
            server.record_exception(exc)
            server.set_status(Status(StatusCode.ERROR))

    span = stored(store, hex_id(server))["spans"][0]
    text = orjson.dumps(span).decode()

    assert "secret" not in text
    assert "sessionid" not in text
    assert span["attributes"] == {"url.full": "http://x/m", "http.route": "messages/a"}
    assert span["status"] == "error"
    assert [event["name"] for event in span["events"]] == ["exception"]
    assert span["events"][0]["attributes"]["exception.type"] == "ValueError"
    assert span["events"][0]["attributes"]["exception.message"] == "broken"
    assert "exception.stacktrace" not in text


def test_a_trace_keeps_at_most_its_span_cap_and_always_its_server_span(store, settings):
    settings.TRACE_VIEW_MAX_SPANS = 5

    trace_id = request(store, children=20)
    spans = stored(store, trace_id)["spans"]

    assert len(spans) == 5
    assert spans[0]["kind"] == "server"


def test_a_span_keeps_at_most_its_bytes(store):
    tracer = store.tracer
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 1)
        server.set_attributes({f"attribute.{number}": "x" * 1000 for number in range(10)})

    span = stored(store, hex_id(server))["spans"][0]

    assert len(orjson.dumps(span)) <= trace_store.MAX_SPAN_BYTES
    assert span["attributes"]["jiwoo.dropped_attributes"] == 9
    assert span["attributes"]["attribute.0"] == "x" * 1000


def test_only_the_newest_traces_are_kept_and_older_ones_go_whole(store, settings):
    settings.TRACE_VIEW_MAX_TRACES = 3
    trace_ids = []
    for _ in range(6):
        trace_ids.append(request(store, children=1))
        assert store.force_flush()  # one batch each, in order

    assert [trace_read(trace_id) is not None for trace_id in trace_ids] == [False] * 3 + [True] * 3
    leftovers = [key for key in get_redis().scan_iter(match=f"*:trace:{trace_ids[0]}:*")]
    assert leftovers == []
    assert get_redis().zcard(f"{settings.REDIS_KEY_PREFIX}:traces") == 3


def test_every_stored_trace_expires(store, settings):
    settings.TRACE_VIEW_TTL_SECONDS = 120
    trace_id = request(store, children=1)
    store.remember_owner(trace_id, 1)
    stored(store, trace_id)

    keys = list(get_redis().scan_iter(match=f"*:trace:{trace_id}:*"))

    assert keys
    assert all(0 < get_redis().ttl(key) <= 120 for key in keys)


def test_a_request_left_out_leaves_nothing(store):
    tracer = store.tracer
    with tracer.start_as_current_span("GET traces/", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 1)
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
            pass
        store.leave_out(server.get_span_context().trace_id)

    assert store.force_flush()
    assert trace_read(hex_id(server)) is None


def test_the_warnings_of_a_request_are_kept_with_its_trace(store, monkeypatch):
    monkeypatch.setattr(trace_store, "_store", store)
    handler = trace_store.TraceLogHandler(level=logging.WARNING)
    tracer = store.tracer
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 1)
        record = logging.LogRecord("jiwoo.request", logging.WARNING, __file__, 1, "statement cancelled", None, None)
        record.trace_id, record.event = hex_id(server), "db.statement_timeout"
        handler.handle(record)

    logs = stored(store, hex_id(server))["logs"]

    assert logs == [
        {
            "level": "WARNING",
            "logger": "jiwoo.request",
            "message": "statement cancelled",
            "event": "db.statement_timeout",
        }
    ]


def test_relayed_spans_join_their_trace(store):
    tracer = store.tracer
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as server:
        store.remember_owner(hex_id(server), 1)
    with tracer.start_as_current_span("documentLoad", context=set_span_in_context(server)) as browser:
        pass
    # The relay hands over the browser's spans as they are; here one made locally stands in.
    store.store_spans([browser])

    names = sorted(span["name"] for span in stored(store, hex_id(server))["spans"])

    assert "documentLoad" in names


def test_without_redis_spans_are_lost_and_requests_go_on(store, redis_down, caplog):
    trace_id = request(store)

    store.force_flush()

    assert any(getattr(r, "event", None) == "trace_view.write_failed" for r in caplog.records)
    assert trace_id  # the request itself ran to its end


@pytest.mark.parametrize(
    ("name", "value"),
    [("TRACE_VIEW_MAX_SPANS", 0), ("TRACE_VIEW_MAX_TRACES", 0), ("TRACE_VIEW_TTL_SECONDS", 5)],
)
def test_a_bound_it_cannot_keep_stops_the_start(settings, name, value):
    setattr(settings, name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        trace_store.start()


def test_a_malformed_id_reads_nothing():
    assert trace_read("not-a-trace-id") is None
    assert trace_read("A" * 32) is None


def test_the_store_runs_where_no_traces_endpoint_is_configured(monkeypatch, settings):
    from observability import telemetry

    settings.TRACE_VIEW_ENABLED = None
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert telemetry.trace_view_enabled()

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert not telemetry.trace_view_enabled()

    settings.TRACE_VIEW_ENABLED = True
    assert telemetry.trace_view_enabled()

    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not telemetry.trace_view_enabled()
