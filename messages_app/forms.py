from django import forms
from django.utils.translation import gettext_lazy as _

from messages_app.models import MAX_TEXT_LENGTH, Message


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
    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)
