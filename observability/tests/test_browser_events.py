import json
from http import HTTPStatus

import pytest
from django.test import Client

from observability.browser_events import MAX_BODY_BYTES, RATE_LIMIT_PER_MINUTE

URL = "/api/events"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def post(client, body):
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, payload, content_type="application/json")


def page_load(**timing):
    return {"name": "page.load", "path": "/messages/", "timing": timing or {"ttfb_ms": 12.5, "load_ms": 80}}


@pytest.mark.django_db
def test_page_load_is_logged_for_the_frontend_service_in_the_pages_trace(client, caplog, settings):
    caplog.set_level("INFO", logger="jiwoo.browser")

    response = post(client, {"trace_id": TRACE_ID, "events": [page_load()]})

    assert response.status_code == HTTPStatus.NO_CONTENT
    record = next(r for r in caplog.records if r.name == "jiwoo.browser")
    assert record.service_name == f"{settings.SERVICE_NAME}-frontend"
    assert record.trace_id == TRACE_ID
    assert record.event == "browser.page.load"
    assert record.timing == {"ttfb_ms": 12.5, "load_ms": 80.0}


@pytest.mark.django_db
def test_clicks_on_tracked_elements_are_logged(client, caplog):
    caplog.set_level("INFO", logger="jiwoo.browser")

    response = post(client, {"events": [{"name": "click", "path": "/messages/", "target": "messages.save"}]})

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert [r.target for r in caplog.records if r.name == "jiwoo.browser"] == ["messages.save"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        {"events": []},
        {"events": "page.load"},
        {"events": [page_load()] * 21},
        {"events": [{"name": "keypress", "path": "/"}]},
        {"events": [{"name": "click", "path": "/", "target": "<script>"}]},
        {"events": [{"name": "click", "path": "/", "target": "x" * 65}]},
        {"events": [{"name": "click", "path": "https://evil.example/", "target": "a"}]},
        {"events": [{"name": "click", "path": "/", "target": "a", "extra": 1}]},
        {"events": [page_load(load_ms=-1)]},
        {"events": [page_load(load_ms=True)]},
        {"events": [page_load(load_ms="12")]},
        {"events": [page_load(load_ms=1e12)]},
        {"events": [page_load(paint_ms=3)]},
        {"trace_id": "XYZ", "events": [page_load()]},
        {"trace_id": 42, "events": [page_load()]},
        {"events": [page_load()], "user": "admin"},
    ],
)
def test_bad_payloads_get_a_400_and_log_nothing(client, caplog, body):
    caplog.set_level("INFO", logger="jiwoo.browser")

    response = post(client, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]
    assert not [r for r in caplog.records if r.name == "jiwoo.browser"]


@pytest.mark.django_db
def test_oversized_bodies_are_refused(client):
    response = post(client, {"events": [page_load()], "trace_id": TRACE_ID, "pad": "x" * MAX_BODY_BYTES})

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@pytest.mark.django_db
def test_csrf_is_required(user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)

    response = post(csrf_client, {"events": [page_load()]})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"]


@pytest.mark.django_db
def test_each_session_is_rate_limited(alice_client):
    batch = {"events": [page_load()] * 20}
    statuses = [post(alice_client, batch).status_code for _ in range(RATE_LIMIT_PER_MINUTE // 20 + 1)]

    assert statuses[:-1] == [HTTPStatus.NO_CONTENT] * (RATE_LIMIT_PER_MINUTE // 20)
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS


def test_only_post(client):
    response = client.get(URL)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"
