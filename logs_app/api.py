"""The recent-activity API: the user's own entries, everyone's for staff; 503 when Redis is down."""

from http import HTTPStatus

from ninja import Query, Router, Schema
from pydantic import Field

from core.api.errors import ApiError
from core.api.responses import json_response
from core.api.schemas import Input, QueryInt, errors
from logs_app.store import ActivityUnavailable, activity_recent_for

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
