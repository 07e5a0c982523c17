"""Template context shared by every page."""

from opentelemetry import trace as otel_trace

from observability import trace_store
from observability.telemetry import current_trace_ids, traces_exported


def trace(request) -> dict:
    """The trace id of the request being rendered (error pages show it) and, when spans are
    exported or kept for the trace view, the server span as a W3C traceparent: the browser's
    spans become its children."""
    ids = current_trace_ids()
    if not ids:
        return {"trace_id": "", "traceparent": ""}
    traceparent = ""
    if traces_exported() or trace_store.store() is not None:
        # Only the sampled bit: the browser's spans follow the server's sampling decision.
        sampled = otel_trace.get_current_span().get_span_context().trace_flags.sampled
        traceparent = f"00-{ids[0]}-{ids[1]}-{'01' if sampled else '00'}"
    return {"trace_id": ids[0], "traceparent": traceparent}
