from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from messages_app.models import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, MAX_TEXT_LENGTH, search_words


class MessageForm(forms.Form):
    """The compose box. It only reads the text; services.message_create validates it, for the
    page and the API alike, and the view shows its errors at the field."""

    text = forms.CharField(
        label=_("Message"),
        required=False,
        strip=True,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Write a message…"), "maxlength": MAX_TEXT_LENGTH, "required": True}
        ),
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=MAX_SEARCH_LENGTH,
        strip=True,
        help_text=format_lazy(
            _("Messages with every word, in any order; at most {words} different words."), words=MAX_SEARCH_WORDS
        ),
    )

    def clean_q(self) -> str:
        query = self.cleaned_data["q"]
        if len(search_words(query)) > MAX_SEARCH_WORDS:
            raise forms.ValidationError(
                _("Search for at most %(words)s different words."),
                code="too_many_words",
                params={"words": MAX_SEARCH_WORDS},
            )
        return query
