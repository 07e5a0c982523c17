"""Template tags for the rows of the messages page: what is the same in every row done once per
page, and each row filled directly instead of by a ``{% for %}`` loop of template nodes.

The page comes out byte for byte as Django's own tags and filters in a loop render it, at a
fraction of the cost per row (docs/BENCHMARKS.md has the measurements);
messages_app/tests/test_message_rows.py renders it both ways and compares.

With ``MESSAGE_ROWS_MEMO`` on (the default), what a row's filters give that depends only on the
message, the language and the time zone is remembered: a message's two dates (the ``|date``
filters cost a row most), and each translated phrase of its age (``naturaltime`` looks each up
again in every row). With it off, every row calls Django's filters afresh.
"""

import html
import unicodedata
from functools import lru_cache
from itertools import repeat

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaultfilters import date, linebreaksbr, truncatechars
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.utils.text import add_truncation_text, calculate_truncate_chars_length
from django.utils.timezone import get_current_timezone, template_localtime
from django.utils.translation import get_language

register = template.Library()

# Reversed in place of a row's pk, then cut out: what is left around it is the same for every row.
PK_PLACEHOLDER = 9_876_543_210


class PkUrl:
    """The address of a route that takes one integer pk, as the text before and after the pk."""

    def __init__(self, view_name: str):
        url = reverse(view_name, args=[PK_PLACEHOLDER])
        if url.count(str(PK_PLACEHOLDER)) != 1:
            raise ValueError(f"{view_name!r} does not give an address with the pk in one place: {url}")
        self.before, _, self.after = url.partition(str(PK_PLACEHOLDER))

    def for_pk(self, pk: int) -> str:
        # What {% url view_name pk %} gives: an <int:pk> is written as str(pk).
        return f"{self.before}{int(pk)}{self.after}"


def truncatechars_fast(value: str, length) -> str:
    """``|truncatechars``, cut directly where no character can change the count.

    Django's filter puts the text in NFC, then walks it character by character, counting all
    but combining marks, up to the limit. For a text already in NFC that is no longer than the
    limit, that walk changes nothing; for a longer one with no combining mark in its first
    ``length + 1`` characters, every character counts, so the cut falls where a plain slice
    puts it. Both come out as Django's would, with its own (translated) ellipsis; every other
    text goes to Django's filter.
    """
    if not isinstance(length, int) or length <= 0 or not unicodedata.is_normalized("NFC", value):
        return truncatechars(value, length)
    if len(value) <= length:
        return value
    if any(map(unicodedata.combining, value[: length + 1])):
        return truncatechars(value, length)
    return add_truncation_text(value[: calculate_truncate_chars_length(length, None)])


# At most this many characters of a message name it in its delete button's label.
SNIPPET_LENGTH = 40

# One row of the list, with the white space the loop it replaces gave. Every value that is not
# already safe HTML is escaped first (_escaped), as {{ }} does.
MESSAGE_ROW = """
      <li class="message" id="message-{pk}">
        <p class="message-text">{text}</p>
        <div class="message-meta">
          <time datetime="{iso}" title="{title}">{natural}</time>
          <form method="post" action="{action}" class="inline-form">
            {csrf_field}
            <button type="submit" class="link-button danger" data-track="messages.delete" aria-label="{delete_message_label}: {snippet}">{delete_label}</button>
          </form>
        </div>
      </li>
    """  # noqa: E501


@register.simple_tag
def message_rows(messages, *, csrf_field: str, delete_message_label: str, delete_label: str):
    """The list's rows: MESSAGE_ROW for each message, filled by the filters the row template used.

    The same filters as ``{{ }}`` in a ``{% for %}`` (Django's ``linebreaksbr``, ``date``,
    ``naturaltime`` and ``localize``, and this module's), called directly: a row's template
    machinery (twenty-odd nodes, each resolved and escaped in turn) cost as much as its filters.
    What is the same in every row is escaped once a page.
    """
    delete_url = PkUrl("messages:delete")  # reversed once a page, in the request's script prefix
    same_in_every_row = {
        "csrf_field": _escaped(csrf_field),
        "delete_message_label": _escaped(delete_message_label),
        "delete_label": _escaped(delete_label),
    }
    return mark_safe(  # noqa: S308 - every value in it went through _escaped
        "".join(
            MESSAGE_ROW.format(**same_in_every_row, **{key: _escaped(value) for key, value in row.items()})
            for row in map(_row_values, messages, repeat(delete_url))
        )
    )


def _escaped(value) -> str:
    """What ``{{ value }}`` shows: safe HTML as it is, anything else escaped.

    Django's ``conditional_escape``, which ``format_html`` calls, does the same through
    ``escape`` (``html.escape`` of the text, marked safe); calling the standard library's
    function directly costs a page of rows much less (docs/BENCHMARKS.md).
    """
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _row_values(message, delete_url: PkUrl) -> dict:
    if settings.MESSAGE_ROWS_MEMO:
        iso, title = remembered_dates(message.created_at, get_current_timezone(), get_language())
        natural = RememberingNaturalTimeFormatter.string_for(message.created_at)
    else:
        iso, title = shown_dates(message.created_at)
        natural = naturaltime(message.created_at)
    return {
        "pk": localize(message.pk),
        "text": linebreaksbr(message.text),
        "iso": iso,
        "title": title,
        "natural": natural,
        "action": delete_url.for_pk(message.pk),
        "snippet": truncatechars_fast(str(message), SNIPPET_LENGTH),
    }


def shown_dates(created_at) -> tuple[str, str]:
    """A row's ``<time datetime title>``: ``|date:'c'`` and ``|date:'DATETIME_FORMAT'`` of its local time."""
    local = template_localtime(created_at)
    return local.isoformat(), date(local, "DATETIME_FORMAT")


# A message's dates are the same for as long as the language, the time zone and the format
# settings are: remembered for the 1,024 most recently shown (about 0.5 MB a process, in Korean).
@lru_cache(maxsize=1024)
def remembered_dates(created_at, time_zone, language) -> tuple[str, str]:
    """shown_dates() in the active time zone and language, which are in the key for that."""
    return shown_dates(created_at)


class RememberedTranslation:
    """A lazy translation with placeholders (``"%(num)d day"``), formatted once per language
    and arguments: Django's lazy string looks its catalogue up again every time it is used."""

    def __init__(self, lazy_translation):
        self.lazy_translation = lazy_translation
        self.formatted = lru_cache(maxsize=512)(self._format)

    def _format(self, language: str, arguments: tuple) -> str:
        return self.lazy_translation % dict(arguments)

    def __mod__(self, arguments: dict) -> str:
        return self.formatted(get_language(), tuple(arguments.items()))


class RememberingNaturalTimeFormatter(NaturalTimeFormatter):
    """``naturaltime`` by Django's own formatter, with every phrase it fills in remembered.

    Only the phrases are replaced; "now" is shown as it is, not formatted, so it stays Django's.
    """

    time_strings = {
        name: phrase if name == "now" else RememberedTranslation(phrase)
        for name, phrase in NaturalTimeFormatter.time_strings.items()
    }
    past_substrings = {
        name: RememberedTranslation(phrase) for name, phrase in NaturalTimeFormatter.past_substrings.items()
    }
    future_substrings = {
        name: RememberedTranslation(phrase) for name, phrase in NaturalTimeFormatter.future_substrings.items()
    }


@receiver(setting_changed)
def forget_remembered_text(**kwargs) -> None:
    """A changed setting (in tests: the time zone, the languages, a date format) may change the text."""
    remembered_dates.cache_clear()
    for phrases in (
        RememberingNaturalTimeFormatter.time_strings,
        RememberingNaturalTimeFormatter.past_substrings,
        RememberingNaturalTimeFormatter.future_substrings,
    ):
        for phrase in phrases.values():
            if isinstance(phrase, RememberedTranslation):
                phrase.formatted.cache_clear()


class CaptureNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: str):
        self.nodelist = nodelist
        self.name = name

    def render(self, context) -> str:
        context[self.name] = self.nodelist.render(context)
        return ""


@register.tag
def capture(parser, token) -> CaptureNode:
    """``{% capture as NAME %}...{% endcapture %}``: render the block once, show it with ``{{ NAME }}``.

    For a tag whose output is the same in every row, such as ``{% csrf_token %}``: its HTML
    (already escaped, marked safe) is stored, not shown, where the block stands.
    """
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError(f"'{bits[0]}' takes the form {{% {bits[0]} as NAME %}}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])
