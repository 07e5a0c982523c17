"""Writes to messages. Reads live in selectors.py."""

from messages_app.metrics import messages_created
from messages_app.models import Message


def message_create(*, author, text: str) -> Message:
    """Validate and save a message; raises ValidationError and saves nothing when it is invalid.

    Surrounding white space is not part of a message: it is trimmed before the 1-2000 check.
    The author is the user this request loaded, so validation does not query it again; one
    INSERT needs no transaction of its own.
    """
    message = Message(author=author, text=text.strip())
    message.full_clean(exclude=["author"])
    message.save()
    messages_created.add(1)
    return message


def message_delete(*, message: Message) -> None:
    message.delete()
