"""What is known about the request being handled, for every log line it writes.

The request middleware (``observability.middleware``) creates one ``RequestStory`` per request
and binds it here for the life of the request; log records, events and the log-in signal read
or add to it through these functions, never through attributes stuck on the request.
"""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DatabaseError

# A caller's X-Request-ID is kept when it looks like an id: no spaces, quotes or control characters.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass(slots=True)
class RequestStory:
    """The request's id, client address, user and the user action it turned out to be."""

    request_id: str
    client_ip: str
    user: str | None = None
    user_id: int | None = None
    event: str | None = None

    def log_fields(self) -> dict:
        """The fields every log line of the request carries (None values left out)."""
        fields = {"request_id": self.request_id, "client_ip": self.client_ip}
        if self.user is not None:
            fields["user"] = self.user
        return fields


_story: ContextVar[RequestStory | None] = ContextVar("jiwoo_request_story", default=None)


def current_story() -> RequestStory | None:
    """The story of the request being handled in this context, or None outside a request."""
    return _story.get()


@contextmanager
def story_bound(story: RequestStory) -> Iterator[RequestStory]:
    """Bind ``story`` to this context until the block ends."""
    token = _story.set(story)
    try:
        yield story
    finally:
        _story.reset(token)


def request_id_of(request) -> str:
    """The caller's X-Request-ID when it is a valid id, else a new one."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def user_of(request) -> tuple[str | None, int | None]:
    """The logged-in user's name and id; (None, None) when anonymous or the database cannot say."""
    user = getattr(request, "user", None)
    try:
        if user is not None and user.is_authenticated:
            return user.get_username(), user.pk
    except DatabaseError:
        # The request still gets its 503 page and its log line while the database is down.
        pass
    return None, None


def bind_user(request) -> None:
    """Bind the request's user to its story: when known, and again after a log-in."""
    story = _story.get()
    if story is None:
        return
    username, user_id = user_of(request)
    if username is not None:
        story.user, story.user_id = username, user_id


def record_event(name: str) -> None:
    """Mark the request being handled as the user action ``name``; the last one wins."""
    story = _story.get()
    if story is not None:
        story.event = name
