"""The small toolkit the JSON API views share: errors, the view decorator, body and query parsing."""

from collections.abc import Callable, Iterable
from functools import wraps
from http import HTTPStatus

import orjson
from django.http import JsonResponse


class ApiError(Exception):
    """Raised by API views and helpers; becomes ``{"error": ..., "fields": ...}`` with ``status``."""

    def __init__(self, status: int, message: str, fields: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields


def error_response(status: int, message: str, fields: dict | None = None) -> JsonResponse:
    body = {"error": message}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status)


def api_view(methods: Iterable[str]) -> Callable:
    """Session-authenticated JSON endpoint: 401 for anonymous users, 405 for other methods."""
    allowed = sorted(methods)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in allowed:
                response = error_response(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed here."
                )
                response["Allow"] = ", ".join(allowed)
                return response
            if not request.user.is_authenticated:
                return error_response(HTTPStatus.UNAUTHORIZED, "Authentication required: log in first.")
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.fields)

        return wrapper

    return decorator


def json_body(request) -> dict:
    """The request body as a JSON object, or ApiError(400).

    orjson is strict where the json module is lenient: it refuses invalid UTF-8, lone
    surrogates (which no database or log line can store), NaN and infinite numbers.
    """
    if not request.body:
        raise ApiError(HTTPStatus.BAD_REQUEST, "The request body must be a JSON object.")
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise ApiError(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "The request body must be a JSON object.")
    return data


def int_param(request, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    """An integer query parameter within bounds, or ApiError(400) that says the bounds."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"'{name}' must be a whole number {bounds}.") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(HTTPStatus.BAD_REQUEST, f"'{name}' must be a whole number {bounds}.")
    return value
