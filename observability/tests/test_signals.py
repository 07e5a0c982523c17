"""request_completed: once per request, with the line's fields and the user's id; not for static or telemetry paths."""

from http import HTTPStatus

import pytest

from logs_app.store import activity_recent
from observability.middleware import RequestMiddleware
from observability.signals import request_completed

pytestmark = pytest.mark.django_db

SUMMARY_FIELDS = {"method", "path", "route", "status", "duration_ms", "user", "event", "trace_id"}


@pytest.fixture
def completed():
    """What a receiver connected for the test is sent: (sender, summary, user_id) per signal."""
    received = []

    def receiver(sender, summary, user_id, **kwargs):
        received.append((sender, summary, user_id))

    request_completed.connect(receiver, weak=False)
    yield received
    request_completed.disconnect(receiver)


def test_each_request_is_sent_once_with_its_lines_fields_and_user_id(alice_client, user, completed, log, request_lines):
    alice_client.get("/messages/", {"q": "word"})

    ((sender, summary, user_id),) = completed
    (line,) = request_lines(log)
    assert sender is RequestMiddleware
    assert set(summary) == SUMMARY_FIELDS
    assert (summary["method"], summary["path"], summary["route"]) == ("GET", "/messages/", "messages:list")
    assert (summary["status"], summary["user"], summary["event"]) == (HTTPStatus.OK, "alice", "message.search")
    assert user_id == user.pk
    for field in ("method", "path", "route", "status", "duration_ms", "user"):
        assert getattr(line, field) == summary[field], field


def test_an_anonymous_request_is_sent_without_a_user(client, completed):
    client.get("/accounts/login/")

    ((_, summary, user_id),) = completed
    assert (summary["user"], user_id) == (None, None)


def test_nothing_is_sent_for_static_paths_or_the_browsers_telemetry(alice_client, completed):
    alice_client.get("/static/css/jiwoo.css")  # served by WhiteNoise, in front of the middleware
    missing = alice_client.get("/static/css/no-such-file.css")  # reaches Django: its 404
    alice_client.post("/api/otlp/v1/traces", {"resourceSpans": []}, "application/json")

    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert completed == []
    alice_client.get("/messages/")
    assert len(completed) == 1


def test_static_files_and_browser_telemetry_are_not_recorded(alice_client):
    alice_client.get("/static/css/jiwoo.css")
    alice_client.post("/api/otlp/v1/traces", {"resourceSpans": []}, "application/json")

    assert activity_recent(limit=10) == []
