"""Reads of messages: a user only ever sees their own."""

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Count, Window
from django.shortcuts import get_object_or_404

from messages_app.models import Message, MessageQuerySet


def message_list(*, author, query: str = "") -> MessageQuerySet:
    """The author's messages, newest first, filtered by every word of ``query``."""
    messages = Message.objects.for_author(author).select_related("author")
    if query.strip():
        messages = messages.search(query)
    return messages


def message_get(*, author, pk: int) -> Message:
    """The author's message ``pk``; 404 for anybody else's, so ids do not leak."""
    return get_object_or_404(Message.objects.for_author(author).select_related("author"), pk=pk)


def message_page(*, author, query: str, number: int, size: int) -> Page:
    """Page ``number`` of the author's messages matching ``query``; EmptyPage past the last one.

    A search counts its matches in the same query that fetches the page (COUNT(*) OVER ()),
    so the index is searched once, not twice. Without a query the paginator's own COUNT is
    cheaper: it is answered from the (author, created_at) index.
    """
    messages = message_list(author=author, query=query)
    if not query.strip():
        return Paginator(messages, size).page(number)
    if number < 1:
        raise EmptyPage("That page number is less than 1")
    offset = (number - 1) * size
    rows = list(messages.annotate(total_matches=Window(Count("pk")))[offset : offset + size])
    paginator = Paginator(messages, size)
    # Known from the rows themselves; only a page past the end needs a COUNT of its own.
    paginator.__dict__["count"] = rows[0].total_matches if rows else messages.count()
    if not rows and number > 1:
        raise EmptyPage("That page contains no results")
    return Page(rows, number, paginator)
