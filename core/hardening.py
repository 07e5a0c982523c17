"""HTTP hardening: what every request and answer must respect, whatever the view.

``HardeningMiddleware`` sits right after the request middleware (observability), so a request
refused here still gets its ``http.request`` line and activity entry. It refuses a body no view
can read before it is read (a chunked body: 411; one over the size limit, files included: 413),
binds the statement timeout of the request's transactions, turns a statement cancelled by that
timeout into a 503 and a value the database cannot take into a 400, sends no body with a HEAD
answer, and keeps someone's own pages and every API answer out of shared caches.
``NoFileUploadHandler`` refuses files: no form of jiwoo takes one.
"""

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.db import DatabaseError, DataError, OperationalError
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from core.database import is_statement_timeout, statement_timeout
from core.errors import is_api_request, refused

logger = logging.getLogger("jiwoo.request")


class HardeningMiddleware:
    """Refuses what no view can handle safely, and hardens every answer."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with statement_timeout(settings.DATABASE_STATEMENT_TIMEOUT):
            response = self._refused(request) or self.get_response(request)
        if request.method == "HEAD" and not response.streaming:
            # A HEAD answer has the GET's headers (Content-Length included) and no body;
            # gunicorn warns of every body it has to drop.
            response.content = b""
        if is_api_request(request) or _logged_in(request):
            # Someone's own pages and every API answer: no shared cache may keep them, and the
            # browser keeps no copy on disk.
            patch_cache_control(response, private=True, no_store=True)
        return response

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


def _logged_in(request) -> bool:
    """Whether a user is logged in; False when the database cannot say (the 503 page is anyone's)."""
    user = getattr(request, "user", None)
    try:
        return user is not None and user.is_authenticated
    except DatabaseError:
        return False


class FileUploadRefused(SuspiciousOperation):
    """A multipart body with a file in it: no form of jiwoo takes files (the 400 handler says so)."""


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
