"""Installing with no values, and the smaller promises of the chart (helm/jiwoo/README.md)."""

import re

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from helm_python.errors import HelmValuesError

from tests.helm.chart import (
    CHART_DIR,
    app_pod_containers,
    credential,
    find,
    load_values,
    one,
    pod_spec,
    pod_specs,
    render,
    render_set,
)

APP_CONTAINERS = ("web", "migrate", "clearsessions")


def app_containers(objects) -> dict:
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    cron = one(objects, "CronJob", "jiwoo-clearsessions")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec["initContainers"] + spec["containers"] + cron["containers"]}


def test_no_values_at_all_render_validate_and_lint():
    objects = render({})

    for obj in objects:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
    report = helm.lint(CHART_DIR, {}, strict=True, namespace="jiwoo")
    assert report["errors"] == []
    config = yaml.safe_load(one(objects, "ConfigMap", "jiwoo-promtail")["data"]["promtail.yaml"])
    assert config["clients"][0]["url"] == "http://loki-gateway/loki/api/v1/push"


def test_extra_env_reaches_every_app_container():
    containers = app_containers(render_set("external-url-values.yaml"))

    assert set(containers) == set(APP_CONTAINERS)
    for name, container in containers.items():
        env = {e["name"]: e for e in container["env"]}
        assert env["DJANGO_TIME_ZONE"]["value"] == "Asia/Seoul", name
        assert env["FEATURE_FROM_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "jiwoo-features", "key": "flag"}


def test_passwords_with_url_characters_never_enter_a_url():
    objects = render_set("external-url-values.yaml")
    secret = one(objects, "Secret", "jiwoo")
    for spec, container in app_pod_containers(objects).values():
        assert credential(spec, container, "REDIS_PASSWORD") == ("secret", "jiwoo", "redis-password")
        assert credential(spec, container, "DATABASE_PASSWORD") == ("secret", "jiwoo", "database-password")
        assert credential(spec, container, "REDIS_URL") == ("secret", "jiwoo", "redis-url")
        assert credential(spec, container, "DATABASE_URL") == ("secret", "jiwoo", "database-url")
    assert {"redis-url", "redis-password", "database-url", "database-password", "secret-key", "checksum-salt"} == set(
        secret["data"]
    )


def test_in_chart_redis_password_is_its_own_variable_and_the_probe_keeps_it_off_the_command_line():
    objects = render({"redis": {"auth": {"password": "k3y/with+slash@and=="}}})
    env = {e["name"]: e for e in app_containers(objects)["web"]["env"]}
    redis = pod_spec(one(objects, "Deployment", "jiwoo-redis"))["containers"][0]

    assert env["REDIS_URL"]["value"] == "redis://jiwoo-redis:6379/0"
    assert "k3y" not in str(env)
    assert "-a " not in " ".join(redis["readinessProbe"]["exec"]["command"])


@pytest.mark.parametrize(
    ("values", "budget"),
    [
        ({"replicaCount": 1}, False),
        ({"replicaCount": 2}, True),
        ({"autoscaling": {"enabled": True, "minReplicas": 1}}, False),
        ({"autoscaling": {"enabled": True, "minReplicas": 3}}, True),
    ],
)
def test_a_disruption_budget_is_made_only_where_it_cannot_block_a_drain(values, budget):
    objects = render({**values, "podDisruptionBudget": {"enabled": True}})
    budgets = find(objects, "PodDisruptionBudget")

    assert bool(budgets) is budget
    if budget:
        assert budgets[0]["spec"]["maxUnavailable"] == 1


def test_an_image_digest_pins_every_app_container():
    objects = render_set("external-url-values.yaml")
    digest = load_values("external-url-values.yaml")["image"]["digest"]

    for container in app_containers(objects).values():
        assert container["image"] == f"myregistry.azurecr.io/jiwoo@{digest}"
    assert one(objects, "Pod", "jiwoo-test")["spec"]["containers"][0]["image"].endswith(digest)


def test_the_chart_can_be_a_subchart():
    values = {"global": {"imageRegistry": "example.azurecr.io", "storageClass": "managed-csi"}}
    helm.Chart.load(CHART_DIR).validate_schema(values)

    assert render(values)


def test_clearsessions_runs_daily_hardened_like_the_app():
    objects = render({})
    cron = one(objects, "CronJob", "jiwoo-clearsessions")
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    app = pod_spec(one(objects, "Deployment", "jiwoo"))
    (container,) = spec["containers"]

    assert container["command"] == ["python", "manage.py", "clearsessions"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert spec["securityContext"] == app["securityContext"]
    assert container["securityContext"] == app["containers"][0]["securityContext"]
    assert spec["automountServiceAccountToken"] is False
    assert not find(render({"clearsessions": {"enabled": False}}), "CronJob")


def test_readiness_is_the_database_only_and_says_so():
    values_text = (CHART_DIR / "values.yaml").read_text()
    web = app_containers(render({}))["web"]

    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    readiness_doc = values_text.split("  readiness:\n", 1)[1].split("\n    enabled:", 1)[0]
    assert "database" in readiness_doc
    assert "never a 503" in readiness_doc


def test_azure_postgresql_needs_pg_trgm_allow_listed_and_the_values_say_how():
    values_text = (CHART_DIR / "values.yaml").read_text()
    external = values_text.split("externalDatabase:", 1)[0].rsplit("\n\n", 1)[1]

    assert "azure.extensions" in external
    assert "pg_trgm" in external


def test_an_ingress_host_given_alone_serves_the_whole_site():
    """`--set ingress.hosts[0].host=...` replaces the list: a host without paths gets `/`."""
    values = {"ingress": {"enabled": True, "hosts": [{"host": "jiwoo.20.0.0.10.nip.io"}]}}
    helm.Chart.load(CHART_DIR).validate_schema(values)
    (rule,) = one(render(values), "Ingress", "jiwoo")["spec"]["rules"]

    assert rule["host"] == "jiwoo.20.0.0.10.nip.io"
    assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [("/", "Prefix")]


def test_every_value_is_documented_where_it_is_declared():
    """helm-docs' form: a `# --` comment right above each value (a documented map covers its children)."""
    lines = (CHART_DIR / "values.yaml").read_text().splitlines()
    undocumented, covered_below = [], None
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([\w.-]+):(.*)$", line)
        if not match or line.lstrip().startswith("#"):
            continue
        indent, name, rest = len(match[1]), match[2], match[3].strip()
        if covered_below is not None and indent > covered_below:
            continue
        covered_below = None
        following = next((ln for ln in lines[number + 1 :] if ln.strip()), "")
        is_map = (
            not rest and len(following) - len(following.lstrip()) > indent and not following.lstrip().startswith("-")
        )
        comments = []
        for above in reversed(lines[:number]):
            if not above.lstrip().startswith("#"):
                break
            comments.append(above)
        documented = any(c.lstrip().startswith("# --") for c in comments)
        if documented and (is_map or rest == ""):
            covered_below = indent
        elif not documented and not is_map:
            undocumented.append(name)

    assert undocumented == []


def test_production_sampling_as_the_readme_gives_it():
    """README "Sampling in production": the ratio is a string (--set-string); a number is refused."""
    objects = render({"telemetry": {"sampler": "parentbased_traceidratio", "samplerArg": "0.1"}})
    config = one(objects, "ConfigMap", "jiwoo")["data"]

    assert config["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert config["OTEL_TRACES_SAMPLER_ARG"] == "0.1"
    with pytest.raises(HelmValuesError, match="samplerArg"):
        render({"telemetry": {"samplerArg": 0.1}})


def test_per_signal_endpoints_stay_otlp_http_beside_a_grpc_collector(monkeypatch):
    """tracesEndpoint and metricsEndpoint are OTLP/HTTP URLs; protocol=grpc is otlpEndpoint's."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter

    from observability import telemetry

    telemetry_values = {
        "otlpEndpoint": "http://otel-collector.observability:4317",
        "protocol": "grpc",
        "metricsEndpoint": "http://lgtm-mimir-nginx.monitoring.svc/otlp/v1/metrics",
    }
    config = one(render({"telemetry": telemetry_values}), "ConfigMap", "jiwoo")["data"]
    for name, value in config.items():
        if name.startswith("OTEL_"):
            monkeypatch.setenv(name, value)

    spans = telemetry.otlp_exporter("TRACES")
    metrics = telemetry.otlp_exporter("METRICS")
    try:
        assert isinstance(spans, GrpcSpanExporter)
        assert isinstance(metrics, HttpMetricExporter)
    finally:
        spans.shutdown()
        metrics.shutdown()


@pytest.mark.parametrize("shipper", ["promtail", "alloy"])
def test_loki_client_settings_that_look_like_yaml_reach_the_shipper_as_given(shipper):
    """`team: a` unquoted would be a map in Promtail's YAML (or end it); as written it is one string."""
    loki = {"url": "http://loki:3100/loki/api/v1/push", "tenantId": "team: a", "basicAuth": {"username": "#jiwoo"}}
    values = {"loki": loki, "promtail": {"enabled": shipper == "promtail"}, "alloy": {"enabled": shipper == "alloy"}}
    objects = render(values | {"loki": loki | {"basicAuth": {"username": "#jiwoo", "password": "pw"}}})

    if shipper == "promtail":
        (client,) = yaml.safe_load(one(objects, "ConfigMap", "jiwoo-promtail")["data"]["promtail.yaml"])["clients"]
        assert (client["url"], client["tenant_id"], client["basic_auth"]["username"]) == (
            "http://loki:3100/loki/api/v1/push",
            "team: a",
            "#jiwoo",
        )
    else:
        config = one(objects, "ConfigMap", "jiwoo-alloy")["data"]["config.alloy"]
        assert 'tenant_id = "team: a"' in config
        assert 'username      = "#jiwoo"' in config


@pytest.mark.parametrize("shipper", ["promtail", "alloy"])
def test_every_pod_pulls_with_the_image_pull_secrets(shipper):
    pull = [{"name": "acr-pull"}]
    values = {
        "imagePullSecrets": pull,
        "promtail": {"enabled": shipper == "promtail"},
        "alloy": {"enabled": shipper == "alloy"},
    }
    owners = pod_specs(render(values))

    assert {o["kind"] for o, _ in owners} == {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod"}
    for owner, spec in owners:
        assert spec.get("imagePullSecrets") == pull, owner["metadata"]["name"]


def test_the_clearsessions_pods_carry_the_pod_labels_and_annotations_like_the_web_pods():
    values = {"podLabels": {"azure.workload.identity/use": "true"}, "podAnnotations": {"example.com/team": "web"}}
    objects = render(values)
    web = one(objects, "Deployment", "jiwoo")["spec"]["template"]["metadata"]
    cron = one(objects, "CronJob", "jiwoo-clearsessions")["spec"]["jobTemplate"]["spec"]["template"]["metadata"]

    for metadata in (web, cron):
        assert metadata["labels"]["azure.workload.identity/use"] == "true"
        assert metadata["annotations"]["example.com/team"] == "web"
    assert cron["labels"]["app.kubernetes.io/component"] == "clearsessions"


@pytest.mark.parametrize("shipper", ["promtail", "alloy"])
def test_the_log_shipper_is_restarted_only_when_its_server_stops_answering(shipper):
    values = {"promtail": {"enabled": shipper == "promtail"}, "alloy": {"enabled": shipper == "alloy"}}
    objects = render(values)
    (container,) = pod_spec(one(objects, "DaemonSet", f"jiwoo-{shipper}"))["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    liveness = container["livenessProbe"]["httpGet"]

    # The probe's port is the one the rendered configuration listens on.
    if shipper == "promtail":
        config = yaml.safe_load(one(objects, "ConfigMap", "jiwoo-promtail")["data"]["promtail.yaml"])
        assert ports[liveness["port"]] == config["server"]["http_listen_port"] == 3101
        # /ready fails while there is nothing to tail on a node: liveness must not restart for that.
        assert liveness["path"] == "/metrics"
    else:
        listen = next(a for a in container["args"] if a.startswith("--server.http.listen-addr="))
        assert ports[liveness["port"]] == int(listen.rsplit(":", 1)[1]) == 12345
        # /-/healthy fails while Loki is unreachable: liveness must not restart for that.
        assert liveness["path"] == "/-/ready"
    assert container["readinessProbe"]["httpGet"]["port"] == liveness["port"]
    assert container["livenessProbe"]["failureThreshold"] * container["livenessProbe"]["periodSeconds"] >= 60


def test_the_trace_view_is_the_apps_choice_unless_the_values_make_it():
    """Unset, the app keeps traces for its trace view where it exports none; a value decides."""
    default = one(render_set("default-values.yaml"), "ConfigMap", "jiwoo")["data"]
    on = one(render({"telemetry": {"traceView": "true"}}), "ConfigMap", "jiwoo")["data"]
    off = one(render({"telemetry": {"traceView": "false"}}), "ConfigMap", "jiwoo")["data"]

    assert "TRACE_VIEW_ENABLED" not in default
    assert on["TRACE_VIEW_ENABLED"] == "true"
    assert off["TRACE_VIEW_ENABLED"] == "false"
    with pytest.raises(HelmValuesError, match="traceView"):
        render({"telemetry": {"traceView": "yes"}})
