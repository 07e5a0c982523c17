"""Spraying, look-alike names, sign-up floods, password-change guessing, what is kept of a username."""

from http import HTTPStatus

import pytest
from axes.models import AccessAttempt

from accounts.lockout import username_for_records

pytestmark = pytest.mark.django_db


def sign_up(client, username, password):
    return client.post("/accounts/signup/", {"username": username, "password1": password, "password2": password})


@pytest.mark.parametrize("username", ["\u0430lice", "p\u0430ypal", "j\u0456woo"])  # with a Cyrillic a, a and i
def test_look_alike_usernames_are_refused(client, password, username):
    response = sign_up(client, username, password)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "look-alike" in response.content.decode()


@pytest.mark.parametrize("username", ["alice2", "김민준", "jiwoo_42", "ölçü"])
def test_names_in_one_script_or_without_look_alikes_are_fine(client, password, username):
    assert sign_up(client, username, password).status_code == HTTPStatus.FOUND


def test_sign_ups_per_address_are_limited(client, settings, password):
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


def test_password_spraying_from_one_address_is_locked_out(client, settings, make_user, password):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    make_user("victim")
    mine = make_user("sprayer")
    for number in range(5):
        client.post("/accounts/login/", {"username": f"target{number}", "password": "Spring2026!"})
    # Logging into an account of one's own does not clear the address's count.
    assert (
        client.post("/accounts/login/", {"username": "sprayer", "password": password}).status_code == HTTPStatus.FOUND
    )
    client.post("/accounts/logout/")

    sixth = client.post("/accounts/login/", {"username": "target5", "password": "Spring2026!"})
    victim = client.post("/accounts/login/", {"username": "victim", "password": password})

    assert sixth.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert victim.status_code == HTTPStatus.TOO_MANY_REQUESTS  # even the right password, from this address
    elsewhere = client.__class__(REMOTE_ADDR="192.0.2.10")
    assert elsewhere.post("/accounts/login/", {"username": "victim", "password": password}).status_code == 302
    assert mine.pk


def test_one_username_from_one_address_keeps_its_own_lower_limit(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 200

    assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 429


def test_a_password_typed_as_username_is_neither_logged_nor_stored(client, user, caplog):
    secret = "Hunter2-my-real-password"
    client.post("/accounts/login/", {"username": secret, "password": "x"})
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    failed = [r for r in caplog.records if getattr(r, "event", None) == "user.login_failed"]
    assert [r.username_tried for r in failed] == [username_for_records(secret), "alice"]
    assert failed[0].username_tried.startswith("unknown:")
    for attempt in AccessAttempt.objects.all():
        stored = f"{attempt.username} {attempt.post_data} {attempt.get_data}"
        assert secret not in stored
        assert client.cookies["csrftoken"].value not in stored if "csrftoken" in client.cookies else True
    assert AccessAttempt.objects.filter(username="alice").exists()


def test_the_csrf_token_is_not_kept_in_the_attempts_table(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    client.post("/accounts/login/", {"username": "alice", "password": "wrong", "csrfmiddlewaretoken": token})

    (attempt,) = AccessAttempt.objects.all()
    assert token not in attempt.post_data
    assert "alice" not in attempt.post_data


def test_the_old_password_check_is_throttled_and_each_failure_is_an_event(alice_client, settings, password, caplog):
    settings.PASSWORD_CHANGE_FAILURE_LIMIT = 3
    new = "Another-long-passw0rd"
    for _ in range(3):
        wrong = alice_client.post(
            "/accounts/password/", {"old_password": "guess", "new_password1": new, "new_password2": new}
        )
        assert wrong.status_code == HTTPStatus.OK

    right = alice_client.post(
        "/accounts/password/", {"old_password": password, "new_password1": new, "new_password2": new}
    )

    assert right.status_code == HTTPStatus.OK  # refused: the form again, with the lock's error
    assert "Too many wrong passwords" in right.content.decode()
    events = [getattr(r, "event", None) for r in caplog.records]
    assert events.count("user.password_change_failed") == 3
    assert "user.password_change_locked" in events
    assert "user.password_change" not in events


def test_failures_during_a_lockout_do_not_grow_the_attempts_row(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    size = len(AccessAttempt.objects.get(username="alice").post_data)

    for _ in range(10):
        locked = client.post("/accounts/login/", {"username": "alice", "password": "wrong", "junk": "x" * 900})
        assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert len(AccessAttempt.objects.get(username="alice").post_data) == size


def test_a_name_taken_in_another_case_at_the_same_moment_is_a_form_error(client, settings, password, monkeypatch):
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


def test_the_database_holds_one_account_per_name_in_any_case(password):
    from django.contrib.auth.models import User
    from django.db import IntegrityError, transaction

    User.objects.create_user("alice", password=password)

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("ALICE", password=password)


def test_a_name_longer_than_any_username_is_no_account_whatever_it_begins_with(make_user):
    make_user("a" * 150)

    assert username_for_records("a" * 150) == "a" * 150
    assert username_for_records("a" * 151).startswith("unknown:")
    assert username_for_records("a" * 151) != username_for_records("a" * 152)
