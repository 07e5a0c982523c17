"""Build the real image with buildah and run it with podman as the Helm chart runs it.

The image is built once per test session by scripts/image/build.sh (the same script as
`make image`), against the stand-in base image of scripts/image/base-image.sh, which it makes
when missing and reuses otherwise. Each container runs as the chart's pods do: read-only root
filesystem, every capability dropped, no privilege escalation, uid/gid 10001, a tmpfs /tmp,
on the host's network (so that it reaches the host's PostgreSQL and Redis on 127.0.0.1) with a
free PORT of its own. Every fixture removes what it started (containers, the database, the
Redis keys), also when start-up fails.

Outside CI the tests skip when buildah, podman or PostgreSQL are missing; with CI=true they
fail instead, since CI (.ci/run) installs them.
"""

import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import requests

from tests.appserver import free_port

ROOT = Path(__file__).resolve().parents[2]
IMAGE_TAG = os.environ.get("JIWOO_TEST_IMAGE", "localhost/jiwoo:test")
BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
BUILD_TIMEOUT = 1500  # seconds; a fresh machine takes about two minutes
START_TIMEOUT = 90  # seconds until /healthz answers (two busy cores, other suites running)
# The chart's terminationGracePeriodSeconds, and gunicorn's graceful timeout inside it.
TERMINATION_GRACE_SECONDS = 30
GRACEFUL_TIMEOUT_SECONDS = 20
# podman's global options: runc (crun refuses this machine's cgroup layout).
PODMAN = ["podman", "--runtime", "runc"]
# This sandbox cannot raise the default limits: every container states its own.
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]


def unavailable(reason: str):
    """Skip on a developer's machine that lacks a tool; fail in CI, which installs them all."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs what the image tests need)", pytrace=False)
    pytest.skip(reason)


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr}{result.stdout}")
    return result


def chart_like_run_options(name: str, env: dict[str, str]) -> list[str]:
    """`podman run` options matching the chart's pod and container security contexts."""
    options = [
        "--name",
        name,
        "--read-only",
        "--read-only-tmpfs=false",  # only /tmp is writable, as the chart's emptyDir makes it
        "--tmpfs",
        "/tmp:rw,size=64m,mode=1777",
        "--cap-drop=ALL",
        "--security-opt",
        "no-new-privileges",
        "--user",
        "10001:10001",
        "--network",
        "host",
        "--log-driver",
        "k8s-file",
        *ULIMITS,
    ]
    for key, value in env.items():
        options += ["--env", f"{key}={value}"]
    return options


@dataclass
class BuiltImage:
    tag: str
    id: str
    build_seconds: float
    config: dict = field(default_factory=dict)
    healthcheck: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def image(tmp_path_factory) -> BuiltImage:
    """The Dockerfile built with buildah, once per session (layers cached between sessions)."""
    missing = [tool for tool in ("buildah", "podman", "runc") if shutil.which(tool) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not installed (apt-get install buildah podman runc debootstrap)")
    if os.geteuid() != 0:
        unavailable("the image build and run settings here are for root (as on this project's machines and CI)")
    if podman("image", "exists", BASE_IMAGE, check=False).returncode != 0 and shutil.which("debootstrap") is None:
        unavailable(f"no base image {BASE_IMAGE} and no debootstrap to make its stand-in")

    log = tmp_path_factory.mktemp("image") / "build.log"
    started = time.monotonic()
    with log.open("w") as out:
        try:
            result = subprocess.run(
                [str(ROOT / "scripts" / "image" / "build.sh"), IMAGE_TAG],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the image build took over {BUILD_TIMEOUT} s; log: {log}", pytrace=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        pytest.fail(f"scripts/image/build.sh exited {result.returncode}:\n{tail}", pytrace=False)
    inspected = json.loads(podman("image", "inspect", IMAGE_TAG).stdout)[0]
    print(f"\nimage {IMAGE_TAG} built in {elapsed:.0f} s")
    return BuiltImage(
        tag=IMAGE_TAG,
        id=inspected["Id"],
        build_seconds=elapsed,
        config=inspected.get("Config") or {},
        healthcheck=inspected.get("Healthcheck") or {},
    )


def _postgres_admin_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        return base
    return "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def app_env():
    """The environment of the chart's pods: a fresh PostgreSQL database and a Redis prefix of its own."""
    import psycopg
    import redis

    admin_url = _postgres_admin_url()
    try:
        psycopg.connect(admin_url, connect_timeout=5, autocommit=True).close()
    except psycopg.Error as error:
        unavailable(f"PostgreSQL does not answer at {admin_url}: {error}")
    name = f"jiwoo_image_{uuid.uuid4().hex[:10]}"
    prefix = f"jiwoo-image-{uuid.uuid4().hex[:10]}"
    redis_url = "redis://127.0.0.1:6379/0"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {
            "DATABASE_URL": urlunparse(urlparse(admin_url)._replace(path=f"/{name}")),
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "DJANGO_SECRET_KEY": f"image-test-{uuid.uuid4().hex}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_HTTPS": "false",
            "OTEL_SERVICE_NAME": "jiwoo",
            "WEB_CONCURRENCY": "2",
            "PORT": str(free_port()),
        }
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass
        finally:
            client.close()


@pytest.fixture(scope="module")
def migration(image, app_env) -> subprocess.CompletedProcess:
    """The chart's migration init container: `manage.py migrate_locked`, with its options."""
    name = f"jiwoo-image-migrate-{uuid.uuid4().hex[:8]}"
    env = {**app_env, "OTEL_SDK_DISABLED": "true"}
    command = ["python", "manage.py", "migrate_locked", "--database-timeout=60", "--lock-timeout=60"]
    # Detached, then waited for: `podman logs` keeps the container's stdout and stderr apart
    # from podman's own messages. An init container has no health check.
    options = chart_like_run_options(name, env)
    try:
        podman("run", "--detach", "--health-cmd", "none", *options, image.id, *command)
        exit_code = int(podman("wait", name, timeout=300).stdout.strip())
        logs = podman("logs", name)
        return subprocess.CompletedProcess(command, exit_code, logs.stdout, logs.stderr)
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


class Container:
    """One container of the image started with the chart's settings, and its logs."""

    def __init__(self, image: BuiltImage, env: dict[str, str]) -> None:
        self.image = image
        self.env = env
        self.name = f"jiwoo-image-{uuid.uuid4().hex[:8]}"
        self.port = int(env["PORT"])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> "Container":
        # No automatic health check timer (there is no systemd here); the tests run it.
        options = chart_like_run_options(self.name, self.env)
        podman("run", "--detach", "--health-interval", "disable", *options, self.image.id)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"the container exited while starting:\n{self.logs_text()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"/healthz did not answer within {START_TIMEOUT} s:\n{self.logs_text()}")

    def state(self) -> dict:
        return json.loads(podman("inspect", "--type", "container", self.name).stdout)[0]["State"]

    def running(self) -> bool:
        return bool(self.state()["Running"])

    def logs(self) -> tuple[str, str]:
        result = podman("logs", self.name)
        return result.stdout, result.stderr

    def logs_text(self) -> str:
        stdout, stderr = self.logs()
        return "\n".join((stdout + stderr).splitlines()[-40:])

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in self.logs()[0].splitlines() if line.strip()]

    def remove(self) -> None:
        podman("rm", "--force", "--time", "0", self.name, check=False)


@pytest.fixture(scope="module")
def start_container(image, app_env, migration):
    """Factory: a container of the image serving CMD (gunicorn); every one is removed after."""
    if migration.returncode != 0:
        pytest.fail(f"the migration command exited {migration.returncode}:\n{migration.stderr}{migration.stdout}")
    containers: list[Container] = []

    def start(**extra_env: str) -> Container:
        container = Container(image, {**app_env, "PORT": str(free_port()), **extra_env})
        containers.append(container)
        return container.start()

    try:
        yield start
    finally:
        for container in containers:
            container.remove()


@pytest.fixture(scope="module")
def app(start_container) -> Container:
    """The app serving, shared by the module's checks."""
    return start_container()
