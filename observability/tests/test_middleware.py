"""The one request middleware: request id, user, the http.request line and the activity entry."""

import time
import uuid
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware

from logs_app.store import activity_recent

pytestmark = pytest.mark.django_db


def request_lines(caplog) -> list:
    return [r for r in caplog.records if getattr(r, "event", None) == "http.request"]


@pytest.fixture
def log(caplog):
    caplog.set_level("INFO", logger="jiwoo")
    return caplog


def test_it_runs_outside_the_session_middleware():
    """Its duration includes the session save: it wraps SessionMiddleware."""
    order = settings.MIDDLEWARE
    assert order.index("observability.middleware.RequestMiddleware") < order.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )
    assert not any("RecentActivity" in name or "RequestContext" in name for name in order)


def test_a_valid_incoming_request_id_is_kept_and_returned(client, log):
    incoming = f"edge-{uuid.uuid4()}"
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming
    assert [r.request_id for r in request_lines(log)] == [incoming]


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, 'quote"d', "new\nline", "-starts-with-dash"])
def test_an_invalid_request_id_is_replaced(client, log, bad):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=bad)

    made = response["X-Request-ID"]
    assert made != bad
    assert len(made) == 32
    assert int(made, 16) >= 0
    assert [r.request_id for r in request_lines(log)] == [made]


def test_every_line_of_a_request_carries_its_request_id_and_user(alice_client, log):
    alice_client.post("/messages/", {"text": "hello"})

    lines = [r for r in log.records if r.name in ("jiwoo.events", "jiwoo.request")]
    assert {r.event for r in lines} == {"message.create", "http.request"}
    assert len({r.request_id for r in lines}) == 1
    assert {r.user for r in lines} == {"alice"}


def test_log_in_rebinds_the_user_and_log_out_keeps_who_sent_it(client, user, password, log):
    client.post("/accounts/login/", {"username": user.username, "password": password})
    client.post("/accounts/logout/")

    login_line, logout_line = request_lines(log)
    assert (login_line.user, login_line.action) == ("alice", "user.login")
    assert (logout_line.user, logout_line.action) == ("alice", "user.logout")
    entries = activity_recent(limit=2)
    assert [(e["user"], e["event"]) for e in entries] == [("alice", "user.logout"), ("alice", "user.login")]


def test_the_line_and_the_entry_tell_the_same_story(alice_client, log):
    alice_client.get("/messages/", {"q": "word"})

    (line,) = request_lines(log)
    (entry,) = activity_recent(limit=1)
    for field in ("method", "path", "route", "status", "duration_ms", "user"):
        assert getattr(line, field) == entry[field], field
    assert (line.action, entry["event"]) == ("message.search", "message.search")


def test_the_duration_includes_the_session_save(client, user, password, monkeypatch, log):
    delay = 0.05
    save = SessionMiddleware.process_response

    def slow_save(self, request, response):
        time.sleep(delay)  # stands in for a slow session store; the measurement must include it
        return save(self, request, response)

    monkeypatch.setattr(SessionMiddleware, "process_response", slow_save)
    client.post("/accounts/login/", {"username": user.username, "password": password})

    (line,) = request_lines(log)
    assert line.duration_ms >= delay * 1000


def test_a_server_error_is_an_error_line_with_its_status(alice_client, log, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("messages_app.views.message_page", broken)
    alice_client.raise_request_exception = False
    response = alice_client.get("/messages/")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    line = request_lines(log)[-1]
    assert (line.levelname, line.status) == ("ERROR", 500)


def test_request_log_and_activity_can_be_switched_off(settings, alice_client, log):
    from django.test import Client

    settings.REQUEST_LOG_ENABLED = False
    settings.RECENT_ACTIVITY_ENABLED = False
    fresh = Client()  # middleware reads its switches when the handler is built
    fresh.cookies = alice_client.cookies
    fresh.get("/messages/")

    assert request_lines(log) == []
    assert activity_recent(limit=5) == []


# What the middleware refuses, how it logs clients' mistakes, what it tells caches.


def test_a_body_over_the_limit_is_refused_before_it_is_read_with_its_line(client, log):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    page = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    api = client.post("/api/messages", body, content_type="application/json")

    assert page.status_code == api.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "too large" in page.content.decode()
    assert "too large" in api.json()["error"]
    assert [(line.path, line.status) for line in request_lines(log)] == [
        ("/accounts/login/", 413),
        ("/api/messages", 413),
    ]


def test_a_chunked_body_is_refused_before_it_is_read_with_its_line(client, log):
    page = client.post("/accounts/login/", "", content_type="text/plain", HTTP_TRANSFER_ENCODING="chunked")
    api = client.post("/api/messages", "", content_type="application/json", HTTP_TRANSFER_ENCODING="gzip, chunked")

    assert page.status_code == api.status_code == HTTPStatus.LENGTH_REQUIRED
    assert "Content-Length" in page.content.decode()
    assert "Content-Length" in api.json()["error"]
    assert [line.status for line in request_lines(log)] == [411, 411]


def test_a_value_the_database_cannot_take_is_a_400_not_a_500(admin_client, log):
    """The admin's filters pass a NUL character to the database; PostgreSQL refuses it."""
    from django.db import connection

    response = admin_client.get("/admin/auth/user/", {"username": "a\x00b"})

    expected = HTTPStatus.BAD_REQUEST if connection.vendor == "postgresql" else HTTPStatus.OK
    assert response.status_code == expected
    assert request_lines(log)[-1].status == expected


@pytest.mark.parametrize("path", ["/messages/", "/logs/", "/api/messages", "/api/logs/recent"])
def test_head_is_the_gets_headers_without_a_body(alice_client, path):
    get = alice_client.get(path)
    head = alice_client.head(path)

    assert head.status_code == get.status_code == HTTPStatus.OK
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) > 0


def test_a_form_with_too_many_fields_says_so(client, log):
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    page = client.post("/accounts/login/", fields)

    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert "too many fields (at most 1000)" in page.content.decode()
    assert request_lines(log)[-1].status == 400


def test_a_file_upload_is_refused_and_nothing_of_it_kept(client, log, tmp_path):
    upload = tmp_path / "big.bin"
    upload.write_bytes(b"x" * 1000)

    with upload.open("rb") as file:
        response = client.post("/accounts/login/", {"username": "a", "password": "b", "file": file})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Files cannot be uploaded here" in response.content.decode()
    assert request_lines(log)[-1].status == 400
    # Multipart forms without a file (what the test client sends) still work.
    assert client.post("/accounts/login/", {"username": "a", "password": "b"}).status_code == HTTPStatus.OK


def test_a_wrong_host_is_a_warning_without_a_stack_and_has_its_line(client, caplog):
    caplog.set_level("INFO")

    response = client.get("/accounts/login/", HTTP_HOST="evil.example")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    security = [r for r in caplog.records if r.name.startswith("django.security")]
    assert security, [r.name for r in caplog.records]
    assert all(r.levelname == "WARNING" for r in security)
    assert [r.levelname for r in caplog.records if r.levelno >= 40] == []
    assert request_lines(caplog)[-1].status == 400


def test_private_pages_and_api_answers_are_not_stored_by_any_cache(client, alice_client):
    anonymous = client.get("/accounts/signup/")
    page = alice_client.get("/messages/")
    api = alice_client.get("/api/messages")
    api_anonymous = client.get("/api/messages")

    for response in (page, api, api_anonymous):
        assert "private" in response["Cache-Control"]
        assert "no-store" in response["Cache-Control"]
    assert "no-store" in anonymous["Cache-Control"]  # never_cache, as before


def test_the_activity_entry_is_filed_under_the_users_id(alice_client, user):
    alice_client.get("/messages/")

    assert activity_recent(limit=1, user_id=user.pk)[0]["user"] == "alice"
