import json
from urllib.parse import parse_qs, urlparse

import pytest

from logs_app.grafana import grafana_links

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def panes_of(url: str) -> dict:
    return json.loads(parse_qs(urlparse(url).query)["panes"][0])["a"]


def test_no_links_without_grafana(settings):
    settings.GRAFANA_URL = ""

    assert grafana_links(TRACE_ID) is None


def test_links_open_the_trace_in_tempo_and_its_logs_in_loki(settings):
    settings.GRAFANA_URL = "https://grafana.example.com/"
    settings.GRAFANA_TEMPO_UID, settings.GRAFANA_LOKI_UID = "tempo-uid", "loki-uid"

    links = grafana_links(TRACE_ID)

    assert links["trace"].startswith("https://grafana.example.com/explore?")
    trace_pane, logs_pane = panes_of(links["trace"]), panes_of(links["logs"])
    assert trace_pane["datasource"] == "tempo-uid"
    assert trace_pane["queries"][0]["query"] == TRACE_ID
    assert logs_pane["datasource"] == "loki-uid"
    assert logs_pane["queries"][0]["expr"] == f'{{service_name="{settings.SERVICE_NAME}"}} | trace_id="{TRACE_ID}"'


@pytest.mark.django_db
def test_the_activity_page_links_trace_ids(alice_client, user, settings):
    settings.GRAFANA_URL = "https://grafana.example.com"
    from logs_app.store import activity_write

    activity_write([{"path": "/messages/", "user": "alice", "trace_id": TRACE_ID, "status": 200}], [user.pk])

    content = alice_client.get("/logs/").content.decode()

    assert 'href="https://grafana.example.com/explore?' in content
    assert f'<code class="trace-id">{TRACE_ID}</code></a>' in content
