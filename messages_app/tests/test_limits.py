"""Bounded searches, a message quota, page numbers that overflow, a statement cancelled."""

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError

from messages_app.forms import SearchForm
from messages_app.models import MAX_SEARCH_WORDS, Message, search_words
from messages_app.services import message_create

pytestmark = pytest.mark.django_db
LIST = "/messages/"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (" ".join(["e", "el", "ell"] * 22), ["ell"]),  # 66 words, one condition
        ("Hello HELLO hello", ["hello"]),
        ("ell hello", ["hello"]),
        ("서연 이서연 커피", ["이서연", "커피"]),
        ("a b", ["a", "b"]),
    ],
)
def test_repeated_and_contained_words_are_one_condition(query, words):
    assert search_words(query) == words


def test_the_search_form_refuses_more_than_the_word_limit_and_says_so():
    many = " ".join(f"w{number}" for number in range(MAX_SEARCH_WORDS + 1))

    form = SearchForm({"q": many})

    assert not form.is_valid()
    assert f"at most {MAX_SEARCH_WORDS} different words" in form.errors["q"][0]
    assert SearchForm({"q": " ".join(["e", "el", "ell"] * 22)}).is_valid()


def test_the_page_shows_the_limit_and_the_error(alice_client):
    many = " ".join(f"w{number}" for number in range(MAX_SEARCH_WORDS + 1))

    help_page = alice_client.get(LIST).content.decode()
    refused = alice_client.get(LIST, {"q": many})

    assert f"at most {MAX_SEARCH_WORDS} different words" in help_page
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "Search for at most" in refused.content.decode()
    assert f'value="{many}"' in refused.content.decode()  # what was typed stays in the box


@pytest.mark.parametrize("query", ["", "needle"])
def test_a_page_number_past_any_database_integer_shows_the_last_page(alice_client, user, query):
    for number in range(25):
        message_create(author=user, text=f"needle {number}")

    response = alice_client.get(LIST, {"q": query, "page": "9223372036854775807"})

    assert response.status_code == HTTPStatus.OK
    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 5


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


def test_a_cancelled_statement_is_a_503_that_says_so(alice_client, monkeypatch):
    class QueryCanceled(Exception):
        sqlstate = "57014"

    def cancelled(**kwargs):
        try:
            raise QueryCanceled("canceling statement due to statement timeout")
        except QueryCanceled as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr("messages_app.views.message_page", cancelled)

    response = alice_client.get(LIST, {"q": "e"})

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "took the database too long" in response.content.decode()
