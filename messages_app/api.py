"""The messages JSON API: list/search, create, read, delete; errors as {"error": ..., "fields": ...}."""

from http import HTTPStatus

from django.core.paginator import EmptyPage
from django.http import Http404, HttpResponse, JsonResponse

from api.helpers import ApiError, api_view, int_param, json_body
from messages_app.forms import MessageForm, SearchForm
from messages_app.selectors import message_get, message_page
from messages_app.services import message_create, message_delete
from observability import events


def _field_errors(form) -> dict:
    return {name: [error["message"] for error in errors] for name, errors in form.errors.get_json_data().items()}


@api_view(["GET", "POST"])
def messages_collection(request):
    if request.method == "POST":
        return _create(request)
    search = SearchForm(request.GET)
    if not search.is_valid():
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid search.", _field_errors(search))
    query = search.cleaned_data["q"]
    page_number = int_param(request, "page", default=1, minimum=1)
    page_size = int_param(request, "page_size", default=20, minimum=1, maximum=100)
    try:
        page = message_page(author=request.user, query=query, number=page_number, size=page_size)
    except EmptyPage:
        raise ApiError(HTTPStatus.BAD_REQUEST, "'page' is out of range: there is no such page.") from None
    paginator = page.paginator
    if query:
        events.emit("message.search", "messages searched", query_length=len(query), results=paginator.count)
    return JsonResponse(
        {
            "results": [message.as_json() for message in page],
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
        }
    )


def _create(request):
    data = json_body(request)
    unknown = sorted(set(data) - {"text"})
    if unknown:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "Unknown fields in the request body.",
            {name: ["Unknown field."] for name in unknown},
        )
    if not isinstance(data.get("text"), str):
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid message.", {"text": ["This field must be a string."]})
    form = MessageForm({"text": data["text"]})
    if not form.is_valid():
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid message.", _field_errors(form))
    message = message_create(author=request.user, text=form.cleaned_data["text"])
    events.emit("message.create", "message saved", message_id=message.pk, length=len(message.text))
    return JsonResponse(message.as_json(), status=HTTPStatus.CREATED)


@api_view(["GET", "DELETE"])
def message_detail(request, pk: int):
    try:
        message = message_get(author=request.user, pk=pk)
    except Http404 as exc:
        raise ApiError(HTTPStatus.NOT_FOUND, "No such message.") from exc
    if request.method == "DELETE":
        message_delete(message=message)
        events.emit("message.delete", "message deleted", message_id=pk)
        return HttpResponse(status=HTTPStatus.NO_CONTENT)
    return JsonResponse(message.as_json())
