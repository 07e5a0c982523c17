"""The Message: what a user saves, lists and searches."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_TEXT_LENGTH = 2000


def normalise_for_search(text: str) -> str:
    """Case-folded text: Unicode-aware case-insensitive matching that SQLite's LIKE cannot do."""
    return text.casefold()


class MessageQuerySet(models.QuerySet):
    def for_author(self, user) -> "MessageQuerySet":
        return self.filter(author=user)

    def search(self, query: str) -> "MessageQuerySet":
        """Messages that contain every word of ``query``, in any order, ignoring case."""
        queryset = self
        for word in normalise_for_search(query).split():
            queryset = queryset.filter(search_text__contains=word)
            if len(word) == 2 and connection.vendor == "postgresql":
                # Too short for the trigram index: the bigram index (migration 0003) serves it.
                queryset = queryset.filter(
                    RawSQL(
                        "jiwoo_bigrams(search_text) @> ARRAY[%s]::text[]", [word], output_field=models.BooleanField()
                    )
                )
        return queryset


class Message(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("author"),
    )
    text = models.TextField(_("text"), validators=[MaxLengthValidator(MAX_TEXT_LENGTH)])
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
