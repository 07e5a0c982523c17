"""What a reviewer checks by eye: selectors, ports, probes, security, hooks, secrets, schema."""

import base64
import re
import shutil

import helm_python as helm
import kubernetes_validate
import pytest

from tests.helm.chart import (
    CHART_DIR,
    VALUE_SETS,
    credential,
    find,
    load_values,
    one,
    pod_labels,
    pod_spec,
    render,
    render_set,
)

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_workload_selectors_match_their_pod_labels(value_set):
    for workload in (o for o in render_set(value_set) if o["kind"] in WORKLOADS):
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels(workload).items(), workload["metadata"]["name"]
        assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_services_select_pods_and_target_named_ports_that_exist(value_set):
    objects = render_set(value_set)
    workloads = [o for o in objects if o["kind"] in WORKLOADS]
    for service in find(objects, "Service"):
        selector = service["spec"]["selector"]
        targets = [w for w in workloads if selector.items() <= pod_labels(w).items()]
        assert len(targets) == 1, f"Service {service['metadata']['name']} selects {len(targets)} workloads"
        port_names = {p["name"] for c in pod_spec(targets[0])["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (service["metadata"]["name"], port)


def test_ingress_backend_is_the_app_service_and_port():
    objects = render_set("ingress-hpa-pdb-values.yaml")
    ingress = one(objects, "Ingress", "jiwoo")
    service = one(objects, "Service", "jiwoo")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]

    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert ingress["spec"]["tls"] == [{"hosts": ["jiwoo.example.com"], "secretName": "jiwoo-tls"}]
    config = one(objects, "ConfigMap", "jiwoo")["data"]
    assert "jiwoo.example.com" in config["DJANGO_ALLOWED_HOSTS"].split(",")
    assert config["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://jiwoo.example.com"
    assert config["DJANGO_HTTPS"] == "true"


def test_without_tls_the_app_knows_it_is_served_over_plain_http():
    assert one(render_set("default-values.yaml"), "ConfigMap", "jiwoo")["data"]["DJANGO_HTTPS"] == "false"


def test_hpa_and_pdb_target_the_app():
    objects = render_set("ingress-hpa-pdb-values.yaml")
    deployment = one(objects, "Deployment", "jiwoo")
    hpa = one(objects, "HorizontalPodAutoscaler", "jiwoo")
    pdb = one(objects, "PodDisruptionBudget", "jiwoo")

    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "jiwoo"}
    assert "replicas" not in deployment["spec"]
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_optional_parts_are_off_in_the_minimal_set():
    kinds = {o["kind"] for o in render_set("minimal-values.yaml")}

    assert kinds.isdisjoint(
        {
            "Ingress",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "Job",
            "CronJob",
            "DaemonSet",
            "Pod",
            "NetworkPolicy",
        }
    )
    assert kinds.isdisjoint({"ServiceAccount", "ClusterRole", "ClusterRoleBinding"})
    spec = one(render_set("minimal-values.yaml"), "Deployment", "jiwoo")["spec"]["template"]["spec"]
    assert not {"startupProbe", "livenessProbe", "readinessProbe"} & set(spec["containers"][0])
    assert "initContainers" not in spec


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_app_pods_are_probed_and_hardened(value_set):
    objects = render_set(value_set)
    deployment = one(objects, "Deployment", "jiwoo")
    spec = pod_spec(deployment)
    web = next(c for c in spec["containers"] if c["name"] == "web")

    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}} in spec["volumes"]
    if value_set != "minimal-values.yaml":
        assert web["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["resources"]["requests"]
    assert web["resources"]["limits"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert {"checksum/config", "checksum/secret"} <= set(annotations)


def test_config_change_rolls_the_pods():
    before = one(render(load_values("default-values.yaml")), "Deployment", "jiwoo")
    after = one(render({**load_values("default-values.yaml"), "django": {"logLevel": "DEBUG"}}), "Deployment", "jiwoo")

    key = "checksum/config"
    assert (
        before["spec"]["template"]["metadata"]["annotations"][key]
        != after["spec"]["template"]["metadata"]["annotations"][key]
    )


def test_pods_know_where_they_run_for_the_resource_attributes():
    web = pod_spec(one(render_set("default-values.yaml"), "Deployment", "jiwoo"))["containers"][0]
    env = {e["name"]: e for e in web["env"]}

    assert env["K8S_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["K8S_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    attributes = env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
    for key in (
        "k8s.namespace.name=$(K8S_NAMESPACE_NAME)",
        "k8s.pod.name=$(K8S_POD_NAME)",
        "k8s.node.name=$(K8S_NODE_NAME)",
    ):
        assert key in attributes
    # $(VAR) expansion only sees variables defined earlier in the list.
    names = [e["name"] for e in web["env"]]
    assert names.index("K8S_POD_NAME") < names.index("OTEL_RESOURCE_ATTRIBUTES")


def test_no_password_is_written_into_the_pod_spec_or_config():
    objects = render_set("default-values.yaml")
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    web = spec["containers"][0]

    assert credential(spec, web, "DATABASE_URL") == ("value", "postgres://jiwoo@jiwoo-postgresql:5432/jiwoo")
    assert credential(spec, web, "DATABASE_PASSWORD") == ("secret", "jiwoo-postgresql", "password")
    assert credential(spec, web, "REDIS_URL") == ("value", "redis://jiwoo-redis:6379/0")
    assert credential(spec, web, "REDIS_PASSWORD") == ("secret", "jiwoo-redis", "redis-password")
    assert credential(spec, web, "DJANGO_SECRET_KEY") == ("secret", "jiwoo", "secret-key")
    assert "PASSWORD" not in str(one(objects, "ConfigMap", "jiwoo")["data"]).upper()


def test_external_services_come_from_the_existing_secrets():
    objects = render_set("external-services-values.yaml")
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    web = spec["containers"][0]

    assert credential(spec, web, "DATABASE_URL") == ("secret", "jiwoo-external", "database-url")
    assert credential(spec, web, "REDIS_URL") == ("secret", "jiwoo-external", "redis-url")
    assert credential(spec, web, "REDIS_PASSWORD") == ("secret", "jiwoo-external", "redis-password")
    assert credential(spec, web, "DATABASE_PASSWORD") is None  # no password key given: the URL in the Secret carries it
    assert credential(spec, web, "DJANGO_SECRET_KEY") == ("secret", "jiwoo-external", "django-secret-key")
    assert not find(objects, "StatefulSet")
    assert not find(objects, "Secret", "jiwoo")
    config = one(objects, "ConfigMap", "jiwoo")["data"]
    assert config["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert config["OTEL_TRACES_SAMPLER_ARG"] == "0.25"


@pytest.mark.parametrize("value_set", ["default-values.yaml", "external-services-values.yaml"])
def test_every_app_pod_migrates_under_the_lock_before_it_serves(value_set):
    objects = render_set(value_set)
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    (init,) = spec["initContainers"]
    env = {e["name"]: e for e in init["env"]}

    assert init["command"][:3] == ["python", "manage.py", "migrate_locked"]
    assert init["image"] == spec["containers"][0]["image"]
    assert env["OTEL_SDK_DISABLED"]["value"] == "true"
    assert credential(spec, init, "DJANGO_SECRET_KEY") == credential(spec, spec["containers"][0], "DJANGO_SECRET_KEY")
    assert credential(spec, init, "DATABASE_URL") == credential(spec, spec["containers"][0], "DATABASE_URL")
    assert init["envFrom"] == spec["containers"][0]["envFrom"]
    assert not find(objects, "Job")  # no hook Job: nothing runs outside the pods' own start


def test_the_admin_secret_reaches_the_migration_only():
    objects = render_set("external-services-values.yaml")
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    (init,), (web,) = spec["initContainers"], spec["containers"]
    init_env = {e["name"]: e for e in init["env"]}
    web_env = {e["name"] for e in web["env"]}

    assert credential(spec, init, "DJANGO_SUPERUSER_USERNAME") == ("secretKeyRef", "jiwoo-admin", "username")
    assert credential(spec, init, "DJANGO_SUPERUSER_PASSWORD") == ("secret", "jiwoo-admin", "password")
    assert init_env["DJANGO_SUPERUSER_EMAIL"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert not {n for n in web_env if n.startswith("DJANGO_SUPERUSER")}
    # Nor can the web container read the password's file: its credentials volume does not hold it.
    web_volumes = {m["name"] for m in web["volumeMounts"]}
    projected = [v["projected"] for v in spec["volumes"] if v["name"] in web_volumes and "projected" in v]
    assert "jiwoo-admin" not in str(projected)
    assert "DJANGO_SUPERUSER_USERNAME" not in {
        e["name"]
        for e in pod_spec(one(render_set("default-values.yaml"), "Deployment", "jiwoo"))["initContainers"][0]["env"]
    }


def test_generated_secret_key_is_long_random_and_kept_on_uninstall():
    first = one(render(load_values("default-values.yaml")), "Secret", "jiwoo")
    second = one(render(load_values("default-values.yaml")), "Secret", "jiwoo")

    key = base64.b64decode(first["data"]["secret-key"])
    assert len(key) == 50
    assert first["data"]["secret-key"] != second["data"]["secret-key"]  # no cluster: lookup finds nothing
    assert first["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_secret_key_survives_an_upgrade_with_a_lookup_stand_in(tmp_path):
    """Offline, lookup returns nothing. Replace it with a stand-in that returns the Secret a
    cluster would hold, and the upgrade must keep that key rather than make a new one."""
    chart = tmp_path / "jiwoo"
    shutil.copytree(CHART_DIR, chart)
    helpers = chart / "templates" / "_helpers.tpl"
    existing = base64.b64encode(b"the-key-already-in-the-cluster").decode()
    call = 'lookup "v1" "Secret" .root.Release.Namespace .secret'
    assert call in helpers.read_text()
    helpers.write_text(
        helpers.read_text().replace(call, f'dict "data" (dict "secret-key" "{existing}" "password" "{existing}")')
    )

    upgraded = render(load_values("default-values.yaml"), chart_dir=chart, is_upgrade=True)

    assert one(upgraded, "Secret", "jiwoo")["data"]["secret-key"] == existing
    assert one(upgraded, "Secret", "jiwoo-postgresql")["data"]["password"] == existing


def test_schema_rejects_a_misspelt_key_and_a_wrong_type():
    chart = helm.Chart.load(CHART_DIR)
    chart.validate_schema(load_values("default-values.yaml"))

    for bad in (
        {"replicaCont": 3},
        {"replicaCount": "two"},
        {"image": {"tag": 1}},
        {"ingress": {"enabeld": True}},
        {"telemetry": {"protocol": "udp"}},
        {"image": {"digest": "latest"}},
        {"django": {"trustedProxies": ["ingress.example.com"]}},
        {"podDisruptionBudget": {"minAvailable": 1}},
        {"clearsessions": {"schedule": "every day at three"}},
        {"clearsessions": {"schedule": "run every day at 3"}},
        {"clearsessions": {"schedule": "@fortnightly"}},
        {"django": {"trustedProxies": ["10.0.0/8"]}},
        {"django": {"trustedProxies": ["10.0.0.0/33"]}},
        {"django": {"trustedProxies": ["999.1.1.1"]}},
        {"django": {"trustedProxies": ["::::"]}},
        {"django": {"trustedProxies": ["fd00::/129"]}},
        {"podDisruptionBudget": {"maxUnavailable": "0%"}},
        {"podDisruptionBudget": {"maxUnavailable": 0}},
        {"podDisruptionBudget": {"maxUnavailable": "101%"}},
        {"probes": {"liveness": {"periodSeconds": 0}}},
        {"probes": {"readiness": {"failureThreshold": 0}}},
        {"probes": {"startup": {"periodSeconds": 0}}},
        {"redis": {"maxmemory": "200mb; rm -rf /data"}},
        {"redis": {"maxmemory": "$(id)"}},
        {"telemetry": {"resourceAttributes": {"team": "a,b"}}},
        {"telemetry": {"resourceAttributes": {"team": "a=b"}}},
        {"telemetry": {"resourceAttributes": {"a,b": "c"}}},
        {"telemetry": {"resourceAttributes": {"replicas": 3}}},
        {"preStopSleepSeconds": -1},
    ):
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(bad)


def test_schema_accepts_global_a_digest_cidrs_and_any_password():
    chart = helm.Chart.load(CHART_DIR)

    chart.validate_schema(
        {
            "global": {"imageRegistry": "myregistry.azurecr.io", "anything": {"nested": True}},
            "image": {"digest": "sha256:" + "ab" * 32},
            "django": {"trustedProxies": ["10.244.0.0/16", "fd00::/8", "192.0.2.7"]},
            "postgresql": {"auth": {"password": "p@ss:w/rd"}},
            "redis": {"auth": {"password": "k3y/with+slash@and=="}},
        }
    )
    for schedule in ("17 3 * * *", "*/15 * * * 1-5", "0 4 * JAN,JUL MON", "@hourly", "@daily", "@weekly"):
        chart.validate_schema({"clearsessions": {"schedule": schedule}})
    for schedule in ("@monthly", "@yearly", "@annually"):
        chart.validate_schema({"clearsessions": {"schedule": schedule}})
    proxies = ["0.0.0.0/0", "255.255.255.255", "::1", "::/0", "2001:db8::42", "2001:db8:0:0:0:0:0:1/128", "fe80::1:2"]
    chart.validate_schema({"django": {"trustedProxies": proxies}})
    for budget in (1, "1%", "50%", "100%"):
        chart.validate_schema({"podDisruptionBudget": {"maxUnavailable": budget}})
    for size in ("200mb", "1GB", "512M", "1048576", "64k", "10b"):
        chart.validate_schema({"redis": {"maxmemory": size}})
    chart.validate_schema({"telemetry": {"resourceAttributes": {"cloud.region": "koreacentral", "team": "a b/c"}}})


def chart_without_schema(tmp_path):
    """A copy of the chart without values.schema.json, as `helm install --skip-schema-validation` reads it."""
    chart = tmp_path / "jiwoo"
    shutil.copytree(CHART_DIR, chart)
    (chart / "values.schema.json").unlink()
    return chart


@pytest.mark.parametrize("proxy", ["10.0.0/8", "10.0.0.0/33", "999.1.1.1", "::::", "ingress.example.com"])
def test_a_trusted_proxy_that_is_no_address_fails_the_render_even_without_the_schema(tmp_path, proxy):
    with pytest.raises(helm.HelmError, match=f'django.trustedProxies: "{re.escape(proxy)}" is not an IPv4 or IPv6'):
        render({"django": {"trustedProxies": ["10.244.0.0/16", proxy]}}, chart_dir=chart_without_schema(tmp_path))


def test_autoscaling_with_fewer_most_pods_than_fewest_fails_with_what_to_change():
    values = {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}
    helm.Chart.load(CHART_DIR).validate_schema(values)  # a schema cannot compare two values

    with pytest.raises(helm.HelmError, match=r"minReplicas \(5\) is above autoscaling.maxReplicas \(3\)"):
        render(values)
    assert find(render(values | {"autoscaling": {"enabled": False, "minReplicas": 5, "maxReplicas": 3}}), "Deployment")


def test_redis_maxmemory_reaches_the_shell_as_one_quoted_word():
    redis = pod_spec(one(render({"redis": {"maxmemory": "1gb"}}), "Deployment", "jiwoo-redis"))["containers"][0]

    assert redis["command"] == ["sh", "-c"]
    assert " --maxmemory '1gb' " in redis["args"][0]


def test_promtail_and_alloy_are_mutually_exclusive():
    chart = helm.Chart.load(CHART_DIR)
    both = {"promtail": {"enabled": True}, "alloy": {"enabled": True}, "loki": {"url": "http://loki/loki/api/v1/push"}}

    chart.validate_schema(both)  # a schema could only say "'not' failed"; the template says why
    with pytest.raises(helm.HelmError, match="mutually exclusive"):
        render(both)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"postgresql": {"enabled": False}}, "externalDatabase"),
        ({"redis": {"enabled": False}}, "externalRedis"),
        ({"loki": {"url": ""}}, "loki.url"),
    ],
)
def test_incomplete_values_fail_with_a_message_that_says_what_to_set(values, message):
    with pytest.raises(helm.HelmError, match=message):
        render(values)


def test_log_shipper_reads_node_files_as_root_read_only_and_nothing_more():
    objects = render_set("default-values.yaml")
    daemonset = one(objects, "DaemonSet", "jiwoo-promtail")
    container = pod_spec(daemonset)["containers"][0]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    role = one(objects, "ClusterRole", "jiwoo-jiwoo-promtail")

    assert container["image"] == "grafana/promtail:3.6.11"
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["DAC_READ_SEARCH"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert mounts["pods"]["readOnly"] is True
    positions = {v["name"]: v for v in pod_spec(daemonset)["volumes"]}["positions"]["hostPath"]
    assert positions == {"path": "/var/lib/jiwoo-promtail/jiwoo-jiwoo", "type": "DirectoryOrCreate"}
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    assert "checksum/config" in daemonset["spec"]["template"]["metadata"]["annotations"]


def test_helm_test_pod_checks_healthz_through_the_service():
    pod = one(render_set("default-values.yaml"), "Pod", "jiwoo-test")

    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert "http://jiwoo:80/healthz" in pod["spec"]["containers"][0]["command"][-1]


@pytest.mark.parametrize(
    "values",
    [{}, {"preStopSleepSeconds": 15, "gunicorn": {"gracefulTimeout": 40}}, {"preStopSleepSeconds": 1}],
)
def test_a_stopping_pod_serves_until_its_endpoint_is_gone_then_drains_before_the_kill(values):
    """SIGTERM comes only after the preStop sleep, and the kubelet's SIGKILL only after the grace
    period, which counts from the start of the sleep: it must hold the sleep and gunicorn's drain."""
    objects = render(values)
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    web = next(c for c in spec["containers"] if c["name"] == "web")
    sleep = web["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful_timeout = int(one(objects, "ConfigMap", "jiwoo")["data"]["GUNICORN_GRACEFUL_TIMEOUT"])

    assert sleep == values.get("preStopSleepSeconds", 5)
    assert graceful_timeout == values.get("gunicorn", {}).get("gracefulTimeout", 20)
    assert spec["terminationGracePeriodSeconds"] > sleep + graceful_timeout
    kubernetes_validate.validate(one(objects, "Deployment", "jiwoo"), "1.30.0", strict=True)


def test_without_a_drain_delay_there_is_no_prestop_hook():
    """Kubernetes 1.30 refuses a zero-second sleep action: 0 leaves the hook out."""
    spec = pod_spec(one(render({"preStopSleepSeconds": 0}), "Deployment", "jiwoo"))

    assert "lifecycle" not in spec["containers"][0]
    assert spec["terminationGracePeriodSeconds"] == 20 + 5


def test_the_helm_test_pod_pulls_and_schedules_like_the_app():
    values = {
        "imagePullSecrets": [{"name": "acr-pull"}],
        "nodeSelector": {"agentpool": "apps"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"}],
    }
    objects = render(values)
    app = pod_spec(one(objects, "Deployment", "jiwoo"))
    test = one(objects, "Pod", "jiwoo-test")["spec"]

    for key in values:
        assert test[key] == app[key] == values[key], key


def test_postgresql_may_recover_for_long_and_liveness_waits_for_its_first_answer():
    postgres = pod_spec(one(render({}), "StatefulSet", "jiwoo-postgresql"))["containers"][0]
    startup, liveness = postgres["startupProbe"], postgres["livenessProbe"]

    assert startup["exec"] == liveness["exec"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 900
    assert "initialDelaySeconds" not in liveness  # the startup probe holds it back instead
    longer = pod_spec(one(render({"postgresql": {"startupTimeoutSeconds": 3600}}), "StatefulSet", "jiwoo-postgresql"))
    probe = longer["containers"][0]["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 3600
