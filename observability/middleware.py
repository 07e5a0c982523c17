"""The one request middleware: it tells each request's story, start to end.

It binds the request's story (request id, client address, user) for every log line written
while the request is handled, returns ``X-Request-ID``, and when the response is ready writes
the ``http.request`` line and submits the recent-activity entry. It sits outside Django's
session middleware, so the duration covers the session save too. docs/ARCHITECTURE.md shows
where it sits in the middleware order and where each field comes from.

Before anything reads the body it refuses one over the size limit (files included), and it
answers a database statement cancelled by the statement timeout
with a 503 instead of a server error. Every such request still gets its ``http.request`` line.
"""

import logging
import time
from http import HTTPStatus

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.db import DataError, OperationalError
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from core.database import is_statement_timeout, statement_timeout
from logs_app.store import activity_record
from observability import telemetry
from observability.context import RequestStory, bind_user, client_address, request_id_of, story_bound
from observability.errors import API_PREFIX, FileUploadRefused, refused
from observability.json_logging import format_timestamp

logger = logging.getLogger("jiwoo.request")


class RequestMiddleware:
    """Binds the request's story, then records it once: one log line and one activity entry."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.log_requests = settings.REQUEST_LOG_ENABLED
        self.record_activity = settings.RECENT_ACTIVITY_ENABLED
        # Static files and the browser's own reports are not activity.
        self.unrecorded_prefixes = ("/" + settings.STATIC_URL.lstrip("/"), "/api/otlp/")

    def __call__(self, request):
        started = time.perf_counter()
        story = RequestStory(request_id=request_id_of(request), client_ip=client_address(request))
        with story_bound(story), statement_timeout(settings.DATABASE_STATEMENT_TIMEOUT):
            response = self._refused(request) or self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            # A log-in during the request makes it the new user's; after a log-out it stays the
            # user's who sent it.
            bind_user(request)
            response["X-Request-ID"] = story.request_id
            if request.method == "HEAD" and not response.streaming:
                # A HEAD answer has the GET's headers (Content-Length included) and no body;
                # gunicorn warns of every body it has to drop.
                response.content = b""
            if story.user_id is not None or request.path.startswith(API_PREFIX):
                # Someone's own pages and every API answer: no shared cache may keep them, and
                # the browser keeps no copy on disk.
                patch_cache_control(response, private=True, no_store=True)
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
                activity_record(entry, user_id=story.user_id)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Every middleware's request phase has run: request.user is known from here on.
        bind_user(request)

    def process_exception(self, request, exception):
        """A statement cancelled by DATABASE_STATEMENT_TIMEOUT is a 503 that says so, not a 500;
        a value the database cannot take (PostgreSQL refuses a NUL character in text, which the
        admin's filters pass through) is the client's 400."""
        if isinstance(exception, DataError):
            logger.warning(
                "the database refused a value of the request: %s",
                type(exception.__cause__ or exception).__name__,
                extra={"event": "db.data_refused"},
            )
            return refused(
                request,
                HTTPStatus.BAD_REQUEST,
                _("Bad request"),
                _("The request holds a value the database cannot take, such as a NUL character."),
            )
        if isinstance(exception, OperationalError) and is_statement_timeout(exception):
            logger.warning(
                "database statement cancelled after %s s",
                settings.DATABASE_STATEMENT_TIMEOUT,
                extra={"event": "db.statement_timeout"},
            )
            return refused(
                request,
                HTTPStatus.SERVICE_UNAVAILABLE,
                _("That took too long"),
                _("That took the database too long, so it was stopped. Try again, or search for fewer words."),
            )
        return None

    @staticmethod
    def _refused(request):
        """The answer to a body no view can read, before it is read; None for the others."""
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # WSGI gives Django no length for a chunked body, so Django would read it as empty:
            # a form without its fields (and CSRF token), a message without its text.
            return refused(
                request,
                HTTPStatus.LENGTH_REQUIRED,
                _("Length required"),
                _("Send the request body with a Content-Length header; a chunked body is not read."),
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty, too.
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return refused(
                request,
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                _("Request too large"),
                _("The request is too large: at most %(size)s KiB are accepted.")
                % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024},
            )
        return None

    @staticmethod
    def _log(summary: dict) -> None:
        level = logging.ERROR if summary["status"] >= 500 else logging.INFO
        # Absent rather than null; the log filter adds trace_id and span_id of the active span.
        fields = {key: value for key, value in summary.items() if value is not None and key != "event"}
        fields["event"] = "http.request"
        if summary["event"]:
            fields["action"] = summary["event"]
        logger.log(level, "%s %s %s", summary["method"], summary["path"], summary["status"], extra=fields)


class NoFileUploadHandler(FileUploadHandler):
    """FILE_UPLOAD_HANDLERS: the one upload handler, and it refuses every file.

    Django parses multipart/form-data for any view, and without this it keeps each file part
    in memory or in a temporary file. Form fields of a multipart body still work (test
    clients send forms so); the first file part ends the request with a 400, logged as a
    client error (``django.security.FileUploadRefused``, WARNING).
    """

    def new_file(self, *args, **kwargs) -> None:
        raise FileUploadRefused("A file was uploaded; jiwoo takes no files.")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        return None

    def file_complete(self, file_size: int) -> None:
        return None
