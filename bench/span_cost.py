"""The floor: CPU that one span with a dozen attributes costs, created, batched and exported.

    .venv/bin/python -m bench.span_cost [--spans 20000] [--protocol http/protobuf|grpc|both]

Starts bench.sink, makes spans the way a request does (a little apart, not back to back),
and prints the CPU per span for several export batch sizes, the exporter thread included,
with the library's OTLP exporter over HTTP (the default) or gRPC, and what encoding alone
costs. Every span must reach the sink, or the run fails: a failed export would look cheap.
It is also the machine's yardstick: compare runs on different machines by this number.
"""

import argparse
import os
import time

from bench.servers import free_port, running_sink, sink_count


def cost_per_span(exporter, batch_size: int, spans: int) -> float:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_queue_size=max(spans, batch_size), max_export_batch_size=batch_size)
    )
    tracer = provider.get_tracer("span-cost")
    started = time.process_time()
    make_spans(tracer, spans)
    provider.shutdown()
    return (time.process_time() - started) / spans * 1e6


def make_spans(tracer, spans: int) -> None:
    """``spans`` bare spans with a dozen attributes each, a little apart as a request makes them."""
    for number in range(spans):
        with tracer.start_as_current_span("GET /messages/", attributes=ATTRIBUTES):
            pass
        if number % 5 == 0:
            time.sleep(0.0002)


ATTRIBUTES = {f"attribute.{number}": f"value-{number}" for number in range(12)}


class Floor:
    """The floor, measured again and again in a process that also does other work: bare spans
    through a tracer provider of their own, in batches of 64 (jiwoo's), exported by the library's
    OTLP/HTTP exporter to ``sink_url`` over one connection that stays open between measurements."""

    def __init__(self, sink_url: str, batch_size: int = 64) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.provider = TracerProvider(shutdown_on_exit=False)
        self.provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{sink_url}/v1/traces"),
                max_queue_size=20_000,
                max_export_batch_size=batch_size,
            )
        )
        self.tracer = self.provider.get_tracer("span-cost")

    def per_span(self, spans: int) -> float:
        """µs of CPU (every thread of the process) per span, created and exported, flushed at the end."""
        started = time.process_time()
        make_spans(self.tracer, spans)
        self.provider.force_flush()
        return (time.process_time() - started) / spans * 1e6

    def close(self) -> None:
        self.provider.shutdown()


def encoding_cost(batches: int = 200) -> float:
    """CPU per span to encode a batch of 64 request-like spans (a server span, five SQL spans)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as library_encode
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    server, database = provider.get_tracer("django"), provider.get_tracer("psycopg")
    server_attributes = {
        "http.request.method": "POST",
        "url.scheme": "http",
        "server.address": "127.0.0.1:8000",
        "server.port": 8000,
        "client.address": "127.0.0.1",
        "user_agent.original": "wrk",
        "network.protocol.version": "1.1",
        "http.route": "api/messages",
        "jiwoo.event": "message.create",
        "http.response.status_code": 201,
    }
    statement = 'SELECT "auth_user"."id", "auth_user"."username" FROM "auth_user" WHERE "auth_user"."id" = %s'
    sql_attributes = {"db.system": "postgresql", "db.name": "jiwoo", "db.statement": statement, "db.user": "jiwoo"}
    for _ in range(11):
        with server.start_as_current_span("POST api/messages", kind=SpanKind.SERVER, attributes=server_attributes):
            for _ in range(5):
                with database.start_as_current_span("SELECT", kind=SpanKind.CLIENT, attributes=sql_attributes):
                    pass
    spans = memory.get_finished_spans()[:64]
    started = time.process_time()
    for _ in range(batches):
        library_encode(spans).SerializePartialToString()
    return (time.process_time() - started) / batches / len(spans) * 1e6


def exporter_for(protocol: str, sink_url: str, grpc_port: int):
    """The library's OTLP span exporter for ``protocol``, pointed at the sink."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"{sink_url}/v1/traces")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--protocol", choices=("http/protobuf", "grpc", "both"), default="http/protobuf")
    args = parser.parse_args()

    protocols = ("http/protobuf", "grpc") if args.protocol == "both" else (args.protocol,)
    grpc_port = free_port()
    with running_sink(grpc_port=grpc_port) as sink_url:
        os.environ.pop("OTEL_SDK_DISABLED", None)
        print(f"encoding only: library {encoding_cost():5.1f} µs per span")
        for turn, batch_size in enumerate((64, 256, 512)):
            # Alternate which protocol goes first, so that neither always pays for warming up.
            for protocol in protocols[::-1] if turn % 2 else protocols:
                before = sink_count(sink_url)["spans"]
                cost = cost_per_span(exporter_for(protocol, sink_url, grpc_port), batch_size, args.spans)
                received = sink_count(sink_url)["spans"] - before
                if received != args.spans:
                    raise SystemExit(f"{protocol}: the sink received {received} of {args.spans} spans")
                print(f"batch {batch_size:4} over {protocol:13}: {cost:5.1f} µs CPU per span, created and exported")


if __name__ == "__main__":
    main()
