"""The messages API: list/search, create, read, delete. A user only ever sees their own."""

from datetime import datetime
from http import HTTPStatus

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage
from django.http import Http404, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from core.api.errors import ApiError
from core.api.responses import json_response
from core.api.schemas import Input, QueryInt, errors
from messages_app.forms import SearchForm
from messages_app.models import MAX_SEARCH_LENGTH, MAX_TEXT_LENGTH
from messages_app.selectors import MAX_PAGE_NUMBER, message_get, message_page
from messages_app.services import message_create, message_delete

router = Router(tags=["messages"])

MAX_PAGE_SIZE = 100


class MessageListQuery(Input):
    q: str = Field("", max_length=MAX_SEARCH_LENGTH, description="Messages with every word, in any order.")
    page: QueryInt = Field(1, ge=1, le=MAX_PAGE_NUMBER)
    page_size: QueryInt = Field(20, ge=1, le=MAX_PAGE_SIZE)


class MessageIn(Input):
    # The length is checked by message_create, as for the page: after the white space around
    # the text is trimmed, with the page's messages. The schema only states it.
    text: str = Field(
        description=f"At most {MAX_TEXT_LENGTH} characters once trimmed, not only white space; saved trimmed.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_TEXT_LENGTH},
    )


class MessageOut(Schema):
    id: int
    text: str
    author: str
    created_at: datetime


class MessagePage(Schema):
    results: list[MessageOut]
    count: int = Field(description="Messages that match, on all pages.")
    page: int
    pages: int


def _field_errors(form) -> dict:
    return {name: [error["message"] for error in errors] for name, errors in form.errors.get_json_data().items()}


@router.get("/messages", response={200: MessagePage, **errors(400, 401, 503)}, url_name="messages")
def list_messages(request, params: Query[MessageListQuery]):
    """The user's messages, newest first; with `q`, only those with every word of it."""
    search = SearchForm({"q": params.q})
    if not search.is_valid():
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid search.", _field_errors(search))
    query = search.cleaned_data["q"]
    try:
        page = message_page(author=request.user, query=query, number=params.page, size=params.page_size)
    except EmptyPage:
        raise ApiError(HTTPStatus.BAD_REQUEST, "'page' is out of range: there is no such page.") from None
    paginator = page.paginator
    return json_response(
        {
            "results": [message.as_json() for message in page],
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
        }
    )


@router.post("/messages", response={201: MessageOut, **errors(400, 401, 403, 413, 415, 503)}, url_name="messages")
def create_message(request, payload: MessageIn):
    """Save a message; 201 and the message as saved (trimmed)."""
    try:
        message = message_create(author=request.user, text=payload.text)
    except ValidationError as exc:
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid message.", exc.message_dict) from None
    return json_response(message.as_json(), status=HTTPStatus.CREATED)


def _own_message(request, pk: int):
    try:
        return message_get(author=request.user, pk=pk)
    except Http404:
        raise ApiError(HTTPStatus.NOT_FOUND, "No such message.") from None


@router.get("/messages/{int:pk}", response={200: MessageOut, **errors(401, 404, 503)}, url_name="message")
def get_message(request, pk: int):
    """One of the user's messages; another user's id is a 404."""
    return json_response(_own_message(request, pk).as_json())


@router.delete("/messages/{int:pk}", response={204: None, **errors(401, 403, 404, 503)}, url_name="message")
def delete_message(request, pk: int):
    """Delete one of the user's messages; another user's id is a 404."""
    message_delete(message=_own_message(request, pk))
    return HttpResponse(status=HTTPStatus.NO_CONTENT)
