"""A real OTLP receiver for the tests: decodes what the app exports with opentelemetry-proto.

It listens on 127.0.0.1 and answers like a collector: over OTLP/HTTP (/v1/traces, /v1/metrics
and /v1/logs), or with ``protocol="grpc"`` over OTLP/gRPC (the three export services). Either
way it can be told to hang (accept requests and never answer) to play a collector that is
stuck, and the spans, metrics and log records come out of the same methods.
"""

import gzip
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SIGNALS = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}


def attributes(key_values) -> dict:
    """OTLP KeyValue list to a plain dict of Python values."""
    result = {}
    for kv in key_values:
        value = kv.value
        kind = value.WhichOneof("value")
        result[kv.key] = getattr(value, kind) if kind else None
    return result


class OtlpReceiver:
    def __init__(self, protocol: str = "http/protobuf") -> None:
        self.protocol = protocol
        self.requests: dict[str, list] = {path: [] for path in SIGNALS}
        self.hang = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        if protocol == "grpc":
            self._grpc_server()
        else:
            self._http_server()

    def _keep(self, path: str, message) -> None:
        """Keep a request under its signal's OTLP/HTTP path, whichever protocol brought it."""
        with self._lock:
            self.requests[path].append(message)

    def _grpc_server(self) -> None:
        """OTLP/gRPC's trace, metrics and logs services, each keeping what it is sent (or hanging)."""
        receiver = self

        def answer(path: str, request, response_type):
            if receiver.hang.is_set():
                # The call stays open until the exporter's deadline gives up on it.
                receiver._release.wait(timeout=60)
                return response_type()
            receiver._keep(path, request)
            return response_type()

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):
                return answer("/v1/traces", request, ExportTraceServiceResponse)

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request, context):
                return answer("/v1/metrics", request, ExportMetricsServiceResponse)

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request, context):
                return answer("/v1/logs", request, ExportLogsServiceResponse)

        self._executor = futures.ThreadPoolExecutor(max_workers=4)
        self.server = grpc.server(self._executor)
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self.server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self.server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        # An http:// endpoint tells OpenTelemetry's gRPC exporters to connect without TLS.
        self.endpoint = f"http://127.0.0.1:{port}"

    def _http_server(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.hang.is_set():
                    receiver._release.wait(timeout=60)
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request_type, response_type = SIGNALS.get(self.path, (None, None))
                if request_type is None:
                    self.send_error(404)
                    return
                message = request_type()
                message.ParseFromString(body)
                receiver._keep(self.path, message)
                payload = response_type().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "OtlpReceiver":
        if self.protocol == "grpc":
            self.server.start()
        else:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self.protocol == "grpc":
            self.server.stop(grace=None).wait(timeout=10)
            self._executor.shutdown(wait=False, cancel_futures=True)
            return
        self.server.shutdown()
        self.server.server_close()

    def env(self, **extra) -> dict:
        """The environment that points an app at this receiver and exports quickly."""
        protocol = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"} if self.protocol == "grpc" else {}
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            **protocol,
            "OTEL_SERVICE_NAME": "jiwoo-e2e",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=test",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_METRIC_EXPORT_INTERVAL": "500",
            **extra,
        }

    def spans(self) -> list[dict]:
        """Every span received, flattened: ids as hex, times in nanoseconds, attributes as dicts."""
        with self._lock:
            batches = list(self.requests["/v1/traces"])
        found = []
        for batch in batches:
            for resource_spans in batch.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            {
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "name": span.name,
                                "kind": span.kind,
                                "start": span.start_time_unix_nano,
                                "end": span.end_time_unix_nano,
                                "attributes": attributes(span.attributes),
                                "events": [event.name for event in span.events],
                                "resource": resource,
                                "scope": scope_spans.scope.name,
                            }
                        )
        return found

    def metrics(self) -> dict[str, list]:
        """Metric name to its data points (sum, histogram...) across every export."""
        with self._lock:
            batches = list(self.requests["/v1/metrics"])
        found: dict[str, list] = {}
        for batch in batches:
            for resource_metrics in batch.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        kind = metric.WhichOneof("data")
                        points = getattr(metric, kind).data_points
                        found.setdefault(metric.name, []).extend(
                            {"attributes": attributes(point.attributes), "point": point} for point in points
                        )
        return found

    def log_records(self) -> list[dict]:
        with self._lock:
            batches = list(self.requests["/v1/logs"])
        found = []
        for batch in batches:
            for resource_logs in batch.resource_logs:
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        found.append(
                            {
                                "trace_id": record.trace_id.hex(),
                                "span_id": record.span_id.hex(),
                                "body": record.body.string_value,
                                "attributes": attributes(record.attributes),
                            }
                        )
        return found
