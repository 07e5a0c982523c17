"""Django's error handlers (400, 403, 404, 500 and the CSRF failure): JSON under /api/, styled
pages elsewhere, each showing the request's trace id so a report can quote it."""

import sys
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.api.errors import error_response
from core.errors import is_api_request, refused
from core.hardening import FileUploadRefused
from observability.context import current_story
from observability.context_processors import trace
from observability.middleware import tell_unseen_request


def _error(request, status: int, template: str, api_message: str):
    if is_api_request(request):
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
        return tell_unseen_request(request, response)
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
    if is_api_request(request):
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, _("The service is unavailable: try again shortly."))
    return HttpResponse(render_to_string("503.html", trace(request)), status=HTTPStatus.SERVICE_UNAVAILABLE)


def csrf_failure(request, reason=""):
    """CSRF rejections: a JSON error for the API, the styled page (with the trace id) elsewhere."""
    return _error(
        request,
        HTTPStatus.FORBIDDEN,
        "403_csrf.html",
        _("CSRF verification failed: send the csrftoken cookie's value in the X-CSRFToken header."),
    )
