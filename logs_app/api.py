"""The recent-activity and trace API: the user's own entries and traces, everyone's for staff;
503 when Redis is down."""

from http import HTTPStatus

from ninja import Query, Router, Schema
from ninja.decorators import decorate_view
from pydantic import Field

from core.api.errors import ApiError
from core.api.responses import json_response
from core.api.schemas import Input, QueryInt, errors
from logs_app.store import ActivityUnavailable, activity_recent_for
from logs_app.traces import trace_for
from observability.trace_store import TraceUnavailable, unstored

router = Router(tags=["activity"])


class RecentQuery(Input):
    limit: QueryInt = Field(
        50, ge=1, le=200, description="At most this many entries (and never more than the list keeps)."
    )


class ActivityEntry(Schema):
    ts: str = Field(description="When the response was ready, RFC 3339 UTC with milliseconds.")
    method: str
    path: str
    route: str | None = Field(description="The URL pattern's name.")
    status: int
    duration_ms: float
    user: str | None
    event: str | None = Field(description="The user action, e.g. message.create.")
    trace_id: str | None
    service_name: str


class RecentActivity(Schema):
    results: list[ActivityEntry] = Field(description="Newest first.")


@router.get("/logs/recent", response={200: RecentActivity, **errors(400, 401, 503)}, url_name="recent-activity")
def recent_activity(request, params: Query[RecentQuery]):
    """The newest requests: the user's own, or everyone's for staff."""
    try:
        entries = activity_recent_for(request.user, limit=params.limit)
    except ActivityUnavailable:
        raise ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE, "Recent activity is unavailable: Redis cannot be reached."
        ) from None
    return json_response({"results": entries})


class TraceEvent(Schema):
    name: str = Field(description="exception: an exception the span recorded.")
    attributes: dict[str, str | bool] = Field(description="exception.type and exception.message.")


class TraceSpan(Schema):
    span_id: str
    parent_span_id: str | None = Field(description="null for the trace's root.")
    name: str
    kind: str = Field(description="server, client, internal, producer or consumer.")
    service_name: str = Field(description="The app's, or `<service>-frontend` for the browser's spans.")
    start_ms: float = Field(description="When the span started, in ms from the trace's start.")
    duration_ms: float
    status: str = Field(description="ok, error or unset.")
    attributes: dict = Field(description="The span's attributes, each value cut to a length; no query string.")
    events: list[TraceEvent]


class Trace(Schema):
    trace_id: str
    spans: list[TraceSpan] = Field(description="Ordered by start.")


@router.get("/traces/{trace_id}", response={200: Trace, **errors(401, 404, 503)}, url_name="trace")
@decorate_view(unstored)
def get_trace(request, trace_id: str):
    """A recent trace's spans: of the user's own requests, or anyone's for staff; a 404 otherwise."""
    try:
        trace = trace_for(request.user, trace_id)
    except TraceUnavailable:
        raise ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "Traces are unavailable: Redis cannot be reached.") from None
    if trace is None:
        raise ApiError(HTTPStatus.NOT_FOUND, "No such trace.")
    return json_response({"trace_id": trace["trace_id"], "spans": trace["spans"]})
