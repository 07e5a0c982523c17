"""Records each finished request as one recent-activity entry (static files excluded)."""

import time

from django.conf import settings

from jiwoo.log import format_timestamp
from logs_app.store import activity_record


class RecentActivityMiddleware:
    """Reads the summary RequestContextMiddleware left on the request and stores it in Redis.

    It sits just outside RequestContextMiddleware, so the request's own duration does not
    include this write. Probes never reach Django, so they are never recorded.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        summary = getattr(request, "summary", None)
        if summary is not None and not request.path.startswith(self.static_prefix):
            activity_record(
                {
                    "ts": format_timestamp(time.time()),
                    **summary.as_dict(),
                    "service_name": settings.SERVICE_NAME,
                }
            )
        return response
