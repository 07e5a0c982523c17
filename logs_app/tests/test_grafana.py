"""Grafana links: a trace in Tempo and its logs in Loki, or none without GRAFANA_URL."""

import json
from urllib.parse import parse_qs, urlparse

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
