"""The one NinjaAPI: session auth, strict JSON, one error shape; each app's operations are its Router.

jiwoo/urls.py mounts ``api.urls`` under /api/. The OpenAPI document is /api/openapi.json and
its Swagger UI /api/docs, served from django-ninja's own static files (no CDN, no inline
script), so the page works under the app's Content-Security-Policy.
"""

import inspect
from functools import wraps
from http import HTTPStatus

import orjson
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.urls import URLPattern
from ninja import NinjaAPI, Swagger
from ninja.parser import Parser

from browser_traces.api import router as browser_traces_router
from core.api.auth import Session
from core.api.errors import HANDLED, JSON_ONLY, BodyError, MediaTypeError, error_response, handle_error
from logs_app.api import router as logs_router
from messages_app.api import router as messages_router


class StrictJsonParser(Parser):
    """JSON only, by its media type (415 for any other), and strictly parsed: orjson refuses
    what the json module lets through, invalid UTF-8, lone surrogates (which no database or log
    line can store), NaN and infinite numbers."""

    def parse_body(self, request):
        if request.content_type != "application/json":
            raise MediaTypeError(JSON_ONLY)
        try:
            return orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise BodyError("The request body is not valid JSON.") from None


def _method_not_allowed_as_json(view):
    """ninja answers a method no operation takes with a bare 405; give it the error shape. A
    HEAD is answered as the GET it asks about (as Django's class-based views do); the request
    middleware leaves out the body."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed) and request.method == "HEAD" and "GET" in response["Allow"]:
            request.method = "GET"
            try:
                return view(request, *args, **kwargs)
            finally:
                request.method = "HEAD"
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(method.strip() for method in response["Allow"].split(",")))
            response = error_response(HTTPStatus.METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed here.")
            response["Allow"] = allowed
        return response

    return wrapper


def _unknown_query_parameters_refused(run):
    """A 400 for a query parameter the operation does not take (ninja itself drops them unread).

    Applied to each operation's ``run``, ahead of authentication and validation.
    """
    known = set()
    operation = inspect.unwrap(run).__self__  # the bound Operation.run under any other decorator
    for model in operation.models:
        if model.__ninja_param_source__ == "query":
            known.update(getattr(model, "__ninja_flatten_map__", None) or model.model_fields)

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        if not request.META.get("QUERY_STRING"):
            return run(request, *args, **kwargs)  # nothing to check, and no QueryDict to build
        unknown = sorted(set(request.GET) - known)
        if unknown:
            return error_response(
                HTTPStatus.BAD_REQUEST,
                f"Unknown query parameters: {', '.join(unknown)}.",
                {name: ["Unknown field."] for name in unknown},
            )
        return run(request, *args, **kwargs)

    return wrapper


# What gunicorn answers before the app sees a request: its own HTML page, not the error shape.
SERVER_LIMITS = {
    "414": {
        "description": "The request line is longer than the server takes (8,190 bytes): gunicorn's own page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    "431": {
        "description": "A header field is longer than the server takes (8,190 bytes): gunicorn's own page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
}

# Views that never query the database: on PostgreSQL every other view runs in a transaction
# (ATOMIC_REQUESTS), which connects first; these answer without one.
DATABASE_FREE = {"openapi-json", "openapi-view", "browser-traces"}


class JiwooAPI(NinjaAPI):
    def set_default_exception_handlers(self) -> None:
        # Instead of ninja's defaults (422 for validation, {"detail": ...}, a traceback page
        # under DEBUG): one handler, one shape. Anything else reaches Django's handler500.
        for exc_class in HANDLED:
            self.add_exception_handler(exc_class, handle_error)

    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The document, with the server's own refusals in every operation: gunicorn answers a
        request line or a header field over its limit itself, in HTML (jiwoo/gunicorn_conf.py)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema["paths"].values():
            for operation in methods.values():
                operation["responses"].update(SERVER_LIMITS)
        return schema

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern) and getattr(pattern.callback, "csrf_exempt", False):
                pattern.callback = _method_not_allowed_as_json(pattern.callback)
            if isinstance(pattern, URLPattern) and pattern.name in DATABASE_FREE:
                pattern.callback = transaction.non_atomic_requests(pattern.callback)
        return patterns, app_name, namespace


api = JiwooAPI(
    title="jiwoo",
    version="1",
    description=(
        'jiwoo\'s JSON API. Errors are `{"error": "...", "fields": {...}}` (`fields` only for '
        "validation errors); nothing is half-saved. Unknown fields in a body or query are a 400."
    ),
    auth=Session(),
    parser=StrictJsonParser(),
    urls_namespace="api",
    docs=Swagger(settings={"validatorUrl": None, "defaultModelsExpandDepth": 0}),
)
api.add_decorator(_unknown_query_parameters_refused, mode="view")
api.add_router("", messages_router)
api.add_router("", logs_router)
api.add_router("", browser_traces_router)
