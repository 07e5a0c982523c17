"""Writes: message_create validates once and emits message.create once per save; message_delete, message.delete."""

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from messages_app.models import Message
from messages_app.services import message_create, message_delete

pytestmark = pytest.mark.django_db
LIST = "/messages/"


def events(caplog, name: str) -> list:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_create_trims_white_space(user):
    message = message_create(author=user, text="  hello  \n")

    assert message.text == "hello"
    assert Message.objects.get().text == "hello"


@pytest.mark.parametrize("text", ["", "   \n\t ", "x" * 2001])
def test_create_refuses_empty_or_too_long_text_and_saves_nothing(user, text):
    with pytest.raises(ValidationError):
        message_create(author=user, text=text)

    assert not Message.objects.exists()


def test_create_accepts_exactly_2000_characters(user):
    assert len(message_create(author=user, text="가" * 2000).text) == 2000


def test_a_user_keeps_at_most_the_message_quota(alice_client, user, settings):
    settings.MESSAGES_PER_USER_MAX = 3
    for number in range(3):
        message_create(author=user, text=f"message {number}")

    with pytest.raises(ValidationError) as raised:
        message_create(author=user, text="one too many")
    page = alice_client.post(LIST, {"text": "one too many"})

    assert "text" in raised.value.message_dict
    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert "the most one account can keep" in page.content.decode()
    assert Message.objects.filter(author=user).count() == 3


def test_saving_a_message_is_one_insert_once_the_quota_is_counted(user, django_assert_num_queries):
    # Every query is a span and a round trip on the busiest path: the author is already
    # loaded, so validation does not look it up again; the per-user cap is counted on the
    # first save only (the headroom left is kept in Redis), and one INSERT needs no transaction.
    with django_assert_num_queries(2) as first_save:
        message_create(author=user, text="the first")
    with django_assert_num_queries(1) as next_save:
        message_create(author=user, text="the next")

    assert [query["sql"].split()[0] for query in first_save.captured_queries] == ["SELECT", "INSERT"]
    assert next_save.captured_queries[0]["sql"].startswith("INSERT")


def test_create_emits_message_create_once_with_the_message(user, log):
    message = message_create(author=user, text="  hello ")

    (line,) = events(log, "message.create")
    assert (line.message_id, line.length) == (message.pk, len("hello"))


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_an_invalid_message_is_neither_saved_nor_an_event(user, log, text):
    with pytest.raises(ValidationError):
        message_create(author=user, text=text)

    assert not Message.objects.exists()
    assert events(log, "message.create") == []


def test_a_page_post_and_an_api_post_each_log_one_message_create(alice_client, log):
    page = alice_client.post(LIST, {"text": "from the page"})
    from_the_page = events(log, "message.create")
    log.clear()
    api = alice_client.post("/api/messages", {"text": "from the API"}, content_type="application/json")
    from_the_api = events(log, "message.create")

    assert (page.status_code, api.status_code) == (HTTPStatus.FOUND, HTTPStatus.CREATED)
    assert len(from_the_page) == len(from_the_api) == 1
    assert Message.objects.count() == 2


def test_a_page_post_and_an_api_post_each_validate_once(alice_client, monkeypatch):
    validated = []
    full_clean = Message.full_clean

    def counted(self, *args, **kwargs):
        validated.append(self.text)
        return full_clean(self, *args, **kwargs)

    monkeypatch.setattr(Message, "full_clean", counted)
    alice_client.post(LIST, {"text": "from the page"})
    alice_client.post("/api/messages", {"text": "from the API"}, content_type="application/json")

    assert validated == ["from the page", "from the API"]


def test_delete_emits_message_delete_once(user, log):
    message = message_create(author=user, text="bye")
    message_id = message.pk

    message_delete(message=message)

    (line,) = events(log, "message.delete")
    assert line.message_id == message_id
    assert not Message.objects.exists()


def test_a_page_delete_and_an_api_delete_each_log_one_message_delete(alice_client, user, log):
    first = message_create(author=user, text="one")
    second = message_create(author=user, text="two")

    alice_client.post(reverse("messages:delete", args=[first.pk]))
    alice_client.delete(f"/api/messages/{second.pk}")

    assert [line.message_id for line in events(log, "message.delete")] == [first.pk, second.pk]
