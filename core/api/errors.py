"""The API's one error shape, ``{"error": "...", "fields": {...}}``, and the one handler that makes it.

Every error under /api/ is this object: the operations' own errors, request validation (400,
not ninja's 422), authentication and CSRF, requests refused on the way (core/errors.py) and
Django's 404/500/503 pages for /api/ paths (observability/errors.py).
"""

from http import HTTPStatus

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError


class ApiError(Exception):
    """Raised by operations; becomes ``{"error": ..., "fields": ...}`` with ``status``."""

    def __init__(self, status: int, message: str, fields: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields


class BodyError(ValueError):
    """The body is not one JSON value; its message is what the client is told."""


class MediaTypeError(BodyError):
    """The body's Content-Type is not application/json: a 415, whatever the body holds."""


JSON_ONLY = "The request body must be JSON, sent with Content-Type: application/json."


def error_response(status: int, message: str, fields: dict | None = None) -> JsonResponse:
    body = {"error": message}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status)


# What each exception the API handles becomes; everything else is a server error that
# Django's handler500 (observability/errors.py) answers in the same shape.
HANDLED = (ApiError, NinjaValidationError, HttpError, Http404, DjangoValidationError, RawPostDataException)


def handle_error(request, exc: Exception) -> JsonResponse:
    """The NinjaAPI's exception handler for every class in HANDLED."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message, exc.fields)
    if isinstance(exc, NinjaValidationError):
        return _validation_error(exc.errors)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        return error_response(HTTPStatus.BAD_REQUEST, " ".join(exc.messages), fields)
    if isinstance(exc, RawPostDataException):
        # A form body (multipart or urlencoded) was read as a form before the API saw it.
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, JSON_ONLY)
    if isinstance(exc, Http404):
        return error_response(HTTPStatus.NOT_FOUND, _("Not found."))
    if isinstance(exc, AuthenticationError):
        return error_response(HTTPStatus.UNAUTHORIZED, "Authentication required: log in first.")
    if isinstance(exc, Throttled):
        return error_response(HTTPStatus.TOO_MANY_REQUESTS, "Too many requests; slow down.")
    if exc.status_code == HTTPStatus.FORBIDDEN:  # the CSRF check of the session auth
        return error_response(
            HTTPStatus.FORBIDDEN,
            _("CSRF verification failed: send the csrftoken cookie's value in the X-CSRFToken header."),
        )
    if isinstance(exc.__cause__, MediaTypeError):  # ninja wraps the parser's error in a 400
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(exc.__cause__))
    if isinstance(exc.__cause__, BodyError):
        return error_response(exc.status_code, str(exc.__cause__))
    return error_response(exc.status_code, exc.message)


def _validation_error(errors: list[dict]) -> JsonResponse:
    """400 with one entry per field; a problem with the body as a whole has no field."""
    fields: dict[str, list[str]] = {}
    whole_body = []
    for error in errors:
        source, *where = error["loc"]
        if source == "body":
            where = where[1:]  # the operation's parameter name is no part of the wire format
        message = "Unknown field." if error["type"] == "extra_forbidden" else error["msg"]
        if where:
            fields.setdefault(".".join(str(part) for part in where), []).append(message)
        else:
            whole_body.append(message)
    if whole_body:
        summary = "The request body must be a JSON object." if not fields else "Invalid request."
    else:
        first = next(iter(fields))
        summary = f"Invalid request: '{first}': {fields[first][0]}"
    return error_response(HTTPStatus.BAD_REQUEST, summary, fields)
