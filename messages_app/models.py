"""The Message: what a user saves, lists and searches."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_TEXT_LENGTH = 2000
# A search is at most this long and looks for at most this many different words: each word is
# one more condition on every candidate message (docs/RELIABILITY.md has the measurements).
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 8


def normalise_for_search(text: str) -> str:
    """Case-folded text: Unicode-aware case-insensitive matching that SQLite's LIKE cannot do."""
    return text.casefold()


def search_words(query: str) -> list[str]:
    """The words a search has to look for: case-folded, each once, in the order typed.

    A word inside another word of the query is left out: a message that contains "hello"
    contains "ell" too, so ``e el ell`` is one condition, not three.
    """
    words = list(dict.fromkeys(normalise_for_search(query).split()))
    return [word for word in words if not any(word != other and word in other for other in words)]


class MessageQuerySet(models.QuerySet):
    def for_author(self, user) -> "MessageQuerySet":
        return self.filter(author=user)

    def search(self, query: str) -> "MessageQuerySet":
        """Messages that contain every word of ``query``, in any order, ignoring case.

        At most MAX_SEARCH_WORDS words count (the search form refuses more). On PostgreSQL
        the trigram index serves words of three characters or more; shorter ones are a plain
        filter on the author's messages, which costs less than any index of them (migration
        0005 says why).
        """
        queryset = self
        for word in search_words(query)[:MAX_SEARCH_WORDS]:
            queryset = queryset.filter(search_text__contains=word)
        return queryset


class Message(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("author"),
    )
    # No NUL character: PostgreSQL cannot store one in text, and no message needs one.
    text = models.TextField(
        _("text"), validators=[MaxLengthValidator(MAX_TEXT_LENGTH), ProhibitNullCharactersValidator()]
    )
    # Derived from text on save; kept so both SQLite and PostgreSQL search it the same way.
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["author", "-created_at"], name="message_author_created_idx")]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return self.text if len(self.text) <= 50 else f"{self.text[:49]}…"

    def save(self, *args, **kwargs) -> None:
        self.search_text = normalise_for_search(self.text)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("messages:list")

    def as_json(self) -> dict:
        """The API representation."""
        return {
            "id": self.pk,
            "text": self.text,
            "author": self.author.get_username(),
            "created_at": self.created_at.isoformat(),
        }
