"""``POST /api/events``: page-load timing and clicks reported by static/js/events.js.

The browser is a second service: its records carry ``service_name`` "<service>-frontend" and
the trace id of the page it is on, so Loki shows both services and links them to one trace.
The payload is validated strictly; anything unexpected is a 400 and nothing is logged.
"""

import logging
import re
from http import HTTPStatus

import orjson
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from api.helpers import ApiError, error_response

logger = logging.getLogger("jiwoo.browser")

MAX_BODY_BYTES = 8 * 1024
MAX_EVENTS = 20
RATE_LIMIT_PER_MINUTE = 120
EVENT_NAMES = {"page.load", "click"}
TIMING_FIELDS = {"ttfb_ms", "dom_content_loaded_ms", "load_ms"}
MAX_TIMING_MS = 10 * 60 * 1000
TRACK_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def _path(value) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 200:
        raise ApiError(HTTPStatus.BAD_REQUEST, "'path' must be this site's path, at most 200 characters.")
    return value


def _timing(value) -> dict:
    if not isinstance(value, dict) or not set(value) <= TIMING_FIELDS:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"'timing' may only hold {sorted(TIMING_FIELDS)}.")
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number <= MAX_TIMING_MS:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"'timing.{name}' must be a number of milliseconds.")
    return {name: round(float(number), 1) for name, number in value.items()}


def parse_event(raw) -> dict:
    """One validated event: {"name": "page.load", "path", "timing"} or {"name": "click", "path", "target"}."""
    if not isinstance(raw, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, "Each event must be a JSON object.")
    name = raw.get("name")
    if name not in EVENT_NAMES:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"Unknown event name; expected one of {sorted(EVENT_NAMES)}.")
    allowed = {"name", "path", "timing"} if name == "page.load" else {"name", "path", "target"}
    if not set(raw) <= allowed:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"A {name} event only has the fields {sorted(allowed)}.")
    event = {"name": name, "path": _path(raw.get("path"))}
    if name == "page.load":
        event["timing"] = _timing(raw.get("timing", {}))
    else:
        target = raw.get("target")
        if not isinstance(target, str) or not TRACK_NAME.match(target):
            raise ApiError(HTTPStatus.BAD_REQUEST, "'target' must be a data-track name like 'messages.save'.")
        event["target"] = target
    return event


def parse_payload(body: bytes) -> tuple[str | None, list[dict]]:
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        data = orjson.loads(body)  # strict: no invalid UTF-8, lone surrogates or NaN
    except orjson.JSONDecodeError:
        raise ApiError(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON.") from None
    if not isinstance(data, dict) or not set(data) <= {"trace_id", "events"}:
        raise ApiError(HTTPStatus.BAD_REQUEST, "The body must be an object with 'events' and 'trace_id'.")
    trace_id = data.get("trace_id") or None
    if trace_id is not None and (not isinstance(trace_id, str) or not TRACE_ID.match(trace_id)):
        raise ApiError(HTTPStatus.BAD_REQUEST, "'trace_id' must be 32 lower-case hex digits.")
    events = data.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"'events' must be a list of 1 to {MAX_EVENTS} events.")
    return trace_id, [parse_event(event) for event in events]


def over_rate_limit(request, count: int) -> bool:
    """Whether this session (or address, before there is one) sent too many events this minute."""
    who = request.session.session_key or request.META.get("REMOTE_ADDR", "")
    key = f"browser-events:{who}"
    try:
        cache.add(key, 0, timeout=60)
        sent = cache.incr(key, count)
    except ValueError:  # the key expired between add and incr, or Redis is down: let it through
        return False
    return sent is not None and sent > RATE_LIMIT_PER_MINUTE


def browser_events(request):
    if request.method != "POST":
        response = error_response(HTTPStatus.METHOD_NOT_ALLOWED, "Only POST is allowed here.")
        response["Allow"] = "POST"
        return response
    try:
        trace_id, events = parse_payload(request.body)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    if over_rate_limit(request, len(events)):
        return error_response(HTTPStatus.TOO_MANY_REQUESTS, "Too many browser events; slow down.")
    service_name = f"{settings.SERVICE_NAME}-frontend"
    for event in events:
        fields = {key: value for key, value in event.items() if key != "name"}
        extra = {"event": f"browser.{event['name']}", "service_name": service_name, **fields}
        if trace_id:
            extra["trace_id"] = trace_id
        logger.info("browser %s %s", event["name"], event["path"], extra=extra)
    return HttpResponse(status=HTTPStatus.NO_CONTENT)
