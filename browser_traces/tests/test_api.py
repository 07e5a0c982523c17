"""The browser-span relay, POST /api/otlp/v1/traces: what it accepts, what it refuses, what it exports."""

import json
import logging
import time
from http import HTTPStatus

import pytest
from django.test import Client
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from browser_traces import relay

pytestmark = pytest.mark.django_db

URL = "/api/otlp/v1/traces"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SERVER_SPAN_ID = "00f067aa0ba902b7"


def attribute(key, value):
    kind = {str: "stringValue", bool: "boolValue", int: "intValue", float: "doubleValue"}[type(value)]
    return {"key": key, "value": {kind: value}}


def otlp_span(span_id, *, name="documentLoad", kind=1, parent=SERVER_SPAN_ID, attributes=(), events=(), age_s=2.0):
    start = time.time_ns() - int(age_s * 1e9)
    return {
        "traceId": TRACE_ID,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 250_000_000),
        "attributes": list(attributes),
        "droppedAttributesCount": 0,
        "events": list(events),
        "droppedEventsCount": 0,
        "status": {"code": 0},
        "links": [],
        "flags": 257,
    }


def batch(*groups):
    """An ExportTraceServiceRequest as the web SDK's JSON serializer writes it."""
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [attribute("service.name", "unknown_service")], "droppedAttributesCount": 0},
                "scopeSpans": [
                    {"scope": {"name": scope, "version": "0.68.0"}, "spans": spans} for scope, spans in groups
                ],
            }
        ]
    }


def page_load_batch():
    event = {"name": "fetchStart", "timeUnixNano": str(time.time_ns() - 2 * 10**9), "attributes": []}
    return batch(
        (
            "@opentelemetry/instrumentation-document-load",
            [
                otlp_span(
                    "1111111111111111",
                    attributes=[
                        attribute("url.full", "http://testserver/messages/?q=secret+words#top"),
                        attribute("user_agent.original", "Chromium"),
                    ],
                    events=[event],
                ),
                otlp_span(
                    "2222222222222222",
                    name="resourceFetch",
                    parent="1111111111111111",
                    attributes=[attribute("url.full", "http://testserver/static/css/jiwoo.css?v=1")],
                ),
            ],
        ),
        (
            "@opentelemetry/instrumentation-fetch",
            [
                otlp_span(
                    "3333333333333333",
                    name="HTTP GET",
                    kind=3,
                    parent=None,
                    attributes=[
                        attribute("url.full", "/api/logs/recent?limit=50"),
                        attribute("url.query", "limit=50"),
                        attribute("http.response.status_code", 200),
                    ],
                )
            ],
        ),
    )


@pytest.fixture
def exported(monkeypatch):
    """The relay's spans, caught in memory instead of the OTLP exporter."""
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(relay, "span_processor", lambda: SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def browser():
    """A browser on one of the pages: a session of its own and the CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    return client


def post(client, body, *, csrf=True, content_type="application/json"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value} if csrf else {}
    return client.post(URL, data=data, content_type=content_type, **headers)


def test_a_page_load_is_exported_as_the_frontend_service(browser, exported, settings):
    response = post(browser, page_load_batch())

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"partialSuccess": {}}
    spans = {span.name: span for span in exported.get_finished_spans()}
    assert set(spans) == {"documentLoad", "resourceFetch", "HTTP GET"}
    document = spans["documentLoad"]
    assert document.resource.attributes["service.name"] == f"{settings.SERVICE_NAME}-frontend"
    assert "service.instance.id" not in document.resource.attributes
    assert format(document.context.trace_id, "032x") == TRACE_ID
    assert format(document.parent.span_id, "016x") == SERVER_SPAN_ID
    assert document.kind is SpanKind.INTERNAL
    assert document.instrumentation_scope.name == "@opentelemetry/instrumentation-document-load"
    assert [event.name for event in document.events] == ["fetchStart"]
    assert spans["HTTP GET"].kind is SpanKind.CLIENT
    assert spans["HTTP GET"].parent is None
    assert spans["HTTP GET"].attributes["http.response.status_code"] == 200


def test_query_strings_never_leave_the_relay(browser, exported):
    post(browser, page_load_batch())

    spans = {span.name: span for span in exported.get_finished_spans()}
    assert spans["documentLoad"].attributes["url.full"] == "http://testserver/messages/"
    assert spans["resourceFetch"].attributes["url.full"] == "http://testserver/static/css/jiwoo.css"
    assert spans["HTTP GET"].attributes["url.full"] == "/api/logs/recent"
    assert "url.query" not in spans["HTTP GET"].attributes
    everything = json.dumps([json.loads(span.to_json()) for span in exported.get_finished_spans()])
    assert "secret" not in everything
    assert "?" not in everything


def test_a_click_is_a_span_and_a_log_line_of_the_frontend(browser, exported, caplog, settings):
    click = otlp_span(
        "4444444444444444",
        name="click messages.save",
        attributes=[
            attribute("jiwoo.track", "messages.save"),
            attribute("event_type", "click"),
            attribute("url.path", "/messages/"),
        ],
    )

    with caplog.at_level(logging.INFO, logger="jiwoo.browser"):
        response = post(browser, batch(("jiwoo.browser", [click])))

    assert response.status_code == HTTPStatus.OK
    assert [span.name for span in exported.get_finished_spans()] == ["click messages.save"]
    [record] = [r for r in caplog.records if r.name == "jiwoo.browser"]
    assert record.event == "browser.click"
    assert record.service_name == f"{settings.SERVICE_NAME}-frontend"
    assert record.target == "messages.save"
    assert record.path == "/messages/"
    assert (record.trace_id, record.span_id) == (TRACE_ID, "4444444444444444")


def too_many_spans():
    return batch(("jiwoo.browser", [otlp_span(f"{n + 1:016x}") for n in range(65)]))


def foreign_scope():
    return batch(("@opentelemetry/instrumentation-xml-http-request", [otlp_span("1111111111111111", kind=3)]))


def server_kind():
    return batch(("@opentelemetry/instrumentation-fetch", [otlp_span("1111111111111111", kind=2)]))


def hours_old():
    return batch(("jiwoo.browser", [otlp_span("1111111111111111", age_s=3700)]))


def in_the_future():
    return batch(("jiwoo.browser", [otlp_span("1111111111111111", age_s=-3600)]))


def too_many_attributes():
    attributes = [attribute(f"a{n}", n) for n in range(33)]
    return batch(("jiwoo.browser", [otlp_span("1111111111111111", attributes=attributes)]))


def too_many_events():
    events = [{"name": "e", "timeUnixNano": str(time.time_ns()), "attributes": []} for _ in range(33)]
    return batch(("jiwoo.browser", [otlp_span("1111111111111111", events=events)]))


def zero_trace_id():
    body = batch(("jiwoo.browser", [otlp_span("1111111111111111")]))
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "0" * 32
    return body


def nested_value():
    nested = {"key": "k", "value": {"kvlistValue": {"values": []}}}
    return batch(("jiwoo.browser", [otlp_span("1111111111111111", attributes=[nested])]))


def deeply_nested_array():
    value = {"stringValue": "x"}
    for _ in range(300):
        value = {"arrayValue": {"values": [value]}}
    return batch(("jiwoo.browser", [otlp_span("1111111111111111", attributes=[{"key": "k", "value": value}])]))


def oversize():
    body = batch(("jiwoo.browser", [otlp_span("1111111111111111")]))
    body["padding"] = "x" * (64 * 1024)
    return body


@pytest.mark.parametrize(
    ("make_body", "status"),
    [
        (oversize, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
        (too_many_spans, HTTPStatus.BAD_REQUEST),
        (lambda: b'{"resourceSpans": [', HTTPStatus.BAD_REQUEST),
        (lambda: b"\xff\xfe", HTTPStatus.BAD_REQUEST),
        (lambda: [], HTTPStatus.BAD_REQUEST),
        (lambda: {"resourceSpans": "no"}, HTTPStatus.BAD_REQUEST),
        (foreign_scope, HTTPStatus.BAD_REQUEST),
        (server_kind, HTTPStatus.BAD_REQUEST),
        (hours_old, HTTPStatus.BAD_REQUEST),
        (in_the_future, HTTPStatus.BAD_REQUEST),
        (too_many_attributes, HTTPStatus.BAD_REQUEST),
        (too_many_events, HTTPStatus.BAD_REQUEST),
        (zero_trace_id, HTTPStatus.BAD_REQUEST),
        (nested_value, HTTPStatus.BAD_REQUEST),
        (deeply_nested_array, HTTPStatus.BAD_REQUEST),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_a_bad_batch_is_refused_whole_and_nothing_is_exported(browser, exported, make_body, status):
    response = post(browser, make_body())

    assert response.status_code == status
    assert response.json()["error"]
    assert "Error" not in response.content.decode()  # no Python exception's text
    assert exported.get_finished_spans() == ()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-protobuf", "application/x-www-form-urlencoded"])
def test_other_media_types_are_415(browser, exported, content_type):
    response = post(browser, json.dumps(page_load_batch()), content_type=content_type)

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert exported.get_finished_spans() == ()


def test_without_the_csrf_token_it_is_403(browser, exported):
    response = post(browser, page_load_batch(), csrf=False)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert exported.get_finished_spans() == ()


def test_a_session_flooding_the_relay_gets_429(browser, user, exported, settings):
    settings.BROWSER_TRACES_RATE_LIMIT_PER_SESSION = 3
    browser.force_login(user)
    body = batch(("jiwoo.browser", [otlp_span("1111111111111111")]))

    statuses = [post(browser, body).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert len(exported.get_finished_spans()) == 3


def test_an_address_flooding_the_relay_gets_429_across_sessions(exported, settings):
    settings.BROWSER_TRACES_RATE_LIMIT_PER_ADDRESS = 4
    body = batch(("jiwoo.browser", [otlp_span("1111111111111111")]))
    statuses = []
    for _ in range(3):
        client = Client(enforce_csrf_checks=True)
        client.get("/accounts/login/")
        statuses += [post(client, body).status_code for _ in range(2)]

    assert statuses == [200, 200, 200, 200, 429, 429]
    assert len(exported.get_finished_spans()) == 4


def test_without_redis_the_relay_still_accepts(browser, exported, redis_down):
    # The limits are lifted, as the sign-up limit is: the browser's telemetry never fails the page.
    body = batch(("jiwoo.browser", [otlp_span("1111111111111111")]))

    assert post(browser, body).status_code == HTTPStatus.OK
    assert len(exported.get_finished_spans()) == 1


def test_nothing_is_exported_when_export_is_off(browser, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)

    assert relay.span_processor() is None
    assert post(browser, page_load_batch()).status_code == HTTPStatus.OK


def test_the_relay_is_in_the_api_schema(client):
    schema = client.get("/api/openapi.json").json()

    operation = schema["paths"]["/api/otlp/v1/traces"]["post"]
    assert {"200", "400", "403", "413", "415", "429"} <= set(operation["responses"])
    assert "requestBody" in operation


@pytest.fixture
def trace_view_store(monkeypatch):
    """The trace view's store in this process, on a tracer provider of the test's own."""
    from opentelemetry.sdk.trace import TracerProvider

    from observability import trace_store

    store = trace_store.TraceStore(schedule_delay_millis=50)
    provider = TracerProvider()
    provider.add_span_processor(store)
    monkeypatch.setattr(trace_store, "_store", store)
    yield store
    provider.shutdown()


def test_the_browsers_spans_join_only_their_own_users_traces(browser, user, other_user, exported, trace_view_store):
    """Anyone may post spans under any trace id: they join a stored trace only when it is the
    poster's own, so nobody adds to another's trace or fills the store with traces of their own."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

    from observability.trace_store import trace_read

    now = time.time_ns()
    context = SpanContext(int(TRACE_ID, 16), int(SERVER_SPAN_ID, 16), False, TraceFlags(TraceFlags.SAMPLED))
    server = ReadableSpan(
        "GET messages/", context, kind=SpanKind.SERVER, resource=Resource({}), start_time=now - 10**7, end_time=now
    )
    trace_view_store.remember_owner(TRACE_ID, user.pk)
    trace_view_store.on_end(server)
    assert trace_view_store.force_flush()
    browser.force_login(other_user)
    assert post(browser, page_load_batch()).status_code == HTTPStatus.OK
    assert trace_view_store.force_flush()
    foreign = [span["name"] for span in trace_read(TRACE_ID)["spans"]]

    browser.force_login(user)
    assert post(browser, page_load_batch()).status_code == HTTPStatus.OK
    assert trace_view_store.force_flush()
    own = [span["name"] for span in trace_read(TRACE_ID)["spans"]]

    assert foreign == ["GET messages/"]
    assert {"GET messages/", "documentLoad", "resourceFetch"} <= set(own)
