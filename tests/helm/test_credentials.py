"""Every credential reaches a container as a file, never as an environment value (issue 26).

The app reads DJANGO_SECRET_KEY_FILE, DATABASE_URL_FILE, DATABASE_PASSWORD_FILE, REDIS_URL_FILE,
REDIS_PASSWORD_FILE and DJANGO_SUPERUSER_PASSWORD_FILE; the chart projects its Secrets (and the
operator's existingSecrets) read-only into /var/run/secrets/jiwoo, or points the variable at a file
of the operator's own volume (Key Vault's CSI driver) when a `*file`/`*File` value names one.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import helm_python as helm
import pytest

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
    render,
    render_set,
)

CREDENTIALS = (
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_PASSWORD",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "DJANGO_SUPERUSER_PASSWORD",
)
CSI = {
    "extraVolumes": [
        {
            "name": "secrets-store",
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": True,
                "volumeAttributes": {"secretProviderClass": "jiwoo-kv"},
            },
        }
    ],
    "extraVolumeMounts": [{"name": "secrets-store", "mountPath": "/mnt/secrets-store", "readOnly": True}],
}
EXTERNAL = {
    "postgresql": {"enabled": False},
    "externalDatabase": {"url": "postgres://jiwoo@db.example.com:6432/jiwoo?sslmode=verify-full&sslrootcert=system"},
    "redis": {"enabled": False},
    "externalRedis": {"url": "rediss://cache.example.com:6380/0"},
}


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_no_app_container_has_a_credential_in_its_environment(value_set):
    values = load_values(value_set)
    containers = app_pod_containers(render_set(value_set))
    assert {"web"} <= set(containers)

    for name, (spec, container) in containers.items():
        env = {e["name"]: e for e in container["env"]}
        for variable in CREDENTIALS:
            if variable in env:
                # Only the in-chart services' URLs, which name a host and a user and nothing secret.
                assert variable in {"DATABASE_URL", "REDIS_URL"}, (name, variable)
                assert "value" in env[variable], (name, variable)
                assert urlsplit(env[variable]["value"]).password is None, (name, variable)
                assert f"{variable}_FILE" not in env  # the app refuses both
        assert not [e for e in container.get("envFrom", []) if "secretRef" in e], name
        # What ran with an environment value before has its file now.
        assert credential(spec, container, "DJANGO_SECRET_KEY"), name
        assert credential(spec, container, "DATABASE_URL"), name
        assert credential(spec, container, "REDIS_URL"), name
        if values.get("postgresql", {}).get("enabled", True):
            assert credential(spec, container, "DATABASE_PASSWORD")[0] == "secret", name
        redis = values.get("redis", {})
        if redis.get("enabled", True) and redis.get("auth", {}).get("enabled", True):
            assert credential(spec, container, "REDIS_PASSWORD")[0] == "secret", name


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_credential_file_is_read_only_and_readable_only_by_the_pods_group(value_set):
    for owner, spec in pod_specs(render_set(value_set)):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec.get("initContainers", []) + spec["containers"]:
            for mount in container.get("volumeMounts", []):
                volume = volumes.get(mount["name"], {})  # a StatefulSet's claim is no volume here
                source = volume.get("projected") or volume.get("secret")
                if source is None:
                    continue
                where = (owner["metadata"]["name"], container["name"], mount["name"])
                assert mount.get("readOnly") is True, where
                assert source["defaultMode"] == 0o440, where
                user = container["securityContext"].get("runAsUser", spec["securityContext"].get("runAsUser"))
                assert user == 0 or spec["securityContext"]["fsGroup"], where  # the group that reads them


def test_postgresql_takes_its_password_from_a_file():
    objects = render({})
    spec = pod_spec(one(objects, "StatefulSet", "jiwoo-postgresql"))
    (postgres,) = spec["containers"]
    env = {e["name"]: e for e in postgres["env"]}

    assert "POSTGRES_PASSWORD" not in env
    assert credential(spec, postgres, "POSTGRES_PASSWORD") == ("secret", "jiwoo-postgresql", "password")
    assert not [e for e in postgres["env"] if "valueFrom" in e]


def test_redis_takes_its_password_from_a_file_and_nowhere_else():
    objects = render({"redis": {"auth": {"password": "k3y/with+slash@and=="}}})
    spec = pod_spec(one(objects, "Deployment", "jiwoo-redis"))
    (redis,) = spec["containers"]
    probe = " ".join(redis["readinessProbe"]["exec"]["command"])

    assert "env" not in redis
    assert "/var/run/secrets/redis/password" in redis["args"][0]
    assert "--requirepass" not in redis["args"][0]  # not on the command line
    assert "REDISCLI_AUTH=" in probe
    assert "/var/run/secrets/redis/password" in probe
    volume = next(v for v in spec["volumes"] if v["name"] == mount_of(redis, "/var/run/secrets/redis/password")["name"])
    assert volume["secret"] == {
        "secretName": "jiwoo-redis",
        "defaultMode": 0o440,
        "items": [{"key": "redis-password", "path": "password"}],
    }
    without = pod_spec(one(render({"redis": {"auth": {"enabled": False}}}), "Deployment", "jiwoo-redis"))
    assert "password" not in without["containers"][0]["args"][0]
    assert [v["name"] for v in without["volumes"]] == ["data"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (Debian's redis-server)")
@pytest.mark.parametrize("password", ["p \"w\\x41 d'$(id)`id`\\", "k3y/with+slash@and==", "plain"])
def test_the_rendered_redis_command_requires_the_password_from_its_file(tmp_path, password):
    """The container's own shell command and readiness probe, run with a real redis-server: the
    password, whatever characters it holds, is what Redis then asks for."""
    redis = pod_spec(one(render({}), "Deployment", "jiwoo-redis"))["containers"][0]
    secret = tmp_path / "password"
    secret.write_text(password + "\n")  # as `kubectl create secret --from-file` often leaves it
    port = free_port()

    def localise(script: str) -> str:
        return script.replace("/var/run/secrets/redis/password", str(secret)).replace(
            "--dir /data", f"--dir {tmp_path} --port {port} --bind 127.0.0.1"
        )

    server = subprocess.Popen(
        ["sh", "-c", localise(redis["args"][0])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, "redis-server did not start"
            assert server.poll() is None, server.stdout.read().decode()
            time.sleep(0.1)
        probe = redis["readinessProbe"]["exec"]["command"]
        assert probe[:2] == ["sh", "-c"]
        probe_script = localise(probe[2]).replace("redis-cli ping", f"redis-cli -p {port} ping")

        assert subprocess.run(["sh", "-c", probe_script]).returncode == 0
        refused = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        assert "NOAUTH" in refused.stdout + refused.stderr
        wrong = subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, env={"REDISCLI_AUTH": "wrong"}
        )
        assert "PONG" not in wrong.stdout
        assert Path(f"/proc/{server.pid}/cmdline").read_bytes().find(password.encode()) == -1
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (Debian's redis-server)")
def test_redis_does_not_start_without_a_password_when_its_file_is_empty(tmp_path):
    redis = pod_spec(one(render({}), "Deployment", "jiwoo-redis"))["containers"][0]
    secret = tmp_path / "password"
    secret.write_text("")
    script = redis["args"][0].replace("/var/run/secrets/redis/password", str(secret))

    result = subprocess.run(["sh", "-c", script.replace("exec redis-server", "exec false")], capture_output=True)

    assert result.returncode != 0
    assert b"password file is empty" in result.stderr


def test_a_file_value_takes_the_place_of_the_chart_secret():
    values = EXTERNAL | CSI
    values |= {
        "secretKey": {"file": "/mnt/secrets-store/django-secret-key"},
        "externalDatabase": values["externalDatabase"] | {"passwordFile": "/mnt/secrets-store/database-password"},
        "externalRedis": {"urlFile": "/mnt/secrets-store/redis-url", "passwordFile": "/mnt/secrets-store/redis-key"},
    }
    objects = render(values)

    for name, (spec, container) in app_pod_containers(objects).items():
        assert credential(spec, container, "DJANGO_SECRET_KEY") == ("csi", "jiwoo-kv", "django-secret-key"), name
        assert credential(spec, container, "DATABASE_PASSWORD") == ("csi", "jiwoo-kv", "database-password"), name
        assert credential(spec, container, "REDIS_URL") == ("csi", "jiwoo-kv", "redis-url"), name
        assert credential(spec, container, "REDIS_PASSWORD") == ("csi", "jiwoo-kv", "redis-key"), name
        assert credential(spec, container, "DATABASE_URL") == ("secret", "jiwoo", "database-url"), name
    # The chart's Secret holds only the URL it was given: no generated key.
    assert set(one(objects, "Secret", "jiwoo")["data"]) == {"database-url"}


def test_with_every_credential_from_files_the_chart_mounts_no_secret_into_the_app():
    values = CSI | {
        "postgresql": {"enabled": False},
        "externalDatabase": {"urlFile": "/mnt/secrets-store/database-url"},
        "redis": {"enabled": False},
        "externalRedis": {"urlFile": "/mnt/secrets-store/redis-url"},
        "secretKey": {"file": "/mnt/secrets-store/django-secret-key"},
        "gitops": True,  # nothing for the chart to generate
    }
    objects = render(values)

    assert not find(objects, "Secret")
    for name, (spec, container) in app_pod_containers(objects).items():
        assert {m["name"] for m in container["volumeMounts"]} == {"tmp", "secrets-store"}, name
        assert not [v for v in spec["volumes"] if "projected" in v or "secret" in v], name


def test_a_credential_file_outside_every_extra_mount_fails_with_what_to_set():
    with pytest.raises(helm.HelmError, match=r"DJANGO_SECRET_KEY_FILE would be /mnt/kv/key, which is under none of"):
        render(CSI | {"secretKey": {"file": "/mnt/kv/key"}})
    with pytest.raises(helm.HelmError, match="under none of extraVolumeMounts"):
        render(EXTERNAL | {"externalRedis": {"url": "rediss://c:6380/0", "passwordFile": "/mnt/secrets-store/k"}})


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (CSI | {"secretKey": {"file": "/mnt/secrets-store/k", "existingSecret": "s"}}, "secretKey.file and"),
        (
            EXTERNAL | CSI | {"externalDatabase": {"url": "postgres://u@h/d", "urlFile": "/mnt/secrets-store/u"}},
            "externalDatabase.url and .urlFile",
        ),
        (
            EXTERNAL
            | CSI
            | {"externalRedis": {"url": "rediss://h:6380/0", "password": "p", "passwordFile": "/mnt/secrets-store/p"}},
            "externalRedis.password and .passwordFile",
        ),
        (CSI | {"admin": {"existingSecret": "a", "username": "admin"}}, "admin.existingSecret and"),
    ],
)
def test_a_credential_given_twice_fails_and_names_both(values, named):
    with pytest.raises(helm.HelmError, match="Each credential comes from one place") as failure:
        render(values)

    assert named in str(failure.value)


def test_the_superuser_from_values_and_a_file_reaches_the_migration_only():
    values = CSI | {"admin": {"username": "admin", "email": "ops@example.com", "passwordFile": "/mnt/secrets-store/pw"}}
    containers = app_pod_containers(render(values))
    spec, migrate = containers["migrate"]

    assert credential(spec, migrate, "DJANGO_SUPERUSER_USERNAME") == ("value", "admin")
    assert credential(spec, migrate, "DJANGO_SUPERUSER_EMAIL") == ("value", "ops@example.com")
    assert credential(spec, migrate, "DJANGO_SUPERUSER_PASSWORD") == ("csi", "jiwoo-kv", "pw")
    for name in ("web", "clearsessions"):
        assert not [e for e in containers[name][1]["env"] if e["name"].startswith("DJANGO_SUPERUSER")], name
    with pytest.raises(helm.HelmError, match=r"admin\.username and admin\.passwordFile go together"):
        render({"admin": {"username": "admin"}})


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ({"migrationUrl": "postgres://jiwoo@db.example.com:5432/jiwoo"}, ("secret", "jiwoo", "database-migration-url")),
        (
            {"existingSecret": "db", "existingSecretMigrationUrlKey": "direct-url", "url": ""},
            ("secret", "db", "direct-url"),
        ),
        ({"migrationUrlFile": "/mnt/secrets-store/direct-url"}, ("csi", "jiwoo-kv", "direct-url")),
    ],
)
def test_a_direct_migration_url_reaches_the_migration_container_only(database, expected):
    values = EXTERNAL | CSI | {"externalDatabase": EXTERNAL["externalDatabase"] | database}
    objects = render(values)
    containers = app_pod_containers(objects)
    spec, migrate = containers["migrate"]
    pooled = credential(*containers["web"], "DATABASE_URL")

    assert credential(spec, migrate, "DATABASE_URL") == expected
    assert pooled != expected
    assert credential(*containers["clearsessions"], "DATABASE_URL") == pooled
    # The same password on both roads.
    assert credential(spec, migrate, "DATABASE_PASSWORD") == credential(*containers["web"], "DATABASE_PASSWORD")


def test_without_a_migration_url_the_migration_reads_what_the_web_server_reads():
    containers = app_pod_containers(render(EXTERNAL))

    assert credential(*containers["migrate"], "DATABASE_URL") == credential(*containers["web"], "DATABASE_URL")
    assert "database-migration-url" not in one(render(EXTERNAL), "Secret", "jiwoo")["data"]


def test_extra_volumes_mounts_and_env_sources_reach_every_app_container():
    values = CSI | {"django": {"extraEnvFrom": [{"configMapRef": {"name": "jiwoo-features"}}]}}
    objects = render(values)
    containers = app_pod_containers(objects)

    assert set(containers) == {"web", "migrate", "clearsessions"}
    for name, (spec, container) in containers.items():
        assert CSI["extraVolumes"][0] in spec["volumes"], name
        assert CSI["extraVolumeMounts"][0] in container["volumeMounts"], name
        assert container["envFrom"][0] == {"configMapRef": {"name": "jiwoo"}}, name
        assert container["envFrom"][1:] == [{"configMapRef": {"name": "jiwoo-features"}}], name
    # The test pod and the other services get none of it.
    for owner, spec in pod_specs(objects):
        if owner["metadata"]["name"] not in {"jiwoo", "jiwoo-clearsessions"}:
            assert "secrets-store" not in str(spec), owner["metadata"]["name"]


def test_a_mount_of_no_volume_fails_with_its_name():
    with pytest.raises(helm.HelmError, match='extraVolumeMounts: "kv" is not a volume of extraVolumes'):
        render({"extraVolumeMounts": [{"name": "kv", "mountPath": "/mnt/kv"}]})


def test_without_an_fs_group_the_credential_files_would_be_unreadable_and_the_chart_says_so():
    with pytest.raises(helm.HelmError, match=r"podSecurityContext\.fsGroup is unset"):
        render({"podSecurityContext": {"fsGroup": None}})  # null: Helm removes the default


def test_the_schema_takes_the_new_values_and_refuses_bad_ones():
    chart = helm.Chart.load(CHART_DIR)
    chart.validate_schema(load_values("azure-values.yaml"))
    chart.validate_schema(CSI | {"django": {"extraEnvFrom": [{"secretRef": {"name": "s"}, "prefix": "X_"}]}})

    for bad in (
        {"secretKey": {"file": "secrets/key"}},
        {"externalDatabase": {"passwordFile": "relative"}},
        {"externalDatabase": {"migrationUrlFile": 3}},
        {"admin": {"passwordFile": "pw"}},
        {"extraVolumes": [{"csi": {}}]},
        {"extraVolumes": [{"name": "credentials", "emptyDir": {}}]},
        {"extraVolumeMounts": [{"name": "kv"}]},
        {"extraVolumeMounts": [{"name": "kv", "mountPath": "/var/run/secrets/jiwoo"}]},
        {"django": {"extraEnvFrom": [{"configMapRef": {"name": "a"}, "mystery": 1}]}},
        {"django": {"extraEnvFrom": [{"prefix": "X_"}]}},
        {"redis": {"auth": {"password": "two\nlines"}}},
    ):
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(bad)
