"""The recent-activity page: its table, its states, its Grafana links and what static/js/activity.js reads."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from logs_app.grafana import grafana_links
from logs_app.templatetags.activity import TRACE_ID_PLACEHOLDER

pytestmark = pytest.mark.django_db

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def attribute(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, name
    return match.group(1).replace("&amp;", "&").replace("&quot;", '"')


def test_page_carries_the_script_and_the_api_it_polls(alice_client):
    alice_client.get("/messages/")

    html = alice_client.get(reverse("logs:recent")).content.decode()

    assert '<script src="/static/js/activity.js" defer></script>' in html
    assert "<script>" not in html  # the CSP allows no inline script
    assert attribute(html, "data-source") == "/api/logs/recent?limit=50"
    # The controls wait for the script; without it the server's table and a note are the page.
    assert re.search(r'<div class="activity-controls" hidden>', html)
    assert 'data-key="' in html
    assert 'data-status="200"' in html
    assert 'data-method="GET"' in html


def test_link_templates_make_the_servers_links(alice_client, settings):
    settings.GRAFANA_URL = "https://grafana.example.com"
    alice_client.get("/messages/")

    html = alice_client.get(reverse("logs:recent")).content.decode()

    expected = grafana_links(TRACE_ID)
    assert attribute(html, "data-trace-link").replace(TRACE_ID_PLACEHOLDER, TRACE_ID) == expected["trace"]
    assert attribute(html, "data-logs-link").replace(TRACE_ID_PLACEHOLDER, TRACE_ID) == expected["logs"]


def test_no_links_without_grafana(alice_client, settings):
    settings.GRAFANA_URL = ""

    html = alice_client.get(reverse("logs:recent")).content.decode()

    assert attribute(html, "data-trace-link") == ""


def test_empty_and_unavailable_states_are_both_in_the_page(alice_client, redis_down):
    response = alice_client.get(reverse("logs:recent"))
    html = response.content.decode()

    assert response.status_code == HTTPStatus.OK
    assert re.search(r'class="notice notice-warning activity-unavailable" role="alert">', html)
    assert re.search(r'class="empty activity-empty" hidden>', html)


def test_the_live_strings_are_translated(alice_client):
    html = alice_client.get(reverse("logs:recent"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert attribute(html, "data-text-live") == "실시간: 몇 초마다 새로 고침"
    assert attribute(html, "data-text-hidden") == "탭이 숨겨져 있어 일시 중지됨"


def test_activity_page_shows_the_table(alice_client):
    alice_client.get("/messages/")

    response = alice_client.get(reverse("logs:recent"))

    assert response.status_code == HTTPStatus.OK
    assert "<table" in response.content.decode()
    assert response.context["entries"][0]["route"] == "messages:list"


def test_activity_page_says_unavailable_and_api_answers_503(alice_client, redis_down):
    page = alice_client.get(reverse("logs:recent"))
    api = alice_client.get("/api/logs/recent")

    assert page.status_code == HTTPStatus.OK
    assert "Recent activity is unavailable" in page.content.decode()
    assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "unavailable" in api.json()["error"]


def test_the_activity_page_links_trace_ids(alice_client, user, settings):
    settings.GRAFANA_URL = "https://grafana.example.com"
    from logs_app.store import activity_write

    activity_write([{"path": "/messages/", "user": "alice", "trace_id": TRACE_ID, "status": 200}], [user.pk])

    content = alice_client.get("/logs/").content.decode()

    assert 'href="https://grafana.example.com/explore?' in content
    assert f'<code class="trace-id">{TRACE_ID}</code></a>' in content
