"""Log-in lockouts (django-axes as accounts/lockout.py sets it up) and what is kept of a username tried."""

from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from accounts.lockout import username_for_records

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def failed_login(client, username, address):
    return client.post(LOGIN, {"username": username, "password": "wrong-password"}, REMOTE_ADDR=address)


class TestLoginThrottling:
    def test_repeated_failures_lock_that_username_and_address_out(self, client, user, password, settings, caplog):
        caplog.set_level("INFO", logger="jiwoo.events")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert failed_login(client, user.username, "10.0.0.1").status_code == HTTPStatus.OK

        locked = failed_login(client, user.username, "10.0.0.1")
        even_right = client.post(LOGIN, {"username": user.username, "password": password}, REMOTE_ADDR="10.0.0.1")

        assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "Too many failed log-ins" in locked.content.decode()
        assert even_right.status_code == HTTPStatus.TOO_MANY_REQUESTS
        failures = [r for r in caplog.records if getattr(r, "event", None) == "user.login_failed"]
        assert len(failures) >= settings.AXES_FAILURE_LIMIT
        assert failures[-1].locked_out is True
        assert all(r.username_tried == user.username for r in failures)

    def test_the_right_password_from_elsewhere_still_works(self, client, user, password, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            failed_login(client, user.username, "10.0.0.1")

        response = client.post(LOGIN, {"username": user.username, "password": password}, REMOTE_ADDR="10.0.0.2")

        assert response.status_code == HTTPStatus.FOUND
        assert response.url == reverse("messages:list")

    def test_the_lockout_page_is_translated(self, client, user, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = client.post(
                LOGIN, {"username": user.username, "password": "x"}, REMOTE_ADDR="10.0.0.9", HTTP_ACCEPT_LANGUAGE="ko"
            )
        assert "로그인 실패가 너무 많습니다" in response.content.decode()


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


def test_failures_during_a_lockout_do_not_grow_the_attempts_row(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    size = len(AccessAttempt.objects.get(username="alice").post_data)

    for _ in range(10):
        locked = client.post("/accounts/login/", {"username": "alice", "password": "wrong", "junk": "x" * 900})
        assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert len(AccessAttempt.objects.get(username="alice").post_data) == size


def test_a_name_longer_than_any_username_is_no_account_whatever_it_begins_with(make_user):
    make_user("a" * 150)

    assert username_for_records("a" * 150) == "a" * 150
    assert username_for_records("a" * 151).startswith("unknown:")
    assert username_for_records("a" * 151) != username_for_records("a" * 152)
