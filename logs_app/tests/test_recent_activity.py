import time
from http import HTTPStatus

import pytest
from django.urls import reverse

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


def test_static_files_and_browser_telemetry_are_not_recorded(alice_client):
    alice_client.get("/static/css/jiwoo.css")
    alice_client.post("/api/otlp/v1/traces", {"resourceSpans": []}, "application/json")

    assert activity_recent(limit=10) == []


def test_the_cap_holds(alice_client, user, settings):
    settings.RECENT_LOGS_MAX = 5
    for number in range(8):
        alice_client.get("/messages/", {"page": number + 1})

    everyone = activity_recent(limit=100)
    own = activity_recent(limit=100, user_id=user.pk)

    assert len(everyone) == 5
    assert len(own) == 5
    assert everyone[0]["path"] == "/messages/"


def test_staff_see_everyone_and_others_only_themselves(client, user, other_user, staff_user):
    client.force_login(user)
    client.get("/messages/", {"q": "from-alice"})
    client.force_login(other_user)
    client.get("/messages/", {"q": "from-bob"})

    bob_sees = client.get(reverse("logs:recent")).context["entries"]
    bob_api = client.get("/api/logs/recent").json()["results"]
    client.force_login(staff_user)
    staff_api = client.get("/api/logs/recent", {"limit": 200}).json()["results"]

    assert {e["user"] for e in bob_sees} == {"bob"}
    assert {e["user"] for e in bob_api} == {"bob"}
    assert {"alice", "bob"} <= {e["user"] for e in staff_api}


def test_activity_page_shows_the_table(alice_client):
    alice_client.get("/messages/")

    response = alice_client.get(reverse("logs:recent"))

    assert response.status_code == HTTPStatus.OK
    assert "<table" in response.content.decode()
    assert response.context["entries"][0]["route"] == "messages:list"


@pytest.mark.parametrize("limit", ["0", "201", "-5", "ten"])
def test_bad_limit_is_400(alice_client, limit):
    response = alice_client.get("/api/logs/recent", {"limit": limit})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "limit" in response.json()["error"]


def test_limit_is_honoured_newest_first(alice_client):
    for number in range(3):
        alice_client.get("/messages/", {"page": number + 1})

    results = alice_client.get("/api/logs/recent", {"limit": 2}).json()["results"]

    assert len(results) == 2
    assert results[0]["path"] == "/messages/"


class TestRedisUnreachable:
    """REDIS_URL at a closed port: everything but recent activity works, and fast."""

    def test_pages_still_work(self, client, user, password, redis_down):
        response = client.post("/accounts/login/", {"username": user.username, "password": password})
        assert response.status_code == HTTPStatus.FOUND

        saved = client.post("/messages/", {"text": "saved while redis is down"}, follow=True)
        assert saved.status_code == HTTPStatus.OK
        assert [m.text for m in saved.context["page"]] == ["saved while redis is down"]

    def test_activity_page_says_unavailable_and_api_answers_503(self, alice_client, redis_down):
        page = alice_client.get(reverse("logs:recent"))
        api = alice_client.get("/api/logs/recent")

        assert page.status_code == HTTPStatus.OK
        assert "Recent activity is unavailable" in page.content.decode()
        assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert "unavailable" in api.json()["error"]

    def test_no_request_takes_longer_than_the_timeout_budget(self, alice_client, redis_down, settings):
        budget = settings.REDIS_TIMEOUT_SECONDS + 0.05
        for url in ("/messages/", "/logs/", "/api/logs/recent", "/api/messages"):
            started = time.perf_counter()
            alice_client.get(url)
            assert time.perf_counter() - started < budget, url
