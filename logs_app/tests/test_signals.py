"""What logs_app records by subscription: each completed request, and a deleted user's list deleted with them."""

from http import HTTPStatus

import pytest

from logs_app.store import activity_recent

pytestmark = pytest.mark.django_db

ENTRY_FIELDS = {"ts", "method", "path", "route", "status", "duration_ms", "user", "event", "trace_id", "service_name"}


def test_each_request_lands_in_redis_with_the_schema_fields(alice_client, settings):
    alice_client.post("/messages/", {"text": "recorded"})

    newest = activity_recent(limit=1)[0]

    assert set(newest) == ENTRY_FIELDS
    assert newest["method"] == "POST"
    assert newest["path"] == "/messages/"
    assert newest["route"] == "messages:list"
    assert newest["status"] == HTTPStatus.FOUND
    assert newest["user"] == "alice"
    assert newest["event"] == "message.create"
    assert newest["service_name"] == settings.SERVICE_NAME
    assert newest["duration_ms"] >= 0
    assert newest["ts"].endswith("Z")
    assert len(newest["ts"]) == len("2026-11-26T15:39:23.123Z")


def test_anonymous_requests_are_recorded_without_a_user(client):
    client.get("/accounts/login/")

    entry = activity_recent(limit=1)[0]

    assert entry["user"] is None
    assert entry["route"] == "accounts:login"


def test_a_new_account_with_a_deleted_users_name_sees_nothing_of_theirs(
    client, make_user, django_capture_on_commit_callbacks
):
    first = make_user("dana")
    first_id = first.pk
    client.force_login(first)
    client.get("/messages/")
    assert activity_recent(limit=10, user_id=first_id)

    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    second = make_user("dana")
    client.force_login(second)

    assert second.pk != first_id
    assert activity_recent(limit=10, user_id=first_id) == []  # the list went with the user
    page = client.get("/logs/").context["entries"]
    assert [e["path"] for e in page] == []  # the log-in of this test client is not a request
