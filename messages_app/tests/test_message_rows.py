"""The rows of the messages page, byte for byte as Django's own tags and filters render them.

templates/messages_app/message_list.html renders what is the same in every row once, and the
rows themselves with {% message_rows %} (messages_app/templatetags/message_rows.py), which fills
each row's markup directly (docs/BENCHMARKS.md says why). REFERENCE is the markup as it was, from
the end of the compose form to the end of the list (closed by an {% endif %} of its own): a
{% for %} loop with {% url %}, {% csrf_token %}, {% translate %}, |date:'c' and |truncatechars in
every row. The page must show exactly what it renders, for the same messages, language, time
zone and clock.
"""

from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template import TemplateSyntaxError, engines
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone, translation

from messages_app.models import Message
from messages_app.templatetags.message_rows import (
    RememberingNaturalTimeFormatter,
    remembered_dates,
    truncatechars_fast,
)

pytestmark = pytest.mark.django_db

LIST = reverse("messages:list")

REFERENCE = """{% load i18n humanize %}</section>

{% if query %}
  <p class="result-count" role="status">{% blocktranslate count counter=page.paginator.count with query=query %}{{ counter }} message matches “{{ query }}”.{% plural %}{{ counter }} messages match “{{ query }}”.{% endblocktranslate %}</p>
{% endif %}

{% if page.object_list %}
  <ol class="message-list">
    {% for message in page.object_list %}
      <li class="message" id="message-{{ message.pk }}">
        <p class="message-text">{{ message.text|linebreaksbr }}</p>
        <div class="message-meta">
          <time datetime="{{ message.created_at|date:'c' }}" title="{{ message.created_at|date:'DATETIME_FORMAT' }}">{{ message.created_at|naturaltime }}</time>
          <form method="post" action="{% url 'messages:delete' message.pk %}" class="inline-form">
            {% csrf_token %}
            <button type="submit" class="link-button danger" data-track="messages.delete" aria-label="{% translate 'Delete message' %}: {{ message|truncatechars:40 }}">{% translate "Delete" %}</button>
          </form>
        </div>
      </li>
    {% endfor %}
  </ol>{% endif %}"""  # noqa: E501

# naturaltime reads the clock: both renders see this one.
NOW = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)


class FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW if tz else NOW.replace(tzinfo=None)


# (text, age): one message a row, newest first on the page.
MESSAGES = [
    ("a minute ahead: the server's clock and the database's disagree", timedelta(seconds=-90)),
    ("just now", timedelta(0)),
    ("first line\nsecond line\r\nthird line\n\nafter an empty line", timedelta(seconds=42)),
    ("<script>alert('x')</script> & \"quoted\" 'single' <b>bold</b>", timedelta(minutes=5)),
    (
        "안녕하세요 😀 오늘은 관측할 수 있는 서비스를 함께 만들어 봅시다 🚀👩‍💻 정말 즐거운 하루예요!",
        timedelta(hours=3),
    ),
    ("마흔다섯 글자짜리 메시지: 잘림 기호가 붙는 경계를 넘는 길이입니다 🙂 정말로요", timedelta(days=2, hours=4)),
    ("x" * 40, timedelta(days=9)),
    ("e\u0301" * 30 + " combining accents, not yet in NFC", timedelta(days=40)),
    ("100% {{ not a variable }} {% not a tag %} %(name)s", timedelta(days=365, seconds=1)),
    ("a year and more ago, on the hour", NOW - NOW.replace(year=2025, hour=0, minute=0, second=0, microsecond=0)),
]


@pytest.fixture
def messages(user):
    *others, (last_text, last_age) = MESSAGES
    made = [Message.objects.create(author=user, text=text, created_at=NOW - age) for text, age in others]
    # An id past a thousand, where a localized number would be grouped.
    made.append(Message.objects.create(pk=12345, author=user, text=last_text, created_at=NOW - last_age))
    return made


@pytest.fixture(autouse=True)
def frozen_clock():
    with mock.patch("django.contrib.humanize.templatetags.humanize.datetime", FrozenDatetime):
        yield


def page_and_reference(client, language: str, query: str = "") -> tuple[str, str]:
    """The rows as the page shows them, and as REFERENCE renders the same page of messages."""
    with translation.override(language):
        response = client.get(LIST, {"q": query} if query else {}, HTTP_ACCEPT_LANGUAGE=language)
        # The same messages and the same CSRF token as the page's render.
        context = {name: response.context[name] for name in ("page", "query", "csrf_token")}
        reference = engines["django"].from_string(REFERENCE).render(context, request=response.wsgi_request)
    html = response.content.decode()
    start = html.index("</section>")
    return html[start : html.index("</ol>", start) + len("</ol>")], reference


@pytest.mark.parametrize("memo", [True, False], ids=["remembered", "afresh"])
@pytest.mark.parametrize(
    ("language", "time_zone", "query"),
    [("en", "UTC", ""), ("ko", "UTC", ""), ("ko", "Asia/Seoul", ""), ("en", "America/New_York", "line")],
)
def test_rows_are_byte_for_byte_what_djangos_tags_render(
    alice_client, messages, settings, language, time_zone, query, memo
):
    settings.TIME_ZONE = time_zone
    settings.MESSAGE_ROWS_MEMO = memo

    # The second time, with the memo on, every date and phrase is a remembered one.
    for _ in range(2):
        rows, reference = page_and_reference(alice_client, language, query)
        assert rows == reference
    assert reference.count('<li class="message"') == (1 if query else len(MESSAGES))


def test_what_is_remembered_for_one_language_and_time_zone_is_not_shown_in_another(alice_client, messages):
    """The memo's keys: the same messages, shown in turn in each language and time zone."""
    for language, time_zone in [
        ("en", "UTC"),
        ("ko", "UTC"),
        ("ko", "Asia/Seoul"),
        ("en", "Asia/Seoul"),
        ("en", "UTC"),
    ]:
        with timezone.override(ZoneInfo(time_zone)):
            rows, reference = page_and_reference(alice_client, language)
        assert rows == reference, (language, time_zone)


def test_a_changed_setting_forgets_what_was_remembered(alice_client, messages, settings):
    """Formats and catalogues can change under a test's settings (FORMAT_MODULE_PATH, LOCALE_PATHS)."""
    page_and_reference(alice_client, "ko")
    assert remembered_dates.cache_info().currsize >= len(MESSAGES)
    assert RememberingNaturalTimeFormatter.past_substrings["day"].formatted.cache_info().currsize > 0

    settings.FORMAT_MODULE_PATH = None

    assert remembered_dates.cache_info().currsize == 0
    assert RememberingNaturalTimeFormatter.past_substrings["day"].formatted.cache_info().currsize == 0


# Ages on either side of every unit's boundary, in the past and in the future.
AGES = [
    timedelta(seconds=seconds)
    for base in (0, 60, 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400, 800 * 86400)
    for seconds in (base - 1, base, base + 1, base * 2 + 61, -base - 1, -base * 3 - 7)
]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_remembering_naturaltime_gives_what_naturaltime_gives(language):
    with translation.override(language):
        for _ in range(2):  # then from what was remembered
            for age in AGES:
                value = NOW - age
                assert RememberingNaturalTimeFormatter.string_for(value) == naturaltime(value), age
        assert RememberingNaturalTimeFormatter.string_for("not a date") == "not a date"


def test_the_cases_above_are_in_the_reference(alice_client, messages):
    """The comparison above is only as good as its messages: each case shows in the reference."""
    _, reference = page_and_reference(alice_client, "en")

    # naturaltime keeps a number and its unit together with a no-break space.
    for shown in [
        "a minute from now",
        ">now<",
        "42\xa0seconds ago",
        "second line<br>third line<br><br>after",
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;",
        "정말 즐거운 하루예요!",
        "함께 만들어 봅시다 🚀👩…",
        "1\xa0year ago",
        "midnight",
        'id="message-12345"',
        'action="/messages/12345/delete/"',
        'datetime="2026-03-14T15:09:26.535897+00:00"',
        'datetime="2025-03-14T00:00:00+00:00"',
    ]:
        assert shown in reference, shown


def test_capture_needs_as_and_a_name():
    with pytest.raises(TemplateSyntaxError, match="capture as NAME"):
        engines["django"].from_string("{% load message_rows %}{% capture csrf %}{% endcapture %}")


# Texts around the cut: short and long, marks that do and do not count, not yet in NFC.
TRUNCATION_TEXTS = [
    "",
    "short",
    "x" * 39,
    "x" * 40,
    "x" * 41,
    "y" * 200,
    "안녕하세요 😀 오늘은 관측할 수 있는 서비스를 함께 만들어 봅시다 🚀👩‍💻 정말 즐거운 하루예요!",
    "e\u0301" * 30 + " combining accents, not yet in NFC",
    "a" * 39 + "\u0301" + "b" * 10,  # a mark before the cut, which NFC cannot fold
    "q\u0307" * 25,  # a mark on every other character, in NFC
    "z" * 41 + "\u0301" * 3,  # marks only after the cut
    "z" * 40 + "\u0301" + "more",  # a mark right at the cut
    "ᄒ\u1161\u11ab" * 20,  # conjoining jamo: NFC composes them
    "line one\nline two\ttabbed   and a long enough tail to be cut here",
]


@pytest.mark.parametrize("length", [1, 2, 5, 39, 40, 41, 100])
@pytest.mark.parametrize("language", ["en", "ko"])
def test_truncatechars_fast_gives_what_truncatechars_gives(length, language):
    with translation.override(language):
        for text in TRUNCATION_TEXTS:
            assert truncatechars_fast(text, length) == truncatechars(text, length), (text, length)


def test_truncatechars_fast_uses_the_translated_ellipsis():
    """A translation may end a cut text with something longer than one character."""
    marker = "%(truncated_text)s [more]"
    with mock.patch("django.utils.text.pgettext", return_value=marker):
        for text in TRUNCATION_TEXTS:
            assert truncatechars_fast(text, 40) == truncatechars(text, 40), text
        assert truncatechars_fast("y" * 200, 40) == "y" * 33 + " [more]"


def test_truncatechars_fast_takes_what_truncatechars_takes():
    assert truncatechars_fast("some text", "not a number") == "some text"
    assert truncatechars_fast("some text", 0) == truncatechars("some text", 0) == ""
