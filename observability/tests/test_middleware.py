"""The one request middleware: request id, user, the http.request line and the activity entry."""

import time
import uuid
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware

from logs_app.store import activity_recent

pytestmark = pytest.mark.django_db


def test_it_runs_outside_the_session_middleware():
    """Its duration includes the session save: it wraps SessionMiddleware."""
    order = settings.MIDDLEWARE
    assert order.index("observability.middleware.RequestMiddleware") < order.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )
    assert not any("RecentActivity" in name or "RequestContext" in name for name in order)


def test_a_valid_incoming_request_id_is_kept_and_returned(client, log, request_lines):
    incoming = f"edge-{uuid.uuid4()}"
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming
    assert [r.request_id for r in request_lines(log)] == [incoming]


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, 'quote"d', "new\nline", "-starts-with-dash"])
def test_an_invalid_request_id_is_replaced(client, log, bad, request_lines):
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


def test_log_in_rebinds_the_user_and_log_out_keeps_who_sent_it(client, user, password, log, request_lines):
    client.post("/accounts/login/", {"username": user.username, "password": password})
    client.post("/accounts/logout/")

    login_line, logout_line = request_lines(log)
    assert (login_line.user, login_line.action) == ("alice", "user.login")
    assert (logout_line.user, logout_line.action) == ("alice", "user.logout")
    entries = activity_recent(limit=2)
    assert [(e["user"], e["event"]) for e in entries] == [("alice", "user.logout"), ("alice", "user.login")]


def test_the_line_and_the_entry_tell_the_same_story(alice_client, log, request_lines):
    alice_client.get("/messages/", {"q": "word"})

    (line,) = request_lines(log)
    (entry,) = activity_recent(limit=1)
    for field in ("method", "path", "route", "status", "duration_ms", "user"):
        assert getattr(line, field) == entry[field], field
    assert (line.action, entry["event"]) == ("message.search", "message.search")


def test_the_duration_includes_the_session_save(client, user, password, monkeypatch, log, request_lines):
    delay = 0.05
    save = SessionMiddleware.process_response

    def slow_save(self, request, response):
        time.sleep(delay)  # stands in for a slow session store; the measurement must include it
        return save(self, request, response)

    monkeypatch.setattr(SessionMiddleware, "process_response", slow_save)
    client.post("/accounts/login/", {"username": user.username, "password": password})

    (line,) = request_lines(log)
    assert line.duration_ms >= delay * 1000


def test_a_server_error_is_an_error_line_with_its_status(alice_client, log, monkeypatch, request_lines):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("messages_app.views.message_page", broken)
    alice_client.raise_request_exception = False
    response = alice_client.get("/messages/")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    line = request_lines(log)[-1]
    assert (line.levelname, line.status) == ("ERROR", 500)


def test_request_log_and_activity_can_be_switched_off(settings, alice_client, log, request_lines):
    from django.test import Client

    settings.REQUEST_LOG_ENABLED = False
    settings.RECENT_ACTIVITY_ENABLED = False
    fresh = Client()  # middleware reads its switches when the handler is built
    fresh.cookies = alice_client.cookies
    fresh.get("/messages/")

    assert request_lines(log) == []
    assert activity_recent(limit=5) == []


def test_the_activity_entry_is_filed_under_the_users_id(alice_client, user):
    alice_client.get("/messages/")

    assert activity_recent(limit=1, user_id=user.pk)[0]["user"] == "alice"


@pytest.mark.parametrize(("path", "instrumented"), [("/api/otlp/v1/traces", False), ("/messages/", True)])
def test_the_browsers_telemetry_makes_no_spans(rf, path, instrumented):
    """The relay's requests have no server span; their session and user lookups make none either
    (each would be a trace of its own in Tempo and in the trace view)."""
    from django.http import HttpResponse
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    from observability.middleware import RequestMiddleware

    seen = []

    def view(request):
        seen.append(is_instrumentation_enabled())
        return HttpResponse()

    RequestMiddleware(view)(rf.post(path))

    assert seen == [instrumented]
