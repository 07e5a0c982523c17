"""The worked set for Azure Database for PostgreSQL + Azure Cache for Redis + Key Vault (ci/azure-values.yaml).

Like every set in ci/ it is rendered, linted, validated against the Kubernetes schemas and put
through the lifecycle model by the parametrized tests; these check what the set is for.
"""

import base64
import re
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.helm.chart import (
    CHART_DIR,
    VALUE_SETS,
    app_pod_containers,
    credential,
    find,
    load_values,
    mount_of,
    one,
    pod_spec,
    pod_specs,
    render_set,
)

SET = "azure-values.yaml"
CREDENTIALS = {
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_PASSWORD",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "DJANGO_SUPERUSER_PASSWORD",
}
README = (CHART_DIR / "README.md").read_text()


def chart_secret(objects, key: str) -> str:
    return base64.b64decode(one(objects, "Secret", "jiwoo")["data"][key]).decode()


def test_the_set_is_one_of_those_every_ci_test_renders():
    assert SET in VALUE_SETS


def test_no_app_container_holds_a_credential_in_its_environment_only_paths_to_files():
    containers = app_pod_containers(render_set(SET))
    assert set(containers) == {"web", "migrate", "clearsessions"}

    for name, (_, container) in containers.items():
        env = container["env"]
        assert not [e["name"] for e in env if e["name"] in CREDENTIALS], name
        assert not [e["name"] for e in env if "secretKeyRef" in e.get("valueFrom", {})], name
        assert not [e for e in container["envFrom"] if "secretRef" in e], name
        files = {e["name"]: e["value"] for e in env if e["name"].removesuffix("_FILE") in CREDENTIALS}
        expected = {f"{c}_FILE" for c in CREDENTIALS - {"DJANGO_SUPERUSER_PASSWORD"}}
        assert set(files) == expected | ({"DJANGO_SUPERUSER_PASSWORD_FILE"} if name == "migrate" else set()), name
        for variable, path in files.items():
            assert mount_of(container, path), f"{name}: {variable}={path} is under no volumeMount"


def test_the_credentials_come_from_key_vault_through_the_csi_driver():
    objects = render_set(SET)
    containers = app_pod_containers(objects)

    for name, (spec, container) in containers.items():
        volume = next(v for v in spec["volumes"] if v["name"] == "secrets-store")
        assert volume["csi"] == {
            "driver": "secrets-store.csi.k8s.io",
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": "jiwoo-kv"},
        }
        assert {"name": "secrets-store", "mountPath": "/mnt/secrets-store", "readOnly": True} in container[
            "volumeMounts"
        ]
        for variable in ("DJANGO_SECRET_KEY", "DATABASE_PASSWORD", "REDIS_PASSWORD"):
            assert credential(spec, container, variable)[:2] == ("csi", "jiwoo-kv"), (name, variable)
    spec, migrate = containers["migrate"]
    assert credential(spec, migrate, "DJANGO_SUPERUSER_PASSWORD") == ("csi", "jiwoo-kv", "django-admin-password")
    # Only the URLs, which hold no credential, are in the chart's Secret; nothing is generated.
    assert set(one(objects, "Secret", "jiwoo")["data"]) == {"database-url", "database-migration-url", "redis-url"}


def test_the_readme_secret_provider_class_supplies_every_file_the_set_reads():
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", README, re.DOTALL) if "kind: SecretProviderClass" in b)
    provider = yaml.safe_load(block)
    objects = [yaml.safe_load(o) for o in yaml.safe_load(provider["spec"]["parameters"]["objects"])["array"]]
    aliases = {o["objectAlias"] for o in objects}
    wanted = {
        credential(spec, container, variable)
        for spec, container in app_pod_containers(render_set(SET)).values()
        for variable in CREDENTIALS
    }

    assert provider["metadata"]["name"] == "jiwoo-kv"
    assert all(o["objectType"] == "secret" for o in objects)
    assert {w[2] for w in wanted if w and w[0] == "csi"} <= aliases


def test_the_web_pods_use_the_pooler_and_the_migration_connects_directly_both_verifying_tls():
    objects = render_set(SET)
    containers = app_pod_containers(objects)
    urls = {}
    for name, (spec, container) in containers.items():
        source = credential(spec, container, "DATABASE_URL")
        assert source[:2] == ("secret", "jiwoo"), name
        urls[name] = urlsplit(chart_secret(objects, source[2]))

    assert urls["web"].port == urls["clearsessions"].port == 6432
    assert urls["migrate"].port == 5432
    for name, url in urls.items():
        assert url.hostname.endswith(".postgres.database.azure.com"), name
        assert url.password is None, name
        assert parse_qs(url.query) == {"sslmode": ["verify-full"], "sslrootcert": ["system"]}, name


def test_redis_is_azure_cache_over_tls_with_the_access_key_from_a_file():
    objects = render_set(SET)
    spec, web = app_pod_containers(objects)["web"]
    url = urlsplit(chart_secret(objects, credential(spec, web, "REDIS_URL")[2]))

    assert (url.scheme, url.port, url.path) == ("rediss", 6380, "/0")
    assert url.hostname.endswith(".redis.cache.windows.net")
    assert url.password is None
    assert credential(spec, web, "REDIS_PASSWORD") == ("csi", "jiwoo-kv", "redis-access-key")
    assert not find(objects, "StatefulSet")
    assert not [o for o in find(objects, "Deployment") if o["metadata"]["name"] == "jiwoo-redis"]


def test_every_pod_that_uses_the_identity_is_labelled_for_workload_identity():
    objects = render_set(SET)
    account = one(objects, "ServiceAccount", "jiwoo")
    users = [(o, s) for o, s in pod_specs(objects) if s.get("serviceAccountName") == "jiwoo"]

    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert {o["kind"] for o, _ in users} == {"Deployment", "CronJob"}
    for owner, _ in users:
        metadata = (
            owner["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
            if owner["kind"] == "CronJob"
            else owner["spec"]["template"]["metadata"]
        )
        assert metadata["labels"]["azure.workload.identity/use"] == "true", owner["metadata"]["name"]


def test_the_set_spreads_budgets_and_fences_the_app():
    objects = render_set(SET)
    values = load_values(SET)
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))

    assert {c["topologyKey"] for c in spec["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    assert one(objects, "PodDisruptionBudget", "jiwoo")["spec"]["maxUnavailable"] == 1
    assert {p["metadata"]["name"] for p in find(objects, "NetworkPolicy")} == {
        "jiwoo-web",
        "jiwoo-clearsessions",
        "jiwoo-alloy",
        "jiwoo-test",
    }
    assert one(objects, "Ingress", "jiwoo")["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    assert values["networkPolicy"]["ingressNamespaces"] == ["app-routing-system"]


def test_the_readme_walks_through_the_set():
    section = README.split("## Azure Database for PostgreSQL + Azure Cache for Redis + Key Vault\n", 1)[1]
    section = section.split("\n## ", 1)[0]

    for needed in (
        "ci/azure-values.yaml",
        "6432",
        "transaction mode",
        "migrationUrl",
        "sslmode=verify-full&sslrootcert=system",
        "`sslmode=require` encrypts but checks nothing",
        "ssl_ca_certs=",
        "kind: SecretProviderClass",
        "azure.workload.identity/use",
        "pg_trgm",
        "Connection budget",
        "app-routing-system",
    ):
        assert needed in section, needed
    client = README.split("## Client addresses behind the Ingress\n", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "externalTrafficPolicy: Local",
        "controller.service.externalTrafficPolicy=Local",
        "NginxIngressController",
    ):
        assert needed in client, needed
    policy = README.split("## NetworkPolicy\n", 1)[1].split("\n## ", 1)[0]
    assert "`app-routing-system`" in policy
    assert "`ingress-nginx`" in policy
