"""The one request middleware: it tells each request's story, start to end.

It binds the request's story (request id, client address, user) for every log line written
while the request is handled, returns ``X-Request-ID``, and when the response is ready writes
the ``http.request`` line and submits the recent-activity entry. It sits outside Django's
session middleware, so the duration covers the session save too. docs/ARCHITECTURE.md shows
where it sits in the middleware order and where each field comes from.
"""

import logging
import time

from django.conf import settings

from logs_app.store import activity_record
from observability import telemetry
from observability.context import RequestStory, bind_user, client_address, request_id_of, story_bound
from observability.json_logging import format_timestamp

logger = logging.getLogger("jiwoo.request")


class RequestMiddleware:
    """Binds the request's story, then records it once: one log line and one activity entry."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.log_requests = settings.REQUEST_LOG_ENABLED
        self.record_activity = settings.RECENT_ACTIVITY_ENABLED
        # Static files and the browser's own reports are not activity.
        self.unrecorded_prefixes = ("/" + settings.STATIC_URL.lstrip("/"), "/api/events")

    def __call__(self, request):
        started = time.perf_counter()
        story = RequestStory(request_id=request_id_of(request), client_ip=client_address(request))
        with story_bound(story):
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            # A log-in during the request makes it the new user's; after a log-out it stays the
            # user's who sent it.
            bind_user(request)
            response["X-Request-ID"] = story.request_id
            summary = {
                "method": request.method,
                "path": request.path,
                "route": getattr(request.resolver_match, "view_name", None),
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user": story.user,
                "event": story.event,
            }
            if self.log_requests:
                self._log(summary)
            if self.record_activity and not request.path.startswith(self.unrecorded_prefixes):
                trace_ids = telemetry.current_trace_ids()
                entry = {
                    "ts": format_timestamp(time.time()),
                    **summary,
                    "trace_id": trace_ids[0] if trace_ids else None,
                    "service_name": settings.SERVICE_NAME,
                }
                activity_record(entry)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Every middleware's request phase has run: request.user is known from here on.
        bind_user(request)

    @staticmethod
    def _log(summary: dict) -> None:
        level = logging.ERROR if summary["status"] >= 500 else logging.INFO
        # Absent rather than null; the log filter adds trace_id and span_id of the active span.
        fields = {key: value for key, value in summary.items() if value is not None and key != "event"}
        fields["event"] = "http.request"
        if summary["event"]:
            fields["action"] = summary["event"]
        logger.log(level, "%s %s %s", summary["method"], summary["path"], summary["status"], extra=fields)
