"""Request context for logs: bound for the life of a request, closed by one http.request record."""

import ipaddress
import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from jiwoo.log import current_trace_ids, request_context

logger = logging.getLogger("jiwoo.request")


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """What one finished request was: the http.request record and the recent-activity entry."""

    method: str
    path: str
    route: str | None
    status: int
    duration_ms: float
    user: str | None
    event: str | None
    trace_id: str | None

    def as_dict(self) -> dict:
        # Not dataclasses.asdict: it deep-copies every value, and this runs twice a request.
        return {name: getattr(self, name) for name in self.__slots__}


def client_address(request) -> str:
    """The client's address; X-Forwarded-For counts only when the peer is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded and remote in settings.TRUSTED_PROXIES:
        # The right-most address not added by one of our proxies is the client.
        for candidate in reversed([part.strip() for part in forwarded.split(",")]):
            if candidate not in settings.TRUSTED_PROXIES:
                try:
                    return str(ipaddress.ip_address(candidate))
                except ValueError:
                    break
    return remote


def username_of(request) -> str | None:
    """The logged-in user's name; None when anonymous, or when the database cannot say."""
    user = getattr(request, "user", None)
    try:
        if user is not None and user.is_authenticated:
            return user.get_username()
    except DatabaseError:
        # The request still gets its 503 page and its log line while the database is down.
        return None
    return None


def bind_user(request) -> None:
    """Re-bind the user after a log-in or log-out changed it mid-request."""
    bound = request_context.get()
    if bound is not None:
        bound["user"] = username_of(request)


class RequestContextMiddleware:
    """Binds user, request id and client address to every log record made during the request."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.log_requests = settings.REQUEST_LOG_ENABLED

    def __call__(self, request):
        started = time.perf_counter()
        request.event_name = None
        user_at_start = username_of(request)
        token = request_context.set(
            {"request_id": uuid.uuid4().hex, "client_ip": client_address(request), "user": user_at_start}
        )
        try:
            response = self.get_response(request)
            summary = RequestSummary(
                method=request.method,
                path=request.path,
                route=getattr(request.resolver_match, "view_name", None),
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                # After a log-out the request still belongs to the user who sent it.
                user=username_of(request) or user_at_start,
                event=request.event_name,
                trace_id=(current_trace_ids() or (None,))[0],
            )
            request.summary = summary
            if not self.log_requests:
                return response
            level = logging.ERROR if summary.status >= 500 else logging.INFO
            logger.log(
                level,
                "%s %s %s",
                summary.method,
                summary.path,
                summary.status,
                # Absent rather than null; the filter adds trace_id and span_id of the active span.
                extra={
                    **{k: v for k, v in summary.as_dict().items() if v is not None and k != "trace_id"},
                    "event": "http.request",
                    **({"action": summary.event} if summary.event else {}),
                },
            )
            return response
        finally:
            request_context.reset(token)
