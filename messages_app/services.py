"""Writes to messages. Reads live in selectors.py."""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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


# How long a counted headroom is trusted. Messages saved outside message_create (the admin,
# a bulk import) are not subtracted from it, so this bounds how long they can go unnoticed.
HEADROOM_SECONDS = 3600


def _check_quota(author) -> None:
    """At most MESSAGES_PER_USER_MAX messages per author (0: no limit), without a count per save.

    Counting an author's messages costs in proportion to how many they have (11 ms for 52,743,
    docs/BENCHMARKS.md), so the count is done once and what is left of the cap, the headroom,
    is kept in the cache (Redis) and taken from one save at a time with an atomic DECR. The
    count is done again when the headroom runs out or is unknown (expired, Redis unreachable,
    the limit changed), so deleted messages give their room back at that point. Like the count
    it replaces, the cap can be overshot by an author's concurrent saves, never by more.
    """
    limit = settings.MESSAGES_PER_USER_MAX
    if not limit:
        return
    key = f"messages:headroom:{limit}:{author.pk}"
    try:
        left = cache.decr(key)
    except ValueError:  # no headroom known for this author
        left = None
    if left is not None and left >= 0:
        return
    saved = Message.objects.filter(author=author).order_by().values("pk")[:limit].count()
    if saved >= limit:
        cache.delete(key)
        raise ValidationError(
            {
                "text": ValidationError(
                    _("You have %(limit)s messages, the most one account can keep: delete some to save new ones."),
                    code="message_limit",
                    params={"limit": limit},
                )
            }
        )
    cache.set(key, limit - saved - 1, HEADROOM_SECONDS)  # this save takes one


def message_delete(*, message: Message) -> None:
    message.delete()
