"""Links from a trace id to Grafana Explore: the trace in Tempo and its logs in Loki."""

import json
from urllib.parse import quote

from django.conf import settings


def grafana_links(trace_id: str | None) -> dict | None:
    """``{"trace": url, "logs": url}`` when GRAFANA_URL and the datasource uids are set, else None."""
    base = settings.GRAFANA_URL
    if not (base and trace_id):
        return None
    trace_pane = {
        "datasource": settings.GRAFANA_TEMPO_UID,
        "queries": [
            {
                "refId": "A",
                "datasource": {"type": "tempo", "uid": settings.GRAFANA_TEMPO_UID},
                "queryType": "traceql",
                "query": trace_id,
            }
        ],
        "range": {"from": "now-24h", "to": "now"},
    }
    logs_pane = {
        "datasource": settings.GRAFANA_LOKI_UID,
        "queries": [
            {
                "refId": "A",
                "datasource": {"type": "loki", "uid": settings.GRAFANA_LOKI_UID},
                "expr": f'{{service_name="{settings.SERVICE_NAME}"}} | trace_id="{trace_id}"',
            }
        ],
        "range": {"from": "now-24h", "to": "now"},
    }

    def explore(pane: dict) -> str:
        panes = quote(json.dumps({"a": pane}, separators=(",", ":")))
        return f"{base.rstrip('/')}/explore?schemaVersion=1&panes={panes}&orgId=1"

    return {"trace": explore(trace_pane), "logs": explore(logs_pane)}
