"""Writes to messages, and the user actions they are. Reads live in selectors.py.

Each service validates its input once, for the page and the API alike, and emits its domain
event (observability.events): the views and API operations only adapt.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from messages_app import quota
from messages_app.metrics import messages_created
from messages_app.models import Message
from observability import events


def message_create(*, author, text: str) -> Message:
    """Validate and save a message; raises ValidationError and saves nothing when it is invalid.

    Surrounding white space is not part of a message: it is trimmed before the 1-2000 check.
    An author who already has MESSAGES_PER_USER_MAX messages gets a ValidationError on
    ``text`` (the page shows it at the field, the API as a 4xx with its field errors).
    The author is the user this request loaded, so validation does not query it again.
    """
    message = Message(author=author, text=text.strip())
    if not message.text:
        raise ValidationError(
            {"text": ValidationError(_("Write something first: the message is empty."), code="required")}
        )
    message.full_clean(exclude=["author"])
    _check_quota(author)
    message.save()
    messages_created.add(1)
    events.emit("message.create", "message saved", message_id=message.pk, length=len(message.text))
    return message


def _check_quota(author) -> None:
    """At most MESSAGES_PER_USER_MAX messages per author (0: no limit); messages_app/quota.py."""
    if not quota.may_save(author):
        limit = settings.MESSAGES_PER_USER_MAX
        raise ValidationError(
            {
                "text": ValidationError(
                    _("You have %(limit)s messages, the most one account can keep: delete some to save new ones."),
                    code="message_limit",
                    params={"limit": limit},
                )
            }
        )


def message_delete(*, message: Message) -> None:
    message_id = message.pk
    message.delete()
    events.emit("message.delete", "message deleted", message_id=message_id)
