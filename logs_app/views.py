"""The recent-activity page: staff see everyone's requests, other users their own."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from logs_app.grafana import grafana_links
from logs_app.store import ActivityUnavailable, activity_recent
from observability import events
from observability.errors import allow_methods

PAGE_ENTRIES = 50


def recent_for(request, limit: int) -> list[dict]:
    """Everyone's entries for staff, the user's own otherwise."""
    user_id = None if request.user.is_staff else request.user.pk
    return activity_recent(limit=limit, user_id=user_id)


@allow_methods("GET", "HEAD")
@login_required
def recent_activity_page(request):
    try:
        entries = recent_for(request, PAGE_ENTRIES)
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
