"""Bad input and abuse, through the Django test client: throttling, CSRF, XSS, headers, settings."""

import os
import secrets
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from messages_app.models import Message
from messages_app.services import message_create

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
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


WRONG_METHODS = [
    ("delete", "/messages/", "GET, HEAD, POST"),
    ("put", "/messages/", "GET, HEAD, POST"),
    ("get", "/messages/{pk}/delete/", "POST"),
    ("delete", "/logs/", "GET, HEAD"),
    ("options", "/logs/", "GET, HEAD"),
    ("patch", "/accounts/signup/", "GET, HEAD, POST"),
    ("get", "/accounts/logout/", "POST"),
    ("delete", "/", "GET, HEAD"),
]


@pytest.mark.parametrize(("method", "url", "allowed"), WRONG_METHODS)
def test_a_page_asked_with_a_method_it_does_not_take_is_the_405_page(alice_client, caplog, method, url, allowed):
    message = message_create(author=User.objects.get(username="alice"), text="kept")
    caplog.set_level("INFO", logger="jiwoo.events")

    response = getattr(alice_client, method)(url.format(pk=message.pk))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"].startswith(allowed)
    assert response["Content-Type"].startswith("text/html")
    assert "Method not allowed" in response.content.decode()
    assert Message.objects.filter(pk=message.pk).exists()
    assert not [r for r in caplog.records if getattr(r, "event", None) == "page.view"]


def test_head_is_still_answered_as_get(alice_client):
    assert alice_client.head("/messages/").status_code == HTTPStatus.OK
    assert alice_client.head("/logs/").status_code == HTTPStatus.OK


UNSAFE = [
    ("post", "/messages/", {"text": "x"}),
    ("post", "/messages/{pk}/delete/", {}),
    ("post", "/accounts/logout/", {}),
    ("post", "/accounts/signup/", {"username": "z", "password1": "A-long-passw0rd", "password2": "A-long-passw0rd"}),
    ("post", "/accounts/login/", {"username": "alice", "password": "x"}),
    ("post", "/accounts/password/", {}),
    ("post", "/i18n/setlang/", {"language": "ko"}),
    ("post", "/api/messages", '{"text": "x"}'),
    ("delete", "/api/messages/{pk}", None),
    ("post", "/api/otlp/v1/traces", '{"resourceSpans": []}'),
]


@pytest.mark.parametrize(("method", "url", "data"), UNSAFE)
def test_every_unsafe_method_needs_the_csrf_token(user, method, url, data):
    message = message_create(author=user, text="keep me")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/messages/")  # a csrftoken cookie exists, but the request does not carry it
    target = url.format(pk=message.pk)

    if isinstance(data, str):
        response = getattr(client, method)(target, data, content_type="application/json")
    else:
        response = getattr(client, method)(target, data or {})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Message.objects.filter(pk=message.pk).exists()
    assert Message.objects.count() == 1
    if target.startswith("/api/"):
        assert response.json()["error"]
    else:
        assert "The form could not be verified" in response.content.decode()
        assert 'href="/static/css/jiwoo.css"' in response.content.decode()


class TestEscaping:
    """Whatever a user types is shown as text on every page that shows it."""

    PAYLOAD = '<img src=x onerror="alert(1)"><script>alert(2)</script>'

    def test_messages_page_and_search_box(self, alice_client, user):
        message_create(author=user, text=self.PAYLOAD)

        listed = alice_client.get("/messages/").content.decode()
        searched = alice_client.get("/messages/", {"q": self.PAYLOAD}).content.decode()

        for content in (listed, searched):
            assert self.PAYLOAD not in content
            assert "&lt;script&gt;alert(2)&lt;/script&gt;" in content

    def test_activity_page_escapes_recorded_paths(self, client, staff_user):
        client.force_login(staff_user)
        client.get("/<script>alert(3)</script>/")

        content = client.get("/logs/").content.decode()

        assert "<script>alert(3)</script>" not in content
        assert "&lt;script&gt;alert(3)&lt;/script&gt;" in content

    def test_admin_escapes_message_text(self, client, user):
        from django.contrib.auth import get_user_model

        message_create(author=user, text="<script>alert(2)</script>")
        admin = get_user_model().objects.create_superuser("root", password="x-admin-Passw0rd")
        client.force_login(admin)

        content = client.get("/admin/messages_app/message/").content.decode()

        assert "<script>alert(2)</script>" not in content
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in content


def test_security_headers_on_every_page(client, user):
    client.force_login(user)
    for url in ("/messages/", "/logs/", "/accounts/password/", "/no-such-page/"):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert "'unsafe-inline'" not in directives["script-src"], url
        assert "'unsafe-eval'" not in directives["script-src"], url
        assert directives["frame-ancestors"] == "'none'"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


def test_no_page_has_an_inline_script(alice_client, user):
    message_create(author=user, text="hello")
    for url in ("/messages/", "/logs/", "/accounts/password/"):
        content = alice_client.get(url).content.decode()
        assert content.count("<script") == content.count('<script src="/static/'), url


def run_settings(env: dict, code: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTEL_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "jiwoo.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy_and_are_secure():
    key = secrets.token_urlsafe(50)
    result = run_settings(
        {"DJANGO_SECRET_KEY": key, "DJANGO_ALLOWED_HOSTS": "jiwoo.example.com"},
        "import django, sys; django.setup(); from django.conf import settings as s;"
        "from django.core.management import call_command;"
        "call_command('check', '--deploy', '--fail-level', 'WARNING');"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0,"
        " s.SECURE_SSL_REDIRECT, s.DEBUG)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True True True False"
    assert "System check identified no issues" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({}, "import django; django.setup()")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
