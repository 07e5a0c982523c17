"""An OTLP sink for the benchmark: accepts every export, counts spans, keeps nothing.

python -m bench.sink PORT [GRPC_PORT]   # GET /count answers {"requests", "spans", "bytes"}

OTLP/HTTP on PORT; with GRPC_PORT, OTLP/gRPC's trace service there too, counted alike.
"""

import gzip
import json
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

counts = {"requests": 0, "spans": 0, "bytes": 0}
lock = threading.Lock()


def spans_in(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def count(spans: int, size: int) -> None:
    """One export received, over either protocol."""
    with lock:
        counts["requests"] += 1
        counts["spans"] += spans
        counts["bytes"] += size


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        spans = 0
        if self.path == "/v1/traces":
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            spans = spans_in(ExportTraceServiceRequest.FromString(body))
        count(spans, len(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            payload = json.dumps(counts).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def serve_grpc(port: int):
    """OTLP/gRPC's trace service on ``port``, counting into the same totals."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            count(spans_in(request), request.ByteSize())
            return ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server


if __name__ == "__main__":
    # Held for the life of the process: a gRPC server that is garbage-collected stops.
    grpc_server = serve_grpc(int(sys.argv[2])) if len(sys.argv) > 2 else None
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
    server.daemon_threads = True
    server.serve_forever()
