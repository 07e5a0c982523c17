"""Template tags for the rows of the messages page: work done once per page, not once per row.

Each gives the same HTML as the Django tag or filter it stands in for, at a fraction of its cost
per row (docs/BENCHMARKS.md has the measurements); messages_app/tests/test_message_rows.py
renders the page both ways and compares them byte for byte.
"""

import unicodedata

from django import template
from django.template.defaultfilters import stringfilter, truncatechars
from django.urls import reverse
from django.utils.text import add_truncation_text, calculate_truncate_chars_length

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


@register.simple_tag
def pk_url(view_name: str) -> PkUrl:
    """``{% pk_url 'messages:delete' as delete_url %}``: reverse once, then ``{{ delete_url|for_pk:message.pk }}``."""
    return PkUrl(view_name)


@register.filter
def for_pk(url: PkUrl, pk: int) -> str:
    """The address of ``pk``; escaped by the template as ``{% url %}`` escapes its address."""
    return url.for_pk(pk)


@register.filter(expects_localtime=True)
def isoformat(value) -> str:
    """``|date:'c'`` without its format parser: the ISO 8601 form of the value in the current time zone."""
    return value.isoformat()


@register.filter(is_safe=True)
@stringfilter
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
