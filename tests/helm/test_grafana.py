"""Grafana: nothing of the stack's is replaced, every uid is a value, the sidecar finds the ConfigMaps."""

import os
import re

import yaml

from tests.helm.chart import CHART_DIR, find, load_values, one, render

LGTM_DISTRIBUTED_UIDS = {"loki", "tempo", "prom"}  # grafana/lgtm-distributed's provisioned datasources
LGTM_DISTRIBUTED_NAMES = {"Loki", "Tempo", "Mimir"}


def provisioned(objects, name="jiwoo-datasources") -> dict:
    (text,) = one(objects, "ConfigMap", name)["data"].values()
    return {ds["type"]: ds for ds in yaml.safe_load(text)["datasources"]}


def as_grafana_reads(value):
    """A provisioned value as Grafana reads it: every string of it split on $$ (a literal $), each
    part's $NAME and ${NAME} replaced from Grafana's environment (empty when unset)."""
    if isinstance(value, dict):
        return {key: as_grafana_reads(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_grafana_reads(item) for item in value]
    if not isinstance(value, str):
        return value
    expand = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))")
    return "$".join(expand.sub(lambda m: os.environ.get(m[1] or m[2], ""), part) for part in value.split("$$"))


def config(objects) -> dict:
    return one(objects, "ConfigMap", "jiwoo")["data"]


def test_by_default_nothing_is_provisioned_and_links_use_the_stacks_datasources():
    objects = render({})

    assert not [o for o in find(objects, "ConfigMap") if "grafana_datasource" in o["metadata"]["labels"]]
    assert (config(objects)["GRAFANA_LOKI_UID"], config(objects)["GRAFANA_TEMPO_UID"]) == ("loki", "tempo")


def test_provisioned_datasources_never_take_a_name_or_uid_of_the_stack():
    objects = render({"grafana": {"datasources": {"enabled": True}}})
    datasources = provisioned(objects)

    assert {ds["uid"] for ds in datasources.values()}.isdisjoint(LGTM_DISTRIBUTED_UIDS)
    assert {ds["name"] for ds in datasources.values()}.isdisjoint(LGTM_DISTRIBUTED_NAMES)
    assert datasources["tempo"]["jsonData"]["serviceMap"]["datasourceUid"] == "prom"
    # The app's links go to the datasources it provisioned.
    assert config(objects)["GRAFANA_LOKI_UID"] == datasources["loki"]["uid"]
    assert config(objects)["GRAFANA_TEMPO_UID"] == datasources["tempo"]["uid"]


def test_the_links_between_logs_and_traces_reach_grafana_with_its_own_variables():
    datasources = as_grafana_reads(provisioned(render({"grafana": {"datasources": {"enabled": True}}})))

    (trace_link,) = datasources["loki"]["jsonData"]["derivedFields"]
    assert trace_link["url"] == "${__value.raw}"
    logs_link = datasources["tempo"]["jsonData"]["tracesToLogsV2"]
    assert logs_link["query"] == '{service_name="${__span.tags["service.name"]}"} | trace_id="${__trace.traceId}"'


def test_every_uid_and_name_is_a_value():
    grafana = {
        "prometheusUid": "my-mimir",
        "datasources": {
            "enabled": True,
            "lokiUid": "l1",
            "tempoUid": "t1",
            "lokiName": "Team Loki",
            "tempoName": "Team Tempo",
            "label": "my_datasource",
            "labelValue": "yes",
        },
    }
    objects = render({"grafana": grafana})
    datasources = provisioned(objects)

    assert (datasources["loki"]["uid"], datasources["loki"]["name"]) == ("l1", "Team Loki")
    assert (datasources["tempo"]["uid"], datasources["tempo"]["name"]) == ("t1", "Team Tempo")
    assert datasources["loki"]["jsonData"]["derivedFields"][0]["datasourceUid"] == "t1"
    assert datasources["tempo"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "l1"
    assert datasources["tempo"]["jsonData"]["serviceMap"]["datasourceUid"] == "my-mimir"
    assert one(objects, "ConfigMap", "jiwoo-datasources")["metadata"]["labels"]["my_datasource"] == "yes"
    no_map = provisioned(render({"grafana": {"prometheusUid": "", "datasources": {"enabled": True}}}))
    assert "serviceMap" not in no_map["tempo"]["jsonData"]


def test_the_dashboard_carries_the_sidecars_label_in_the_namespace_it_watches():
    values = {
        "grafana": {"dashboards": {"enabled": True, "namespace": "monitoring", "label": "dash", "labelValue": "x"}}
    }
    (configmap,) = [o for o in find(render(values), "ConfigMap") if o["metadata"].get("namespace") == "monitoring"]

    assert configmap["metadata"]["labels"]["dash"] == "x"
    assert configmap["metadata"]["annotations"]["grafana_folder"] == "jiwoo"
    assert "jiwoo.json" in configmap["data"]


def test_two_releases_sharing_grafanas_namespace_do_not_overwrite_each_other():
    values = {
        "grafana": {
            "dashboards": {"enabled": True, "namespace": "monitoring"},
            "datasources": {"enabled": True, "namespace": "monitoring"},
        }
    }
    seen = []
    for namespace in ("team-a", "team-b"):
        for configmap in find(render(values, namespace=namespace), "ConfigMap"):
            if configmap["metadata"].get("namespace") == "monitoring":
                seen.append(
                    (
                        configmap["metadata"]["name"],
                        tuple(configmap["data"]) if "grafana_datasource" in configmap["metadata"]["labels"] else (),
                    )
                )

    names = [name for name, _ in seen]
    assert len(names) == 4
    assert len(set(names)) == 4
    datasource_files = [key for _, keys in seen for key in keys]
    assert len(datasource_files) == 2
    assert len(set(datasource_files)) == 2


def test_the_aks_example_matches_lgtm_distributed():
    """Service names as lgtm-distributed makes them for release "lgtm" in "monitoring"."""
    values = yaml.safe_load((CHART_DIR.parent / "examples" / "aks-lgtm.yaml").read_text())
    data = config(render(values))

    assert values["loki"]["url"] == "http://lgtm-loki-gateway.monitoring.svc/loki/api/v1/push"
    assert data["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://lgtm-tempo-distributor.monitoring.svc:4318/v1/traces"
    assert data["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] == "http://lgtm-mimir-nginx.monitoring.svc/otlp/v1/metrics"
    assert {
        values["grafana"]["lokiUid"],
        values["grafana"]["tempoUid"],
        values["grafana"]["prometheusUid"],
    } == LGTM_DISTRIBUTED_UIDS
    assert (data["GRAFANA_LOKI_UID"], data["GRAFANA_TEMPO_UID"]) == ("loki", "tempo")
    assert values["grafana"]["datasources"]["enabled"] is False
    assert values["grafana"]["dashboards"]["namespace"] == "monitoring"
    # Were the datasources switched on, they would point at lgtm-distributed's query services.
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["grafana"]["datasources"]
    assert defaults["tempoUrl"].endswith(":3100")
    assert "query-frontend" in defaults["tempoUrl"]
    assert "loki-gateway" in defaults["lokiUrl"]
    assert load_values("ingress-hpa-pdb-values.yaml")["grafana"]["datasources"]["enabled"] is True


def test_a_loki_tenant_reaches_grafana_in_its_tenant_header():
    values = {"loki": {"tenantId": "team-a"}, "grafana": {"datasources": {"enabled": True}}}
    loki = as_grafana_reads(provisioned(render(values)))["loki"]

    assert loki["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert loki["secureJsonData"]["httpHeaderValue1"] == "team-a"
    untenanted = provisioned(render({"grafana": {"datasources": {"enabled": True}}}))["loki"]
    assert "httpHeaderName1" not in untenanted["jsonData"]
    assert "secureJsonData" not in untenanted


def test_a_dollar_in_the_tenant_is_not_taken_for_one_of_grafanas_variables(monkeypatch):
    monkeypatch.setenv("HOME", "/usr/share/grafana")
    values = {"loki": {"tenantId": "team$HOME"}, "grafana": {"datasources": {"enabled": True}}}

    loki = as_grafana_reads(provisioned(render(values)))["loki"]

    assert loki["secureJsonData"]["httpHeaderValue1"] == "team$HOME"


def test_the_loki_password_never_enters_the_datasource_configmap():
    values = {
        "loki": {"tenantId": "team-a", "basicAuth": {"username": "jiwoo", "password": "s3cret-loki-pw"}},
        "grafana": {"datasources": {"enabled": True}},
    }
    configmap = one(render(values), "ConfigMap", "jiwoo-datasources")

    assert "s3cret-loki-pw" not in str(configmap)
    assert "basicAuthPassword" not in str(configmap)
