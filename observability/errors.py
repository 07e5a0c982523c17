"""Error pages that show the trace id: JSON under /api/, styled HTML elsewhere."""

import sys
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from api.errors import error_response
from observability.context import current_story
from observability.context_processors import trace

API_PREFIX = "/api/"


class FileUploadRefused(SuspiciousOperation):
    """A multipart body with a file in it: no form of jiwoo takes files
    (middleware.NoFileUploadHandler raises it; bad_request says so)."""


def _error(request, status: int, template: str, api_message: str):
    if request.path.startswith(API_PREFIX):
        return error_response(status, api_message)
    return render(request, template, status=status)


def bad_request(request, exception=None):
    reason = _known_reason(exception)
    if reason:
        response = refused(request, HTTPStatus.BAD_REQUEST, _("Bad request"), reason)
    else:
        response = _error(request, HTTPStatus.BAD_REQUEST, "400.html", _("Bad request."))
    if current_story() is None:
        # Refused before the request middleware ran: the OpenTelemetry middleware, first in
        # line, asks for the host and meets DisallowedHost. Tell the request's story here, once.
        from observability.middleware import RequestMiddleware

        return RequestMiddleware(lambda request: response)(request)
    return response


def _known_reason(exception) -> str | None:
    """What to tell the client of a 400 whose cause it can fix; None for the general page."""
    if isinstance(exception, FileUploadRefused):
        return _("Files cannot be uploaded here: send the form without the file.")
    if isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return _("The form has too many fields (at most %(count)s).") % {"count": limit}
    return None


def permission_denied(request, exception=None):
    return _error(request, HTTPStatus.FORBIDDEN, "403.html", _("You do not have permission to do that."))


def page_not_found(request, exception=None):
    return _error(request, HTTPStatus.NOT_FOUND, "404.html", _("Not found."))


def server_error(request):
    """500, or 503 when the database cannot be reached: that is an outage, not a bug."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    return _error(request, HTTPStatus.INTERNAL_SERVER_ERROR, "500.html", _("Internal server error."))


def database_unavailable(request):
    """The 503 page, rendered without the request's context: the user, the session and the
    flash messages would each try the database again, and fail again."""
    if request.path.startswith(API_PREFIX):
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, _("The service is unavailable: try again shortly."))
    return HttpResponse(render_to_string("503.html", trace(request)), status=HTTPStatus.SERVICE_UNAVAILABLE)


def refused(request, status: HTTPStatus, heading: str, message: str) -> HttpResponse:
    """A request refused before any view (too large, a statement cut off): the usual error shape.

    The page is rendered without the request's context (no session, user or flash messages
    are read), as the 503 page is: neither the body nor the database is touched.
    """
    if request.path.startswith(API_PREFIX):
        return error_response(status, message)
    context = {**trace(request), "status": status.value, "heading": heading, "message": message}
    return HttpResponse(render_to_string("request_refused.html", context), status=status)


def csrf_failure(request, reason=""):
    """CSRF rejections: a JSON error for the API, the styled page (with the trace id) elsewhere."""
    return _error(
        request,
        HTTPStatus.FORBIDDEN,
        "403_csrf.html",
        _("CSRF verification failed: send the csrftoken cookie's value in the X-CSRFToken header."),
    )


def allow_methods(*methods: str):
    """Django's require_http_methods, whose refusal (an empty 405) becomes the error page."""

    def decorator(view):
        return with_method_error_page(require_http_methods(list(methods))(view))

    return decorator


def with_method_error_page(view):
    """The view, with any empty 405 it answers (Django's HttpResponseNotAllowed) made the usual
    error page or JSON error, keeping its Allow header."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            page = refused(
                request,
                HTTPStatus.METHOD_NOT_ALLOWED,
                _("Method not allowed"),
                _("This address does not take that kind of request (%(method)s).") % {"method": request.method[:16]},
            )
            page["Allow"] = response["Allow"]
            return page
        return response

    return wrapper
