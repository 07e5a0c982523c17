"""The recent-activity page: staff see everyone's requests, other users their own."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core.errors import allow_methods
from logs_app.grafana import grafana_links
from logs_app.store import ActivityUnavailable, activity_recent_for
from observability import events

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
        {"entries": entries, "unavailable": unavailable, "everyone": request.user.is_staff},
    )
