"""Refusing a request in the app's own shape: JSON under /api/, the styled page elsewhere.

Both show the request's trace id, so a user who reports a refusal can quote it. The pages are
rendered without the request's context (no session, user or flash messages are read), so a
refusal touches neither the body nor the database.
"""

from functools import wraps
from http import HTTPStatus

from django.http import HttpResponse, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from opentelemetry import trace

from core.api.errors import error_response

API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    """Whether the request is for the JSON API, whose errors are JSON."""
    return request.path.startswith(API_PREFIX)


def current_trace_id() -> str:
    """The active span's trace id as 32 lower-case hex digits, or "" outside a span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def refused(request, status: HTTPStatus, heading: str, message: str) -> HttpResponse:
    """A request refused before or instead of its view (too large, a statement cut off, a method
    the address does not take): the JSON error under /api/, the styled page elsewhere."""
    if is_api_request(request):
        return error_response(status, message)
    context = {"trace_id": current_trace_id(), "status": status.value, "heading": heading, "message": message}
    return HttpResponse(render_to_string("request_refused.html", context), status=status)


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
