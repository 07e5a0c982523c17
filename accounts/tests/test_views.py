"""Sign-up, log-in, log-out and the pages that need a log-in."""

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

SIGNUP = reverse("accounts:signup")
LOGIN = reverse("accounts:login")
LOGOUT = reverse("accounts:logout")
MESSAGES = reverse("messages:list")


def test_signup_logs_the_new_user_in_and_lands_on_messages(client, password):
    response = client.post(SIGNUP, {"username": "dana", "password1": password, "password2": password})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == MESSAGES
    assert client.get(MESSAGES).context["user"].username == "dana"


def test_signup_with_mismatched_passwords_shows_the_error_at_the_field(client, password, assert_errors_described):
    response = client.post(SIGNUP, {"username": "dana", "password1": password, "password2": password + "x"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "password2" in response.context["form"].errors
    assert_errors_described(response.content.decode(), "id_password2")
    assert not get_user_model().objects.filter(username="dana").exists()


@pytest.mark.parametrize("weak", ["short", "password123", "12345678901", "qwertyuiop"])
def test_signup_refuses_weak_passwords(client, weak):
    response = client.post(SIGNUP, {"username": "dana", "password1": weak, "password2": weak})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="dana").exists()


def test_signup_refuses_a_taken_username(client, user, password):
    response = client.post(SIGNUP, {"username": user.username, "password1": password, "password2": password})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "username" in response.context["form"].errors
    assert get_user_model().objects.count() == 1


def test_login_with_the_right_password(client, user, password):
    response = client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == MESSAGES
    assert client.get(MESSAGES).status_code == HTTPStatus.OK


def test_login_with_a_bad_password_says_so_and_logs_nobody_in(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": "wrong"})

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].non_field_errors()
    assert client.get(MESSAGES).status_code == HTTPStatus.FOUND


def test_login_honours_a_same_site_next(client, user, password):
    response = client.post(f"{LOGIN}?next=/logs/", {"username": user.username, "password": password, "next": "/logs/"})

    assert response.url == "/logs/"


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/", "http://evil.example/messages/"])
def test_login_ignores_a_next_to_another_site(client, user, password, unsafe):
    response = client.post(LOGIN, {"username": user.username, "password": password, "next": unsafe})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == MESSAGES


def test_logout_is_post_only_and_logs_out(alice_client):
    assert alice_client.get(LOGOUT).status_code == HTTPStatus.METHOD_NOT_ALLOWED

    response = alice_client.post(LOGOUT)

    assert response.url == LOGIN
    assert alice_client.get(MESSAGES).url.startswith(LOGIN)


def test_pages_need_a_login(client):
    for url in (MESSAGES, reverse("logs:recent")):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == f"{LOGIN}?next={url}"


def test_admin_is_for_staff_only(client, user, staff_user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith("/admin/login/")

    client.force_login(staff_user)
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_signup_is_the_requests_event_after_its_log_in(client, password, caplog):
    caplog.set_level("INFO", logger="jiwoo")

    client.post(SIGNUP, {"username": "erin", "password1": password, "password2": password})

    events = [getattr(r, "event", None) for r in caplog.records if r.name in ("jiwoo.events", "jiwoo.request")]
    assert events == ["user.login", "user.signup", "http.request"]
    request_line = next(r for r in caplog.records if r.name == "jiwoo.request")
    assert request_line.action == "user.signup"
    assert request_line.user == "erin"


def test_sign_ups_per_address_are_limited(client, settings, password, sign_up):
    settings.SIGNUP_RATE_LIMIT = 2
    for number in range(2):
        assert sign_up(client, f"user{number}", password).status_code == HTTPStatus.FOUND
        client.post("/accounts/logout/")

    refused = sign_up(client, "user2", password)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many accounts" in refused.content.decode()
    # From another address it still works.
    assert sign_up(client, "user3", password).status_code == HTTPStatus.TOO_MANY_REQUESTS
    other = client.__class__(REMOTE_ADDR="192.0.2.9")
    assert sign_up(other, "user3", password).status_code == HTTPStatus.FOUND


def test_a_name_taken_in_another_case_at_the_same_moment_is_a_form_error(
    client, settings, password, monkeypatch, sign_up
):
    """Two sign-ups together: both pass the form's check, the database refuses the second."""
    from django.contrib.auth.forms import UserCreationForm
    from django.contrib.auth.models import User

    settings.SIGNUP_RATE_LIMIT = 1
    monkeypatch.setattr(UserCreationForm, "clean_username", lambda form: form.cleaned_data["username"])
    User.objects.create_user("alice", password=password)  # the other request's insert

    response = sign_up(client, "Alice", password)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "A user with that username already exists." in response.content.decode()
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]
    # The failed sign-up gave its place back.
    other = client.__class__()
    assert sign_up(other, "bob", password).status_code == HTTPStatus.FOUND
