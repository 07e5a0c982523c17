"""jiwoo's OTLP/HTTP span exporter, with the library's exporter as the oracle.

The same spans exported by both reach the same real OTLP receiver as the same protobuf
message; retries, timeouts, compression, headers and TLS are checked against real local
HTTP servers that answer as a collector would, or would not.
"""

import gzip
import ssl
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from observability import otlp_http, telemetry
from observability.otlp_http import OtlpHttpSpanExporter
from tests.otlp_receiver import OtlpReceiver
from tests.services import make_certificates

OTLP_VARIABLES = (
    "ENDPOINT",
    "HEADERS",
    "TIMEOUT",
    "COMPRESSION",
    "CERTIFICATE",
    "CLIENT_KEY",
    "CLIENT_CERTIFICATE",
    "PROTOCOL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in OTLP_VARIABLES:
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_{name}", raising=False)
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_TRACES_{name}", raising=False)
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
    library = (
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER",
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER",
        "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED",
    )
    for name in ("OTLP_SPAN_EXPORTER", *proxies, *library):
        monkeypatch.delenv(name, raising=False)


def request_like_spans() -> list:
    """Spans as a request makes them: a server span with SQL and Redis children, events, a link, an error."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "jiwoo-test", "service.version": "1"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    django, psycopg = provider.get_tracer("django", "0.66b1"), provider.get_tracer("psycopg")
    with django.start_as_current_span(
        "POST api/messages",
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.response.status_code": 201, "jiwoo.event": "message.create"},
    ) as server:
        for statement in ("SELECT 1", 'INSERT INTO "messages_app_message" VALUES (%s)'):
            with psycopg.start_as_current_span(
                statement.split()[0],
                kind=SpanKind.CLIENT,
                attributes={"db.system": "postgresql", "db.statement": statement, "net.peer.port": 5432},
            ):
                pass
        server.add_event("exception", {"exception.type": "ValueError", "exception.message": "ß ü 한국어"})
        server.set_status(Status(StatusCode.ERROR, "boom"))
        server.set_attribute("jiwoo.list", ["a", "b"])
        server.set_attribute("jiwoo.ratio", 0.5)
        server.set_attribute("jiwoo.flag", True)
    with django.start_as_current_span("GET /", links=[], attributes={"http.route": ""}):
        pass
    return list(memory.get_finished_spans())


@pytest.fixture
def receiver():
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


def exported_by_both(receiver, endpoint: str | None = None) -> tuple:
    """The same spans exported by the library's exporter, then by jiwoo's: the two messages received."""
    spans = request_like_spans()

    assert OTLPSpanExporter(endpoint=endpoint).export(spans) is SpanExportResult.SUCCESS
    assert OtlpHttpSpanExporter(endpoint).export(spans) is SpanExportResult.SUCCESS

    library, ours = receiver.requests["/v1/traces"]
    return library, ours


def test_the_same_spans_reach_the_receiver_as_the_same_message_as_the_libraries(receiver):
    library, ours = exported_by_both(receiver, f"{receiver.endpoint}/v1/traces")

    assert ours == library
    assert ours.SerializeToString(deterministic=True) == library.SerializeToString(deterministic=True)
    assert len(receiver.spans()) == 2 * len(request_like_spans())


def test_it_finds_the_endpoint_as_the_library_does(receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint + "/")

    library, ours = exported_by_both(receiver)
    assert ours == library
    assert otlp_http.traces_endpoint() == f"{receiver.endpoint}/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/custom")
    assert otlp_http.traces_endpoint() == "http://collector:4318/custom"


def test_gzip_compression_sends_the_same_message_compressed(receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")

    # The receiver decompresses only what says Content-Encoding: gzip.
    library, ours = exported_by_both(receiver, f"{receiver.endpoint}/v1/traces")
    assert ours == library


class Collector:
    """A local HTTP server that answers each POST with the next scripted answer, and keeps what came."""

    def __init__(self, answers: list[dict], tls: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.answers = list(answers)
        self.received: list[dict] = []
        self.connections: set[int] = set()
        self.arrived = threading.Condition()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = collector.answers.pop(0) if collector.answers else {"status": 200}
                with collector.arrived:
                    collector.received.append(
                        {"at": time.monotonic(), "headers": dict(self.headers.items()), "body": body}
                    )
                    collector.connections.add(self.client_address[1])
                    collector.arrived.notify_all()
                if answer.get("hang"):
                    time.sleep(answer["hang"])
                    return
                self.send_response(answer["status"])
                for name, value in answer.get("headers", {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                # Closed after answering, without saying so: an idle connection a collector dropped.
                self.close_connection = bool(answer.get("drop"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.endpoint = f"{scheme}://localhost:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, seconds: float = 10) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout=seconds), self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    made = []

    def make(answers=(), tls=None, port=0) -> Collector:
        made.append(Collector(list(answers), tls, port))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_busy_collector_is_retried_with_backoff(collector, status, monkeypatch):
    monkeypatch.setattr(otlp_http.random, "uniform", lambda low, high: 0.1)  # backoffs of 0.1 and 0.2 s
    server = collector([{"status": status}, {"status": status}, {"status": 200}])

    assert OtlpHttpSpanExporter(server.endpoint).export(request_like_spans()) is SpanExportResult.SUCCESS

    first, second, third = (request["at"] for request in server.received)
    assert second - first >= 0.1
    assert third - second >= 0.2
    assert len({request["body"] for request in server.received}) == 1


def test_retry_after_is_honoured_in_seconds_and_as_a_date(collector):
    retry_at = time.time() + 3
    server = collector(
        [
            {"status": 503, "headers": {"Retry-After": "1"}},
            {"status": 429, "headers": {"Retry-After": formatdate(retry_at, usegmt=True)}},
            {"status": 200},
        ]
    )

    assert OtlpHttpSpanExporter(server.endpoint).export(request_like_spans()) is SpanExportResult.SUCCESS

    first, second, third = (request["at"] for request in server.received)
    assert second - first >= 0.95
    # An HTTP date has whole seconds: the wait ends within the second before retry_at.
    waited_until = time.time() - (time.monotonic() - third)
    assert retry_at - 1.1 <= waited_until <= retry_at + 0.5


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_other_refusals_are_not_retried(collector, status):
    server = collector([{"status": status}, {"status": 200}])

    assert OtlpHttpSpanExporter(server.endpoint).export(request_like_spans()) is SpanExportResult.FAILURE
    assert len(server.received) == 1


def test_retries_stop_at_the_timeout(collector):
    server = collector([{"status": 503, "headers": {"Retry-After": "5"}}])

    started = time.monotonic()
    result = OtlpHttpSpanExporter(server.endpoint, timeout=1).export(request_like_spans())

    assert result is SpanExportResult.FAILURE
    assert time.monotonic() - started < 4  # it did not wait the 5 s the collector asked for
    assert len(server.received) == 1


def test_a_collector_that_never_answers_costs_the_timeout_only(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0.5")
    server = collector([{"hang": 3}])

    started = time.monotonic()
    result = OtlpHttpSpanExporter(server.endpoint).export(request_like_spans())

    assert result is SpanExportResult.FAILURE
    assert 0.4 <= time.monotonic() - started < 2.9  # the timeout, not the collector's 3 s


def test_shutdown_stops_a_retry_wait(collector):
    server = collector([{"status": 503, "headers": {"Retry-After": "8"}}])
    exporter = OtlpHttpSpanExporter(server.endpoint, timeout=30)
    outcome = []
    export = threading.Thread(target=lambda: outcome.append(exporter.export(request_like_spans())))
    export.start()
    server.wait_for(1)

    started = time.monotonic()
    exporter.shutdown()
    export.join(timeout=5)

    assert outcome == [SpanExportResult.FAILURE]
    assert time.monotonic() - started < 6  # not the 8 s the collector asked for


def test_one_connection_serves_every_batch_and_a_dropped_one_is_reopened(collector, monkeypatch):
    # A backoff, had there been one, would take a minute at least.
    monkeypatch.setattr("observability.otlp_http.random.uniform", lambda low, high: 60.0)
    server = collector([{"status": 200}, {"status": 200}, {"status": 200, "drop": True}])
    exporter = OtlpHttpSpanExporter(server.endpoint)

    for _ in range(3):
        assert exporter.export(request_like_spans()) is SpanExportResult.SUCCESS
    assert len(server.connections) == 1

    # The collector dropped the kept-open connection: the next batch goes once, at once, on a new one.
    started = time.monotonic()
    assert exporter.export(request_like_spans()) is SpanExportResult.SUCCESS
    assert time.monotonic() - started < 30  # no backoff
    assert len(server.received) == 4
    assert len(server.connections) == 2


def test_headers_come_from_the_environment_as_the_library_reads_them(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-general=1,x-scope-orgid=tenant%201")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "Authorization=Bearer%20abc,X-Tenant=t")
    server = collector()

    OTLPSpanExporter(endpoint=server.endpoint).export(request_like_spans())
    OtlpHttpSpanExporter(server.endpoint).export(request_like_spans())

    library, ours = ({k.lower(): v for k, v in request["headers"].items()} for request in server.received)
    assert ours["authorization"] == library["authorization"] == "Bearer abc"
    assert ours["x-tenant"] == library["x-tenant"] == "t"
    # The signal's own variable wins over the general one.
    assert "x-general" not in ours
    assert "x-general" not in library
    assert ours["content-type"] == library["content-type"] == "application/x-protobuf"


def test_gzip_is_sent_with_its_content_encoding(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")
    server = collector()
    spans = request_like_spans()

    OtlpHttpSpanExporter(server.endpoint).export(spans)

    (request,) = server.received
    assert request["headers"]["Content-Encoding"] == "gzip"
    message = ExportTraceServiceRequest.FromString(gzip.decompress(request["body"]))
    assert sum(len(scope.spans) for resource in message.resource_spans for scope in resource.scope_spans) == len(spans)


def test_tls_trusts_the_certificate_the_environment_names(collector, monkeypatch, tmp_path):
    files = make_certificates(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(files["server"], files["server-key"])
    server = collector(tls=tls)

    # An unknown CA: refused (and retried as a connection failure until the timeout).
    assert OtlpHttpSpanExporter(server.endpoint, timeout=1).export(request_like_spans()) is SpanExportResult.FAILURE
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", str(files["ca"]))
    assert OtlpHttpSpanExporter(server.endpoint).export(request_like_spans()) is SpanExportResult.SUCCESS
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER", "my_session"),
        ("OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER", "my_session"),
        ("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true"),
    ],
)
def test_what_only_the_library_does_leaves_spans_to_the_library(monkeypatch, name, value):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4318")
    monkeypatch.setenv("OTLP_SPAN_EXPORTER", "jiwoo")
    assert otlp_http.library_only(otlp_http.traces_endpoint()) is None

    monkeypatch.setenv(name, value)

    assert otlp_http.library_only(otlp_http.traces_endpoint()) == name


def test_it_is_the_default_for_spans_over_http_and_the_library_stays_selectable(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4318")
    assert isinstance(telemetry.otlp_exporter("TRACES"), OtlpHttpSpanExporter)
    assert not isinstance(telemetry.otlp_exporter("METRICS"), OtlpHttpSpanExporter)

    monkeypatch.setenv("OTLP_SPAN_EXPORTER", "library")
    assert isinstance(telemetry.otlp_exporter("TRACES"), OTLPSpanExporter)
    monkeypatch.setenv("OTLP_SPAN_EXPORTER", "something")
    assert isinstance(telemetry.otlp_exporter("TRACES"), OTLPSpanExporter)

    monkeypatch.setenv("OTLP_SPAN_EXPORTER", "jiwoo")
    assert isinstance(telemetry.otlp_exporter("TRACES"), OtlpHttpSpanExporter)
    # Through a proxy, only the library's exporter goes (it honours HTTP_PROXY and NO_PROXY).
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert isinstance(telemetry.otlp_exporter("TRACES"), OTLPSpanExporter)
    monkeypatch.setenv("NO_PROXY", "collector.example")
    assert isinstance(telemetry.otlp_exporter("TRACES"), OtlpHttpSpanExporter)

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
    assert not isinstance(telemetry.otlp_exporter("TRACES"), (OtlpHttpSpanExporter, OTLPSpanExporter))


def test_a_certificate_it_cannot_read_leaves_spans_to_the_library(monkeypatch, tmp_path):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", str(tmp_path / "missing.pem"))

    # The app starts: the library's exporter takes the spans and reports the file at export.
    assert isinstance(telemetry.otlp_exporter("TRACES"), OTLPSpanExporter)
    with pytest.raises(FileNotFoundError):
        OtlpHttpSpanExporter()
