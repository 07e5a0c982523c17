"""Reads of messages: a user only ever sees their own."""

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
