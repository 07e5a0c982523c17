"""The recent-activity page and the trace view: staff see everyone's, other users their own."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.errors import allow_methods
from logs_app.grafana import grafana_links
from logs_app.store import ActivityUnavailable, activity_recent_for
from logs_app.traces import trace_activity, trace_for, waterfall
from observability import events, trace_store

PAGE_ENTRIES = 50


@allow_methods("GET", "HEAD")
@login_required
def recent_activity_page(request):
    try:
        entries = activity_recent_for(request.user, limit=PAGE_ENTRIES)
        unavailable = False
    except ActivityUnavailable:
        entries, unavailable = [], True
    for entry in entries:
        entry["links"] = grafana_links(entry.get("trace_id"))
    events.emit("page.view", "activity page viewed")
    return render(
        request,
        "logs_app/recent.html",
        {
            "entries": entries,
            "unavailable": unavailable,
            "everyone": request.user.is_staff,
            "trace_view": trace_store.store() is not None,
        },
    )


@allow_methods("GET", "HEAD")
@login_required
@trace_store.unstored
def trace_page(request, trace_id: str):
    """One trace as a waterfall: its spans nested under their parents, bars placed by time."""
    try:
        trace = trace_for(request.user, trace_id)
    except trace_store.TraceUnavailable:
        trace = None
        unavailable = True
    else:
        unavailable = False
    if trace is None and not unavailable:
        # An evicted or expired trace, the trace view's own request, someone else's: not here.
        return render(request, "logs_app/trace.html", {"trace_id": trace_id, "missing": True}, status=404)
    return render(
        request,
        "logs_app/trace.html",
        {
            "trace_id": trace_id,
            "trace": trace,
            "rows": waterfall(trace["spans"]) if trace else [],
            "activity": trace_activity(request.user, trace_id) if trace else [],
            "links": grafana_links(trace_id),
            "unavailable": unavailable,
        },
        status=503 if unavailable else 200,
    )
