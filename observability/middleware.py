"""The one request middleware: it tells each request's story, start to end.

It binds the request's story (request id, client address, user) for every log line written
while the request is handled and returns ``X-Request-ID``. When the response is ready it writes
the ``http.request`` line and publishes the request's summary (``signals.request_completed``),
which recorders subscribe to: recent activity is logs_app's. It sits outside Django's session
middleware, so the duration covers the session save too; refusing what no view can handle is
core.hardening's middleware, right after this one, so refused requests have their line too.
docs/ARCHITECTURE.md shows the middleware order and where each field comes from.
"""

import logging
import time

from django.conf import settings
from opentelemetry.instrumentation.utils import suppress_instrumentation

from core.client import client_address
from observability import telemetry
from observability.context import RequestStory, bind_user, request_id_of, story_bound
from observability.signals import request_completed

logger = logging.getLogger("jiwoo.request")


class RequestMiddleware:
    """Binds the request's story, then tells it once: one log line and one published summary."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        with story_bound(new_story(request)) as story:
            if request.path.startswith(telemetry.TELEMETRY_PATH):
                # The browser's telemetry is not the app's work: it has no server span, and its
                # session and user lookups make no spans either (each would be a trace of its own).
                with suppress_instrumentation():
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
            story_end(request, response, story, started)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Every middleware's request phase has run: request.user is known from here on.
        bind_user(request)


def new_story(request) -> RequestStory:
    return RequestStory(request_id=request_id_of(request), client_ip=client_address(request))


def story_end(request, response, story: RequestStory, started: float) -> None:
    """The end of a request's story: its user, X-Request-ID, its line and its published summary."""
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    # A log-in during the request makes it the new user's; after a log-out it stays the user's
    # who sent it.
    bind_user(request)
    response["X-Request-ID"] = story.request_id
    trace_ids = telemetry.current_trace_ids()
    summary = {
        "method": request.method,
        "path": request.path,
        "route": getattr(request.resolver_match, "view_name", None),
        "status": response.status_code,
        "duration_ms": duration_ms,
        "user": story.user,
        "event": story.event,
        "trace_id": trace_ids[0] if trace_ids else None,
    }
    if settings.REQUEST_LOG_ENABLED:
        _log(summary)
    if not request.path.startswith(_unrecorded_prefixes()):
        request_completed.send(sender=RequestMiddleware, summary=summary, user_id=story.user_id)


def tell_unseen_request(request, response):
    """Tell the story of a request this middleware never saw, once: one refused before it ran
    (the OpenTelemetry middleware, first in line, meets a wrong Host). The 400 handler calls it."""
    started = time.perf_counter()
    with story_bound(new_story(request)) as story:
        story_end(request, response, story, started)
    return response


def _unrecorded_prefixes() -> tuple[str, ...]:
    """Static files and the browser's own telemetry are no user's activity."""
    return ("/" + settings.STATIC_URL.lstrip("/"), telemetry.TELEMETRY_PATH)


def _log(summary: dict) -> None:
    level = logging.ERROR if summary["status"] >= 500 else logging.INFO
    # Absent rather than null; the log filter adds trace_id and span_id of the active span.
    fields = {key: value for key, value in summary.items() if value is not None and key not in ("event", "trace_id")}
    fields["event"] = "http.request"
    if summary["event"]:
        fields["action"] = summary["event"]
    logger.log(level, "%s %s %s", summary["method"], summary["path"], summary["status"], extra=fields)
