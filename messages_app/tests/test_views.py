"""The messages pages: the list with its compose form and search box, deleting, the front door."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from messages_app.models import MAX_SEARCH_WORDS, Message
from messages_app.services import message_create

pytestmark = pytest.mark.django_db

LIST = reverse("messages:list")
LOGIN = reverse("accounts:login")


def test_saving_a_message_redirects_with_a_flash_and_lists_it(alice_client, user):
    response = alice_client.post(LIST, {"text": "첫 번째 메시지"}, follow=True)

    assert response.redirect_chain == [(LIST, HTTPStatus.FOUND)]
    assert "Message saved." in [str(m) for m in response.context["messages"]]
    assert [m.text for m in response.context["page"]] == ["첫 번째 메시지"]
    assert Message.objects.get().author == user


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_bad_text_shows_the_error_next_to_the_field_and_saves_nothing(alice_client, text, assert_errors_described):
    response = alice_client.post(LIST, {"text": text})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors["text"]
    assert_errors_described(response.content.decode(), "id_text")
    assert not Message.objects.exists()


def test_script_in_a_message_is_shown_as_text(alice_client, user):
    message_create(author=user, text="<script>alert(1)</script>")

    content = alice_client.get(LIST).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_pages_of_twenty_newest_first(alice_client, user):
    for number in range(25):
        message_create(author=user, text=f"message {number}")

    first = alice_client.get(LIST).context["page"]
    second = alice_client.get(LIST, {"page": 2}).context["page"]
    beyond = alice_client.get(LIST, {"page": "nonsense"}).context["page"]

    assert [m.text for m in first] == [f"message {n}" for n in range(24, 4, -1)]
    assert [m.text for m in second] == [f"message {n}" for n in range(4, -1, -1)]
    assert beyond.number == 1


def test_search_box_filters_and_says_when_nothing_matches(alice_client, user):
    message_create(author=user, text="맛있는 김치찌개")
    message_create(author=user, text="pizza night")

    found = alice_client.get(LIST, {"q": "김치"})
    nothing = alice_client.get(LIST, {"q": "sushi"})

    assert [m.text for m in found.context["page"]] == ["맛있는 김치찌개"]
    assert "No results for “sushi”." in nothing.content.decode()


def test_empty_state(alice_client):
    assert "No messages yet" in alice_client.get(LIST).content.decode()


def test_delete_own_message(alice_client, user):
    message = message_create(author=user, text="bye")

    response = alice_client.post(reverse("messages:delete", args=[message.pk]))

    assert response.status_code == HTTPStatus.FOUND
    assert not Message.objects.exists()


def test_delete_is_post_only(alice_client, user):
    message = message_create(author=user, text="stay")

    assert alice_client.get(reverse("messages:delete", args=[message.pk])).status_code == 405
    assert Message.objects.exists()


def test_another_users_messages_are_invisible_and_undeletable(client, user, other_user):
    theirs = message_create(author=other_user, text="bob's secret")
    client.force_login(user)

    assert "bob&#x27;s secret" not in client.get(LIST).content.decode()
    assert list(client.get(LIST, {"q": "secret"}).context["page"]) == []
    response = client.post(reverse("messages:delete", args=[theirs.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Message.objects.filter(pk=theirs.pk).exists()


def test_a_page_past_the_end_shows_the_last_page_when_searching(alice_client, user):
    for number in range(25):
        message_create(author=user, text=f"needle {number}")

    page = alice_client.get(LIST, {"q": "needle", "page": 99}).context["page"]

    assert page.number == 2
    assert len(page.object_list) == 5


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


def test_front_door_redirects_by_login_state(client, user):
    assert client.get("/").url == LOGIN
    client.force_login(user)
    assert client.get("/").url == LIST
