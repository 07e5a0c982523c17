"""The user admin: each user's message count, and the sign-up's rules on names when adding or renaming."""

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model

from messages_app.services import message_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    admin = get_user_model().objects.create_superuser("root", password="x-admin-Passw0rd")
    client.force_login(admin)
    return client


def test_user_admin_lists_message_counts(admin_client_, user):
    message_create(author=user, text="one")
    message_create(author=user, text="two")

    response = admin_client_.get("/admin/auth/user/")

    assert response.status_code == HTTPStatus.OK
    row = next(obj for obj in response.context["cl"].result_list if obj.username == user.username)
    assert row.message_count == 2


def test_the_admin_adds_no_look_alike_name(admin_client_):
    response = admin_client_.post(
        "/admin/auth/user/add/",
        {"username": "\u0430dmin", "usable_password": "false", "password1": "", "password2": ""},
    )

    assert response.status_code == HTTPStatus.OK  # the form again, with its error
    assert "look-alike letters" in response.content.decode()
    assert not get_user_model().objects.filter(username="\u0430dmin").exists()


@pytest.mark.parametrize(("new_name", "error"), [("BOB", "already exists"), ("b\u043eb2", "look-alike letters")])
def test_the_admin_renames_no_one_to_a_taken_or_look_alike_name(admin_client_, user, other_user, new_name, error):
    response = admin_client_.post(
        f"/admin/auth/user/{user.pk}/change/",
        {"username": new_name, "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )

    assert response.status_code == HTTPStatus.OK
    assert error in response.content.decode()
    user.refresh_from_db()
    assert user.username == "alice"
