"""Everything that makes jiwoo observable, one module per concern. It imports no feature app
and not the API; what else records a request subscribes to the middleware's signal.

- ``telemetry``: the OpenTelemetry SDK, per process (traces, metrics, optional log export).
- ``json_logging``: every log record as one JSON object on stdout.
- ``context``: what is known about the request being handled (request id, client, user, event).
- ``middleware``: the one request middleware that tells a request's story, start to end.
- ``signals``: ``request_completed``, the finished request's summary, which recorders subscribe to.
- ``events``: user actions and notable events (a log line and the span's attribute).
- ``probes``: ``/healthz`` and ``/readyz``, answered in front of Django.
- ``errors``: Django's error handlers, whose pages and JSON show the trace id.
- ``context_processors``: the trace id and traceparent for every page.

docs/ARCHITECTURE.md walks through the request path and the telemetry pipeline.
"""
