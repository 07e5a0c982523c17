"""Writes to messages. Reads live in selectors.py."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from messages_app import quota
from messages_app.metrics import messages_created
from messages_app.models import Message


def message_create(*, author, text: str) -> Message:
    """Validate and save a message; raises ValidationError and saves nothing when it is invalid.

    Surrounding white space is not part of a message: it is trimmed before the 1-2000 check.
    An author who already has MESSAGES_PER_USER_MAX messages gets a ValidationError on
    ``text`` (the page shows it at the field, the API as a 4xx with its field errors).
    The author is the user this request loaded, so validation does not query it again; one
    INSERT needs no transaction of its own.
    """
    message = Message(author=author, text=text.strip())
    message.full_clean(exclude=["author"])
    _check_quota(author)
    message.save()
    messages_created.add(1)
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
    message.delete()
