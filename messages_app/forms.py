from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from messages_app.models import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, MAX_TEXT_LENGTH, Message, search_words


class MessageForm(forms.ModelForm):
    text = forms.CharField(
        label=_("Message"),
        max_length=MAX_TEXT_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a message…")}),
        error_messages={"required": _("Write something first: the message is empty.")},
    )

    class Meta:
        model = Message
        fields = ["text"]


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
