from http import HTTPStatus

from django.http import JsonResponse

from api.helpers import ApiError, api_view, int_param
from logs_app.store import ActivityUnavailable
from logs_app.views import recent_for


@api_view(["GET"])
def recent_activity(request):
    limit = int_param(request, "limit", default=50, minimum=1, maximum=200)
    try:
        entries = recent_for(request, limit)
    except ActivityUnavailable:
        raise ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE, "Recent activity is unavailable: Redis cannot be reached."
        ) from None
    return JsonResponse({"results": entries})
