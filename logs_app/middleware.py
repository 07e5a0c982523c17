"""Records each finished request as one recent-activity entry.

Static files and the browser's own telemetry posts (/api/events) are not activity; probes
never reach Django.
"""

import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from jiwoo.log import format_timestamp
from logs_app.store import activity_record


class RecentActivityMiddleware:
    """Reads the summary RequestContextMiddleware left on the request and stores it in Redis.

    It sits just outside RequestContextMiddleware, so the request's own duration does not
    include this write. Probes never reach Django, so they are never recorded.
    """

    def __init__(self, get_response) -> None:
        if not settings.RECENT_ACTIVITY_ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.excluded_prefixes = ("/" + settings.STATIC_URL.lstrip("/"), "/api/events")

    def __call__(self, request):
        response = self.get_response(request)
        summary = getattr(request, "summary", None)
        if summary is not None and not request.path.startswith(self.excluded_prefixes):
            activity_record(
                {
                    "ts": format_timestamp(time.time()),
                    **summary.as_dict(),
                    "service_name": settings.SERVICE_NAME,
                }
            )
        return response
