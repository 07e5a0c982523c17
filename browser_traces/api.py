"""``POST /api/otlp/v1/traces``: the endpoint of the browser-span relay, with its limits.

Cheap refusals come first, before the body is parsed: the media type (415), the size (413) and
the rate per client address and per session (429, counted in Redis: BROWSER_TRACES_RATE_LIMIT_*
a minute). relay.py validates what is left, exports it and logs the clicks.
"""

from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.decorators import decorate_view
from pydantic import Field

from browser_traces.relay import MAX_BODY_BYTES, RelayError, TracesRequest, export, log_clicks, parse_batch
from core.api.auth import anyone_with_csrf
from core.api.errors import ApiError, error_response
from core.api.schemas import errors
from core.client import client_address
from core.throttle import Throttle

exports_per_address = Throttle("browser-traces-address", seconds=60)
exports_per_session = Throttle("browser-traces-session", seconds=60)


def over_rate_limit(request) -> bool:
    """Whether this client address, or this session, sent more exports than allowed a minute."""
    if exports_per_address.hit(client_address(request)) > settings.BROWSER_TRACES_RATE_LIMIT_PER_ADDRESS:
        return True
    session_key = request.session.session_key if hasattr(request, "session") else None
    return bool(session_key) and exports_per_session.hit(session_key) > settings.BROWSER_TRACES_RATE_LIMIT_PER_SESSION


def _guard(run):
    """The cheap refusals, before the body is parsed: media type (415), size (413), rate (429)."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        media_type = request.content_type or ""
        if media_type != "application/json":
            return error_response(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, _("Send OTLP/JSON with Content-Type: application/json.")
            )
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
            return error_response(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                _("The body is larger than %(limit)s bytes.") % {"limit": MAX_BODY_BYTES},
            )
        if over_rate_limit(request):
            return error_response(HTTPStatus.TOO_MANY_REQUESTS, _("Too many browser spans; slow down."))
        return run(request, *args, **kwargs)

    return wrapper


router = Router(tags=["browser telemetry"])


class ExportResult(Schema):
    partialSuccess: dict = Field(default_factory=dict, description="OTLP's answer: empty, every span was accepted.")


@router.post(
    "/otlp/v1/traces",
    auth=anyone_with_csrf,
    response={200: ExportResult, **errors(400, 403, 413, 415, 429)},
    url_name="browser-traces",
)
@decorate_view(_guard)
def relay_browser_traces(request, payload: TracesRequest):
    """Accept the browser's spans (OTLP/JSON) and export them as `<service>-frontend`."""
    try:
        spans = parse_batch(payload)
    except RelayError as exc:
        raise ApiError(exc.status, exc.message) from None
    user = getattr(request, "user", None)
    export(spans, user_id=user.pk if user is not None and user.is_authenticated else None)
    log_clicks(spans)
    return HttpResponse(b'{"partialSuccess":{}}', content_type="application/json")
