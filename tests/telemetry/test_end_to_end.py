"""The app under gunicorn (two workers) exporting to a real OTLP/HTTP receiver.

One journey — sign-up, log-in, save, search, the activity page, an API error — then every
request, log line and metric is checked against what reached the receiver. The last test
exports over OTLP/gRPC instead, as the chart's ``telemetry.protocol: grpc`` does.
"""

import re
import uuid

import pytest
import requests

from tests.appserver import Visitor

pytestmark = pytest.mark.e2e

SERVER_KIND = 2  # opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """Run the journey once; the tests below each check one property of what it produced."""
    from tests.appserver import AppServer
    from tests.otlp_receiver import OtlpReceiver

    receiver = OtlpReceiver().start()
    server = AppServer(tmp_path_factory.mktemp("journey"), env=receiver.env(), workers=2).start()
    password = f"Pw-{uuid.uuid4().hex}"
    username = f"e2e_{uuid.uuid4().hex[:8]}"
    caller_trace_id = uuid.uuid4().hex
    try:
        visitor = Visitor(server.url)
        responses = {
            "signup": visitor.sign_up(username, password),
            "logout": visitor.log_out(),
            "login": visitor.log_in(username, password),
            "save": visitor.post_form("/messages/", {"text": "관측 가능한 메시지 🎉"}),
            "search": visitor.get("/messages/", params={"q": "메시지"}),
            "activity": visitor.get("/logs/"),
            "api_error": visitor.api(
                "POST", "/api/messages", "{not json", headers={"Content-Type": "application/json"}
            ),
            "not_found": visitor.get("/no-such-page/"),
            "csrf_failure": visitor.session.post(f"{server.url}/messages/", data={"text": "no token"}, timeout=10),
            "joined": visitor.get("/messages/", headers={"traceparent": f"00-{caller_trace_id}-{'ab' * 8}-01"}),
        }
        # As a kubelet calls them: by the pod's address, whatever the Host header.
        probes = [visitor.session.get(f"{server.url}{path}", timeout=10) for path in ("/healthz", "/readyz") * 3]
        page_trace_id = re.search(r'name="trace-id" content="([0-9a-f]{32})"', responses["search"].text).group(1)
    finally:
        exit_code = server.stop()
        receiver.stop()
    return {
        "responses": responses,
        "records": server.log_records(),
        "spans": receiver.spans(),
        "metrics": receiver.metrics(),
        "password": password,
        "username": username,
        "caller_trace_id": caller_trace_id,
        "page_trace_id": page_trace_id,
        "exit_code": exit_code,
        "probes": probes,
        "log_text": server.log_text(),
        "cookies": visitor.session.cookies.get_dict(),
    }


def request_records(journey) -> list[dict]:
    return [r for r in journey["records"] if r.get("event") == "http.request"]


def test_the_journey_itself_worked(journey):
    statuses = {name: response.status_code for name, response in journey["responses"].items()}
    assert statuses == {
        "signup": 200,
        "logout": 200,
        "login": 200,
        "save": 200,
        "search": 200,
        "activity": 200,
        "api_error": 400,
        "not_found": 404,
        "csrf_failure": 403,
        "joined": 200,
    }
    assert journey["exit_code"] == 0


def test_every_request_produced_a_server_span_with_route_status_and_service(journey):
    spans = journey["spans"]
    server_spans = {s["trace_id"]: s for s in spans if s["kind"] == SERVER_KIND}
    records = request_records(journey)
    assert len(records) >= 12  # the journey's requests and their redirects

    for record in records:
        span = server_spans.get(record["trace_id"])
        assert span is not None, f"no server span for {record['method']} {record['path']}"
        assert span["resource"]["service.name"] == "jiwoo-e2e"
        assert span["resource"]["service.version"]
        assert span["resource"]["service.instance.id"]
        assert span["resource"]["deployment.environment.name"] == "test"
        assert span["attributes"]["http.response.status_code"] == record["status"]
        assert span["attributes"]["http.request.method"] == record["method"]
        if record.get("route"):
            assert span["attributes"].get("http.route"), record


def test_requests_have_child_spans_for_the_database_and_redis(journey):
    spans = journey["spans"]
    save = next(r for r in request_records(journey) if r["method"] == "POST" and r["path"] == "/messages/")
    children = [s for s in spans if s["trace_id"] == save["trace_id"] and s["kind"] != SERVER_KIND]

    db_systems = {s["attributes"].get("db.system") or s["attributes"].get("db.system.name") for s in children}
    assert db_systems & {"sqlite", "postgresql"}, children
    redis_spans = [s for s in children if (s["attributes"].get("db.system") or "") == "redis"]
    # The session is read from Redis (named by its command); recent activity is written by a
    # background thread outside any request, so it makes no span.
    assert any(s["name"] == "GET" for s in redis_spans), [s["name"] for s in redis_spans]


def test_the_connection_health_check_makes_no_span(journey):
    """PostgreSQL's per-request SELECT 1 (CONN_HEALTH_CHECKS) is a probe, not the request's work."""
    statements = [s["attributes"].get("db.statement") for s in journey["spans"]]
    assert any(statements), "no database spans at all"
    assert "SELECT 1" not in statements


def test_probes_answer_and_make_no_spans(journey):
    """/healthz and /readyz are answered in front of Django, their query and PING untraced."""
    assert [response.status_code for response in journey["probes"]] == [200] * 6
    assert all(response.json()["status"] == "ok" for response in journey["probes"])
    spans = journey["spans"]
    assert spans, "no spans at all: the test proves nothing"
    # Every span the app makes belongs to a request: a root span is always a server span.
    roots = [s for s in spans if not s.get("parent_span_id") and s["kind"] != SERVER_KIND]
    assert roots == [], [(s["name"], s["attributes"].get("db.statement")) for s in roots]
    assert not [s for s in spans if "/healthz" in str(s["attributes"]) or "/readyz" in str(s["attributes"])]


def test_every_log_line_in_a_request_points_at_a_received_span(journey):
    span_ids = {(s["trace_id"], s["span_id"]) for s in journey["spans"]}
    in_requests = [r for r in journey["records"] if "trace_id" in r and r.get("service_name") == "jiwoo-e2e"]
    assert len(in_requests) >= 20

    for record in in_requests:
        assert (record["trace_id"], record["span_id"]) in span_ids, record
        assert len(record["trace_id"]) == 32
        assert len(record["span_id"]) == 16


def test_log_lines_have_the_schema_fields(journey):
    for record in journey["records"]:
        assert {"timestamp", "level", "logger", "message", "service_name"} <= set(record), record
        assert record["timestamp"].endswith("Z")
        if "trace_id" in record:
            assert record["trace_id"] not in ("", None, "0" * 32, "None")
    events = {r.get("event") for r in journey["records"]}
    assert {"user.signup", "user.login", "user.logout", "message.create", "message.search", "page.view"} <= events


def test_user_actions_are_named_on_the_span_too(journey):
    spans = journey["spans"]
    by_trace = {s["trace_id"]: s for s in spans if s["kind"] == SERVER_KIND}
    save = next(r for r in request_records(journey) if r.get("action") == "message.create")

    assert by_trace[save["trace_id"]]["attributes"]["jiwoo.event"] == "message.create"


def test_a_request_with_traceparent_joined_the_callers_trace(journey):
    joined = [s for s in journey["spans"] if s["trace_id"] == journey["caller_trace_id"]]

    assert joined, "the request did not join the caller's trace"
    server = next(s for s in joined if s["kind"] == SERVER_KIND)
    assert server["parent_span_id"] == "ab" * 8


def test_responses_carry_traceresponse_and_error_pages_show_the_trace_id(journey):
    for name, response in journey["responses"].items():
        header = response.headers.get("traceresponse")
        assert header, f"{name} has no traceresponse header"
        version, trace_id, span_id, _flags = header.split("-")
        assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)

    for name in ("not_found", "csrf_failure"):
        page = journey["responses"][name]
        trace_id = page.headers["traceresponse"].split("-")[1]
        assert f'<code class="trace-id">{trace_id}</code>' in page.text, name
        assert "Traceback" not in page.text


def test_metrics_arrived_with_our_counters(journey):
    metrics = journey["metrics"]

    assert "http.server.request.duration" in metrics
    assert sum(p["point"].as_int for p in metrics["jiwoo.messages.created"]) >= 1
    outcomes = {p["attributes"]["outcome"] for p in metrics["jiwoo.logins"]}
    assert "success" in outcomes
    assert "jiwoo.recent_activity.write_failures" not in metrics or all(
        p["point"].as_int == 0 for p in metrics["jiwoo.recent_activity.write_failures"]
    )


def test_nothing_logged_or_exported_contains_the_password(journey):
    assert journey["password"] not in journey["log_text"]
    for span in journey["spans"]:
        assert journey["password"] not in repr(span)


def test_no_session_id_or_csrf_token_in_the_logs(journey):
    # The cookies the browser held at the end; a missing one fails rather than checks nothing.
    for name in ("sessionid", "csrftoken"):
        value = journey["cookies"][name]
        assert value
        assert value not in journey["log_text"]
    assert "csrfmiddlewaretoken" not in journey["log_text"]


def test_failed_login_is_an_event_without_the_password_or_an_unknown_name(app_server, otlp_receiver):
    """A name that is no account may be a password typed in the wrong box: only its keyed hash is logged."""
    server = app_server(otlp_receiver.env())
    visitor = Visitor(server.url)
    secret = f"Wrong-{uuid.uuid4().hex}"
    typed_as_username = f"Pw-{uuid.uuid4().hex}"

    response = visitor.log_in(typed_as_username, secret)
    server.stop()

    assert response.status_code == 200
    failed = [r for r in server.log_records() if r.get("event") == "user.login_failed"]
    assert failed
    assert failed[0]["username_tried"].startswith("unknown:")
    assert secret not in server.log_text()
    assert typed_as_username not in server.log_text()


def test_a_wrong_host_still_ends_with_its_request_line(app_server, otlp_receiver):
    """The OpenTelemetry middleware, first in line, asks for the host and meets DisallowedHost
    before the request middleware runs: the 400 still gets its id and its one http.request line."""
    server = app_server(otlp_receiver.env())

    response = requests.get(f"{server.url}/messages/?q=x", headers={"Host": "evil.example"}, timeout=10)
    server.stop()

    assert response.status_code == 400
    request_id = response.headers["X-Request-ID"]
    lines = [r for r in server.log_records() if r.get("event") == "http.request"]
    assert [(r["method"], r["path"], r["status"], r["request_id"]) for r in lines] == [
        ("GET", "/messages/", 400, request_id)
    ]
    assert "trace_id" not in lines[0]  # no span was started for it


@pytest.mark.parametrize("otlp_receiver", ["grpc"], indirect=True)
def test_over_grpc_spans_metrics_and_logs_reach_the_collector(app_server, otlp_receiver):
    """OTEL_EXPORTER_OTLP_PROTOCOL=grpc: the receiver speaks only gRPC, so what arrives came that way."""
    server = app_server(otlp_receiver.env(OTEL_LOGS_EXPORTER="otlp"))
    visitor = Visitor(server.url)
    visitor.sign_up(f"grpc_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}")
    visitor.post_form("/messages/", {"text": "sent over gRPC"})
    server.stop()

    spans = otlp_receiver.spans()
    routes = {s["attributes"].get("http.route") for s in spans if s["kind"] == SERVER_KIND}
    assert {"accounts/signup/", "messages/"} <= routes, routes
    received = {s["trace_id"] for s in spans}
    requests_logged = [r for r in server.log_records() if r.get("event") == "http.request"]
    assert requests_logged
    assert all(r["trace_id"] in received for r in requests_logged)
    assert "http.server.request.duration" in otlp_receiver.metrics()
    assert any(r["attributes"].get("event") == "user.signup" for r in otlp_receiver.log_records())


@pytest.mark.parametrize("exporter", ["jiwoo", "library"])
def test_either_span_exporter_brings_every_span_to_the_collector(app_server, otlp_receiver, exporter):
    """OTLP_SPAN_EXPORTER: spans go out through observability/otlp_http.py (the default) or the
    library's exporter, every one of them, and the log lines point at them."""
    server = app_server(otlp_receiver.env(OTLP_SPAN_EXPORTER=exporter, OTEL_EXPORTER_OTLP_COMPRESSION="gzip"))
    visitor = Visitor(server.url)
    visitor.sign_up(f"own_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}")
    visitor.post_form("/messages/", {"text": "sent by either exporter"})
    exit_code = server.stop()

    assert exit_code == 0
    chosen = [r for r in server.log_records() if r.get("event") == "telemetry.span_exporter"]
    assert [r["exporter"] for r in chosen] == ([exporter] * 2 if exporter == "jiwoo" else [])  # each worker's
    spans = otlp_receiver.spans()
    routes = {s["attributes"].get("http.route") for s in spans if s["kind"] == SERVER_KIND}
    assert {"accounts/signup/", "messages/"} <= routes, routes
    assert {"postgresql", "redis"} <= {s["attributes"].get("db.system") for s in spans}
    ended = sum(r["spans_ended"] for r in server.log_records() if r.get("event") == "telemetry.shutdown")
    assert len(spans) == ended
    received = {s["trace_id"] for s in spans}
    requests_logged = [r for r in server.log_records() if r.get("event") == "http.request"]
    assert requests_logged
    assert all(r["trace_id"] in received for r in requests_logged)
