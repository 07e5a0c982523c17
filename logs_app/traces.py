"""The trace view's reads: a stored trace as its reader may see it, and laid out as a waterfall.

The owner of the request that made a trace reads it, staff read every trace, anyone else is
told there is none (a 404, so trace ids do not leak). The spans come from the trace store
(observability/trace_store.py); the trace's activity entries, when recent activity still has
them, come from logs_app's own store.
"""

from django.utils.translation import gettext_lazy as _

from logs_app.store import ActivityUnavailable, activity_recent_for
from observability.trace_store import trace_read

# How a span's bar is drawn: the database's and Redis' spans distinct from the rest.
CATEGORIES = (("db.system", "postgresql", "sql"), ("db.system", "sqlite", "sql"), ("db.system", "redis", "redis"))
STATUSES = {"ok": _("ok"), "error": _("error"), "unset": _("not set")}
KINDS = {
    "server": _("server"),
    "client": _("client"),
    "internal": _("internal"),
    "producer": _("producer"),
    "consumer": _("consumer"),
}
# Indentation stops here: deeper spans are drawn at this depth (the tree is in the order).
MAX_DEPTH = 12


def trace_for(user, trace_id: str) -> dict | None:
    """``{"trace_id", "spans", "logs"}`` of a trace ``user`` may read, spans ordered by start with
    ``start_ms`` from the trace's start; None when there is no such trace for them. Raises
    observability.trace_store.TraceUnavailable."""
    stored = trace_read(trace_id)
    if stored is None or not (user.is_staff or (stored["owner"] is not None and stored["owner"] == user.pk)):
        return None
    by_id = {}
    for span in stored["spans"]:
        by_id.setdefault(span["span_id"], span)  # a batch written twice stores its spans twice
    started = min(span["start_ns"] for span in by_id.values())
    spans = [
        {
            "span_id": span["span_id"],
            # A parent the trace does not hold (a caller outside it) makes the span a root.
            "parent_span_id": span["parent_span_id"] if span["parent_span_id"] in by_id else None,
            "name": span["name"],
            "kind": span["kind"],
            "service_name": span["service_name"],
            "start_ms": round((span["start_ns"] - started) / 1e6, 3),
            "duration_ms": round((span["end_ns"] - span["start_ns"]) / 1e6, 3),
            "status": span["status"],
            "attributes": span["attributes"],
            "events": span["events"],
        }
        for span in sorted(by_id.values(), key=lambda span: (span["start_ns"], span["end_ns"]))
    ]
    return {"trace_id": trace_id, "spans": spans, "logs": stored["logs"]}


def waterfall(spans: list[dict]) -> list[dict]:
    """The spans in tree order (each under its parent, siblings by start), each with its
    ``depth``, ``category`` and its bar's ``left`` and ``width`` in percent of the trace."""
    known = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict]] = {}
    for span in spans:
        parent = span["parent_span_id"] if span["parent_span_id"] in known else None
        children.setdefault(parent, []).append(span)
    total = max((span["start_ms"] + span["duration_ms"] for span in spans), default=0) or 1
    rows = []

    def visit(span: dict, depth: int) -> None:
        rows.append(
            {
                **span,
                "depth": min(depth, MAX_DEPTH),
                "category": _category(span),
                "left": round(span["start_ms"] / total * 100, 3),
                "width": max(round(span["duration_ms"] / total * 100, 3), 0.2),
                "children": len(children.get(span["span_id"], [])),
                "exceptions": [_exception(event["attributes"]) for event in span["events"]],
                "detail": _detail(span),
                "status_label": STATUSES.get(span["status"], span["status"]),
            }
        )
        for child in children.get(span["span_id"], []):
            visit(child, depth + 1)

    for root in children.get(None, []):
        visit(root, 0)
    return rows


def _category(span: dict) -> str:
    for key, value, category in CATEGORIES:
        if span["attributes"].get(key) == value:
            return category
    if span["status"] == "error":
        return "error"
    return "browser" if span["service_name"].endswith("-frontend") else span["kind"]


def _detail(span: dict) -> str:
    """The line under a span's name: its statement for SQL and Redis, else its service and kind."""
    statement = span["attributes"].get("db.statement") or span["attributes"].get("db.query.text")
    if isinstance(statement, str):
        return " ".join(statement.split())[:160]
    return f"{span['service_name']} · {KINDS.get(span['kind'], span['kind'])}"


def _exception(attributes: dict) -> str:
    kind, message = attributes.get("exception.type", ""), attributes.get("exception.message", "")
    return f"{kind}: {message}" if message else str(kind)


def trace_activity(user, trace_id: str) -> list[dict]:
    """The trace's entries in recent activity (its http.request lines), while the list has them."""
    try:
        return [entry for entry in activity_recent_for(user, limit=1000) if entry.get("trace_id") == trace_id]
    except ActivityUnavailable:
        return []
