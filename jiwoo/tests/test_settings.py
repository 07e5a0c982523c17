"""The settings as a process computes them from its environment: credentials from files, and a
PostgreSQL connection that a transaction-mode pooler can carry."""

import json
import os
import secrets
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client

from messages_app.models import Message
from messages_app.services import message_create

ROOT = Path(__file__).resolve().parents[2]

READ = (
    "import json, jiwoo.settings as s; d = s.DATABASES['default']; "
    "print(json.dumps({'secret_key': s.SECRET_KEY, 'engine': d['ENGINE'], 'options': d.get('OPTIONS', {}), "
    "'password': d.get('PASSWORD'), 'host': d.get('HOST'), 'atomic': d.get('ATOMIC_REQUESTS'), "
    "'no_cursors': d.get('DISABLE_SERVER_SIDE_CURSORS'), 'redis_url': s.REDIS_URL, "
    "'redis_password': s.REDIS_PASSWORD, 'cache_password': s.CACHES['default']['OPTIONS'].get('PASSWORD')}))"
)
CREDENTIALS = ("DJANGO_SECRET_KEY", "DATABASE_URL", "DATABASE_PASSWORD", "REDIS_URL", "REDIS_PASSWORD")


def settings_with(env: dict) -> subprocess.CompletedProcess:
    """Import the settings in a new process whose environment is ``env`` and no other credential."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIALS) and not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def read(env: dict) -> dict:
    result = settings_with(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_credential_may_come_from_a_file(tmp_path):
    files = {
        "DJANGO_SECRET_KEY": "key-from-a-file",
        "DATABASE_URL": "postgres://jiwoo@db.example:6432/jiwoo?sslmode=verify-full&sslrootcert=system",
        "DATABASE_PASSWORD": "$db pass/with:odd@chars",
        "REDIS_URL": "rediss://cache.example:6380/0",
        "REDIS_PASSWORD": "access+key/==",
    }
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")  # as `kubectl create secret --from-file` may leave it

    settings = read({f"{name}_FILE": str(tmp_path / name) for name in files})

    assert settings["secret_key"] == "key-from-a-file"
    assert settings["host"] == "db.example"
    assert settings["options"]["sslmode"] == "verify-full"
    assert settings["options"]["sslrootcert"] == "system"
    assert settings["password"] == "$db pass/with:odd@chars"
    assert settings["redis_url"] == "rediss://cache.example:6380/0"
    assert settings["redis_password"] == settings["cache_password"] == "access+key/=="


def test_a_credential_and_its_file_together_stop_the_start(tmp_path):
    (tmp_path / "key").write_text("one")

    result = settings_with({"DJANGO_SECRET_KEY": "two", "DJANGO_SECRET_KEY_FILE": str(tmp_path / "key")})

    assert result.returncode != 0
    assert "Both DJANGO_SECRET_KEY and DJANGO_SECRET_KEY_FILE are set" in result.stderr


def test_without_a_secret_key_the_start_says_how_to_give_one():
    result = settings_with({})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY_FILE" in result.stderr


def test_postgresql_sets_nothing_for_the_session():
    """PgBouncer in transaction mode refuses the `options` startup parameter (and closes the
    connection); a server-side cursor and a view's statements outside one transaction could land
    on another server session."""
    settings = read({"DJANGO_SECRET_KEY": "x", "DATABASE_URL": "postgres://u@db.invalid:6432/x"})

    assert settings["engine"] == "core.postgresql"
    assert "options" not in settings["options"]
    assert settings["atomic"] is True
    assert settings["no_cursors"] is True


def test_sqlite_keeps_its_own_transactions():
    """On SQLite a transaction per view would take the one write lock for every page."""
    settings = read({"DJANGO_SECRET_KEY": "x", "DATABASE_URL": "sqlite:////tmp/jiwoo-settings-test.sqlite3"})

    assert settings["engine"] == "django.db.backends.sqlite3"
    assert not settings["atomic"]


# What the settings secure on every page: CSRF, escaping, the security headers, no inline script.

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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_no_page_has_an_inline_script(alice_client, user):
    message_create(author=user, text="hello")
    for url in ("/messages/", "/logs/", "/accounts/password/"):
        content = alice_client.get(url).content.decode()
        assert content.count("<script") == content.count('<script src="/static/'), url


# The production settings: check --deploy passes, and no start without a secret key.


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
