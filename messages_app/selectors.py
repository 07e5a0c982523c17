"""Reads of messages: a user only ever sees their own. A search is a user action too: its
event (``message.search``) is emitted here, for the page and the API alike."""

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Count, F, Value, Window
from django.db.models.functions import Least, RowNumber
from django.shortcuts import get_object_or_404

from messages_app.models import Message, MessageQuerySet
from observability import events

# Far past any author's last page (MESSAGES_PER_USER_MAX over a page's size): the page and the
# API take no bigger number, so the database never sees an OFFSET that overflows.
MAX_PAGE_NUMBER = 1_000_000


def message_list(*, author, query: str = "") -> MessageQuerySet:
    """The author's messages, newest first, filtered by every word of ``query``.

    Without a join to their author: the author is the user who asked (message_page sets it
    on each row of a page).
    """
    messages = Message.objects.for_author(author)
    if query.strip():
        messages = messages.search(query)
    return messages


def message_get(*, author, pk: int) -> Message:
    """The author's message ``pk``; 404 for anybody else's, so ids do not leak."""
    return get_object_or_404(Message.objects.for_author(author).select_related("author"), pk=pk)


def message_page(*, author, query: str, number: int, size: int, last_past_end: bool = False) -> Page:
    """Page ``number`` of the author's messages matching ``query``; a search is the user action
    ``message.search``.

    Past the last page: EmptyPage, or the last page when ``last_past_end`` (what the messages
    page shows). The rows come without a join to their author: the author is the user who
    asked, set on each row (user objects made from joined columns cost more than the rest of
    the fetch). A search counts its matches in the same query that fetches the page
    (COUNT(*) OVER ()), so the index is searched once, not twice, and a page past the end
    costs one query too. Without a query the paginator's own COUNT is cheaper: it is
    answered from the (author, created_at) index.
    """
    messages = message_list(author=author, query=query)
    if not query.strip():
        paginator = Paginator(messages, size)
        page = paginator.get_page(number) if last_past_end else paginator.page(number)
        page.object_list = _written_by(author, page.object_list)
        return page
    if number < 1:
        raise EmptyPage("That page number is less than 1")
    # Without search_text: the window holds every match until the count is known, and the
    # column made it wider (spilled to disk on common words, as the author's joined row did).
    matches = messages.defer("search_text").annotate(total_matches=Window(Count("pk")))
    offset = (number - 1) * size
    if last_past_end and number > 1:
        # Numbered rows, so that a page past the end is the last one in the same query (one
        # more window and sort, which the first page does without).
        numbered = matches.annotate(position=Window(RowNumber(), order_by=[F("created_at").desc(), F("id").desc()]))
        start = Least(Value(offset), (F("total_matches") - 1) / size * size)
        rows = list(numbered.filter(position__gt=start, position__lte=start + size).order_by("position"))
        number = (rows[0].position - 1) // size + 1 if rows else 1
    else:
        rows = list(matches[offset : offset + size])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
    rows = _written_by(author, rows)
    paginator = Paginator(messages, size)
    # Known from the rows themselves: no rows on the first (or last) page means no matches.
    paginator.__dict__["count"] = rows[0].total_matches if rows else 0
    events.emit("message.search", "messages searched", query_length=len(query), results=paginator.count)
    return Page(rows, number, paginator)


def _written_by(author, messages) -> list[Message]:
    """The messages as a list, each with ``author`` set to the author they were fetched for."""
    rows = list(messages)
    for row in rows:
        row.author = author
    return rows
