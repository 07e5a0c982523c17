"""The trace view: GET /api/traces/{id} and /logs/traces/<id>/, for the trace's owner and staff only."""

from http import HTTPStatus

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from logs_app.traces import waterfall
from observability import trace_store
from observability.signals import request_completed
from observability.trace_store import TraceStore, trace_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(monkeypatch):
    """This process's trace store, on a tracer provider of the test's own; shut down after."""
    store = TraceStore(schedule_delay_millis=50)
    provider = TracerProvider(resource=Resource({"service.name": "jiwoo"}))
    provider.add_span_processor(store)
    store.tracer = provider.get_tracer("test")
    monkeypatch.setattr(trace_store, "_store", store)
    # As telemetry.setup connects it: whose request each trace is.
    request_completed.connect(trace_store.on_request_completed, dispatch_uid="test-trace-store-owner")
    yield store
    request_completed.disconnect(dispatch_uid="test-trace-store-owner")
    provider.shutdown()


@pytest.fixture
def record_trace(store):
    """Factory: a request's spans (a server span, two SQL statements, a Redis call, an error in
    one) stored as the user ``owner_id``'s; the trace id."""
    tracer = store.tracer

    def record(owner_id: int | None) -> str:
        with tracer.start_as_current_span("GET messages/", kind=SpanKind.SERVER) as server:
            trace_id = format(server.get_span_context().trace_id, "032x")
            store.remember_owner(trace_id, owner_id)
            with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as sql:
                sql.set_attributes({"db.system": "postgresql", "db.statement": "SELECT 1 FROM auth_user"})
            with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT) as redis:
                redis.set_attributes({"db.system": "redis", "db.statement": "GET ?"})
            with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as failed:
                failed.set_attributes({"db.system": "postgresql", "db.statement": "SELECT pg_sleep(%s)"})
                failed.set_status(Status(StatusCode.ERROR))
        assert store.force_flush()
        return trace_id

    return record


def test_the_owner_reads_the_spans_of_a_trace(alice_client, user, record_trace):
    trace_id = record_trace(user.pk)

    response = alice_client.get(f"/api/traces/{trace_id}")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["trace_id"] == trace_id
    spans = body["spans"]
    assert [span["name"] for span in spans] == ["GET messages/", "SELECT", "GET", "SELECT"]
    server = spans[0]
    assert server["parent_span_id"] is None
    assert server["start_ms"] == 0
    assert {span["parent_span_id"] for span in spans[1:]} == {server["span_id"]}
    assert [span["kind"] for span in spans] == ["server", "client", "client", "client"]
    assert [span["status"] for span in spans] == ["unset", "unset", "unset", "error"]
    assert all(span["service_name"] == "jiwoo" for span in spans)
    assert all(span["duration_ms"] >= 0 and span["start_ms"] >= 0 for span in spans)
    assert spans[1]["attributes"]["db.statement"] == "SELECT 1 FROM auth_user"


def test_staff_read_anyones_trace(client, staff_user, user, record_trace):
    trace_id = record_trace(user.pk)
    client.force_login(staff_user)

    assert client.get(f"/api/traces/{trace_id}").status_code == HTTPStatus.OK
    assert client.get(f"/logs/traces/{trace_id}/").status_code == HTTPStatus.OK


def test_another_user_is_told_there_is_no_such_trace(client, other_user, user, record_trace):
    trace_id = record_trace(user.pk)
    anonymous_trace = record_trace(None)
    client.force_login(other_user)

    for trace in (trace_id, anonymous_trace):
        api = client.get(f"/api/traces/{trace}")
        assert api.status_code == HTTPStatus.NOT_FOUND
        assert api.json() == {"error": "No such trace."}
        assert client.get(f"/logs/traces/{trace}/").status_code == HTTPStatus.NOT_FOUND


def test_nobody_logged_in_gets_401_and_the_page_asks_to_log_in(client, user, record_trace):
    trace_id = record_trace(user.pk)

    api = client.get(f"/api/traces/{trace_id}")
    page = client.get(f"/logs/traces/{trace_id}/")

    assert api.status_code == HTTPStatus.UNAUTHORIZED
    assert page.status_code == HTTPStatus.FOUND
    assert page["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("trace_id", ["not-a-trace", "0" * 31, "F" * 32, "0" * 33, "a" * 32])
def test_a_malformed_or_unknown_id_is_a_404(alice_client, trace_id):
    assert alice_client.get(f"/api/traces/{trace_id}").status_code == HTTPStatus.NOT_FOUND
    assert alice_client.get(f"/logs/traces/{trace_id}/").status_code == HTTPStatus.NOT_FOUND


def test_without_redis_the_trace_is_unavailable_not_an_error(alice_client, user, redis_down):
    api = alice_client.get(f"/api/traces/{'a' * 32}")
    page = alice_client.get(f"/logs/traces/{'a' * 32}/")

    assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "error" in api.json()
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "cannot be reached" in page.content.decode()


def test_the_operation_is_in_the_openapi_document(client):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/traces/{trace_id}"]["get"]

    assert {"200", "401", "404", "503"} <= set(operation["responses"])


def test_the_page_draws_each_span_under_its_parent_with_sql_and_redis_distinct(alice_client, user, record_trace):
    trace_id = record_trace(user.pk)

    page = alice_client.get(f"/logs/traces/{trace_id}/")
    html = page.content.decode()

    assert page.status_code == HTTPStatus.OK
    rows = page.context["rows"]
    assert [(row["name"], row["depth"], row["category"]) for row in rows] == [
        ("GET messages/", 0, "server"),
        ("SELECT", 1, "sql"),
        ("GET", 1, "redis"),
        ("SELECT", 1, "sql"),
    ]
    assert html.count('class="span-row') == 4
    assert "span-error" in html
    assert "style=" not in html  # the Content-Security-Policy allows no inline style
    assert "SELECT 1 FROM auth_user" in html


def test_the_waterfall_places_bars_by_time():
    spans = [
        {"span_id": "a", "parent_span_id": None, "start_ms": 0, "duration_ms": 10, "attributes": {}},
        {"span_id": "b", "parent_span_id": "a", "start_ms": 2, "duration_ms": 3, "attributes": {}},
        {"span_id": "c", "parent_span_id": "b", "start_ms": 3, "duration_ms": 1, "attributes": {}},
        {"span_id": "d", "parent_span_id": "gone", "start_ms": 8, "duration_ms": 0, "attributes": {}},
    ]
    for span in spans:
        span.update({"name": span["span_id"], "kind": "internal", "service_name": "jiwoo", "status": "ok"})
        span["events"] = []

    rows = waterfall(spans)

    assert [(row["span_id"], row["depth"], row["left"], row["width"]) for row in rows] == [
        ("a", 0, 0, 100),
        ("b", 1, 20, 30),
        ("c", 2, 30, 10),
        ("d", 0, 80, 0.2),  # its parent is not in the trace: a root; a zero duration still shows
    ]


def test_the_activity_page_links_each_trace_id_to_the_trace_view(alice_client, store):
    with store.tracer.start_as_current_span("GET messages/", kind=SpanKind.SERVER) as server:
        alice_client.get("/messages/")
    trace_id = format(server.get_span_context().trace_id, "032x")

    html = alice_client.get("/logs/").content.decode()

    assert 'data-trace-view-link="/logs/traces/__trace_id__/"' in html
    assert f'<a href="/logs/traces/{trace_id}/"><code class="trace-id">{trace_id}</code></a>' in html


@pytest.mark.parametrize("path", ["/logs/traces/{}/", "/api/traces/{}"])
def test_the_trace_views_own_requests_leave_no_trace(alice_client, user, store, record_trace, path):
    shown = record_trace(user.pk)
    tracer = store.tracer
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as viewing:
        assert alice_client.get(path.format(shown)).status_code == HTTPStatus.OK
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as other_page:
        alice_client.get("/messages/")
    assert store.force_flush()

    assert trace_read(format(viewing.get_span_context().trace_id, "032x")) is None
    assert trace_read(format(other_page.get_span_context().trace_id, "032x")) is not None


def test_a_trace_that_is_not_kept_says_why(alice_client):
    page = alice_client.get(f"/logs/traces/{'a' * 32}/")

    assert page.status_code == HTTPStatus.NOT_FOUND
    assert "This trace is not kept" in page.content.decode()
    assert 'href="/logs/"' in page.content.decode()


def test_the_trace_views_own_requests_link_nowhere_on_the_activity_page(alice_client, store):
    with store.tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as viewing:
        alice_client.get(f"/logs/traces/{'b' * 32}/")
    trace_id = format(viewing.get_span_context().trace_id, "032x")

    html = alice_client.get("/logs/").content.decode()

    assert f'<code class="trace-id">{trace_id}</code>' in html
    assert f'href="/logs/traces/{trace_id}/"' not in html
