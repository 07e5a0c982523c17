"""Template context shared by every page."""

from observability.telemetry import current_trace_ids


def trace(request) -> dict:
    """The trace id of the request being rendered, for error pages and the browser-events script."""
    ids = current_trace_ids()
    return {"trace_id": ids[0] if ids else ""}
