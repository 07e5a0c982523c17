"""Everything that makes jiwoo observable, one module per concern.

- ``telemetry``: the OpenTelemetry SDK, per process (traces, metrics, optional log export).
- ``json_logging``: every log record as one JSON object on stdout.
- ``context``: what is known about the request being handled (request id, client, user, event).
- ``middleware``: the one request middleware that tells a request's story, start to end.
- ``events``: user actions and notable events (a log line and the span's attribute).
- ``probes``: ``/healthz`` and ``/readyz``, answered in front of Django.
- ``errors``: error pages that show the trace id.
- ``browser_traces``: the relay that re-exports the browser's spans as ``<service>-frontend``.
- ``postgresql``: Django's PostgreSQL backend with the connection health check untraced.

docs/ARCHITECTURE.md walks through the request path and the telemetry pipeline.
"""
