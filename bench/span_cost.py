"""The floor: CPU that one span with a dozen attributes costs, created, batched and exported.

    .venv/bin/python bench/span_cost.py [--spans 20000]

Starts bench/sink.py, makes spans the way a request does (a little apart, not back to back),
and prints the CPU per span for several export batch sizes, the exporter thread included,
with the library's OTLP/HTTP exporter and with jiwoo.otlp_wire's (same bytes, own encoder).
It is also the machine's yardstick: compare runs on different machines by this number.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cost_per_span(exporter_class, batch_size: int, spans: int, endpoint: str) -> float:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(
        BatchSpanProcessor(exporter_class(endpoint=endpoint), max_queue_size=spans, max_export_batch_size=batch_size)
    )
    tracer = provider.get_tracer("span-cost")
    attributes = {f"attribute.{number}": f"value-{number}" for number in range(12)}
    started = time.process_time()
    for number in range(spans):
        with tracer.start_as_current_span("GET /messages/", attributes=attributes):
            pass
        if number % 5 == 0:
            time.sleep(0.0002)
    provider.shutdown()
    return (time.process_time() - started) / spans * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    args = parser.parse_args()
    port = 4399
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "sink.py"), str(port)])
    try:
        for _ in range(50):
            try:
                requests.get(f"http://127.0.0.1:{port}/count", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        os.environ.pop("OTEL_SDK_DISABLED", None)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as LibraryExporter

        from jiwoo.otlp_wire import OTLPSpanExporter as JiwooExporter

        for name, exporter_class in (("library encoder", LibraryExporter), ("jiwoo.otlp_wire", JiwooExporter)):
            for batch_size in (64, 256, 512):
                cost = cost_per_span(exporter_class, batch_size, args.spans, f"http://127.0.0.1:{port}/v1/traces")
                print(f"{name:16} batch {batch_size:4}: {cost:5.1f} µs CPU per span, created and exported")
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
