"""The benchmark's `stock` peer: the same app and gunicorn settings, with zero-code instrumentation.

This is what a new user does without jiwoo's telemetry module: OpenTelemetry's automatic
instrumentation (opentelemetry-distro), configured only by the standard OTEL_* variables,
with the SDK started in each worker after the fork, as the OpenTelemetry documentation
advises for gunicorn. Only the benchmark uses it (`python -m bench.run --variants stock`).
"""

from jiwoo.gunicorn_conf import *  # noqa: F403 - the app's own bind, workers, timeouts and JSON logging

# The app without jiwoo's telemetry.setup().
wsgi_app = "bench.stock.wsgi:application"


def post_fork(server, worker):
    from opentelemetry.instrumentation import auto_instrumentation

    auto_instrumentation.initialize()


def worker_exit(server, worker):
    from opentelemetry import metrics, trace

    from logs_app.store import writer

    writer.flush()
    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider()):
        shutdown = getattr(provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
