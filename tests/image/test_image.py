"""The container image: its Dockerfile passes hadolint and keeps the chart's promises, and the
image really built (buildah) and run as the chart runs it (podman) serves jiwoo."""

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.appserver import Visitor, free_port
from tests.image.conftest import GRACEFUL_TIMEOUT_SECONDS, TERMINATION_GRACE_SECONDS, ULIMITS, podman

ROOT = Path(__file__).resolve().parents[2]
ONE_YEAR = 365 * 24 * 3600
HANGUL = re.compile("[\uac00-\ud7a3]")


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_gunicorn_as_non_root_with_static_files_collected():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11-slim" in dockerfile
    assert dockerfile.count("FROM ") >= 2  # multi-stage
    assert "USER 10001:10001" in dockerfile
    assert "collectstatic" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert 'CMD ["gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_dockerignore_keeps_every_runtime_package():
    """`COPY . /app` must bring every package the settings name (observability/, operations/, ...)."""
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}

    assert packages, "no top-level package found"
    assert not packages & ignored
    assert not {"manage.py", "requirements.txt", "scripts", "locale", "static", "templates"} & ignored


def test_chart_app_version_matches_the_app():
    import yaml

    from core import __version__

    chart = yaml.safe_load((ROOT / "helm" / "jiwoo" / "Chart.yaml").read_text())
    assert chart["appVersion"] == __version__


# --- the image, built and run -------------------------------------------------------------


def json_lines(text: str) -> list[dict]:
    """Every non-empty line parsed as one JSON object; a line that is not fails the test."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict), line
        records.append(record)
    return records


@pytest.mark.e2e
def test_image_keeps_the_healthcheck_and_the_static_manifest_setting(image):
    config = image.config
    assert image.healthcheck.get("Test", [None])[0] == "CMD"  # --format docker keeps HEALTHCHECK

    assert config.get("User") == "10001:10001"
    assert config.get("Cmd") == ["gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]
    assert "DJANGO_STATIC_MANIFEST=true" in config.get("Env", [])


@pytest.mark.e2e
def test_the_migration_command_of_the_chart_exits_0_and_logs_json(migration):
    assert migration.returncode == 0, migration.stderr + migration.stdout
    records = json_lines(migration.stdout) + json_lines(migration.stderr)
    assert any(record.get("event") == "migrate.done" for record in records), migration.stdout


@pytest.mark.e2e
def test_gunicorn_serves_the_probes(app):
    health = requests.get(app.base_url + "/healthz", timeout=5)
    ready = requests.get(app.base_url + "/readyz", timeout=5)

    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"
    stdout, _ = app.logs()
    assert f":{app.port}" in stdout  # gunicorn's "Listening at" names PORT


@pytest.mark.e2e
def test_a_person_signs_up_logs_out_and_logs_in_again(app, password):
    username = f"img{uuid.uuid4().hex[:8]}"
    visitor = Visitor(app.base_url)

    signed_up = visitor.post_form(
        "/accounts/signup/",
        {"username": username, "password1": password, "password2": password},
        allow_redirects=False,
    )
    assert signed_up.status_code == 302, signed_up.text[:500]
    assert username in visitor.get("/").text
    assert visitor.post_form("/accounts/logout/", {}, allow_redirects=False).status_code == 302
    assert username not in visitor.get("/").text

    logged_in = visitor.post_form(
        "/accounts/login/", {"username": username, "password": password}, allow_redirects=False
    )
    assert logged_in.status_code == 302, logged_in.text[:500]
    assert visitor.session.cookies.get("sessionid")
    assert username in visitor.get("/").text

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = {(record.get("event"), record.get("user")) for record in app.log_records()}
        if {("user.signup", username), ("user.login", username)} <= events:
            break
        time.sleep(0.2)
    assert ("user.signup", username) in events
    assert ("user.login", username) in events
    assert password not in app.logs()[0]


@pytest.mark.e2e
def test_stylesheet_is_hashed_compressed_and_cached_for_a_year(app):
    page = requests.get(app.base_url + "/accounts/login/", timeout=5)
    stylesheets = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"', page.text)
    assert stylesheets, page.text[:1000]
    href = stylesheets[0]
    assert re.search(r"\.[0-9a-f]{12}\.css$", href), f"not a hashed name: {href}"

    for encoding in ("gzip", "br"):
        response = requests.get(app.base_url + href, headers={"Accept-Encoding": encoding}, timeout=5, stream=True)
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == encoding
        cache_control = response.headers["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
        assert max_age >= ONE_YEAR, cache_control
        assert "immutable" in cache_control
        response.close()

    plain = requests.get(app.base_url + href, headers={"Accept-Encoding": "identity"}, timeout=5)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Content-Type"].startswith("text/css")


@pytest.mark.e2e
def test_the_login_page_speaks_korean(app):
    page = requests.get(app.base_url + "/", headers={"Accept-Language": "ko"}, timeout=5)

    assert page.status_code == 200
    assert page.url.startswith(app.base_url + "/accounts/login/")
    assert '<html lang="ko"' in page.text
    assert HANGUL.search(page.text.split("<title>")[1].split("</title>")[0]), page.text[:500]


@pytest.mark.e2e
def test_site_packages_and_the_app_load_byte_compiled(app):
    """Nothing is compiled at boot: every module of the venv and of /app comes from a .pyc."""
    result = podman("exec", app.name, "python", "-v", "-c", "import django; django.setup(); import jiwoo.wsgi")
    loaded_from_source = re.findall(r"^# code object from (/(?:opt/venv|app)/\S+\.py)$", result.stderr, re.MULTILINE)
    loaded_from_cache = re.findall(r"^# code object from '(/opt/venv/\S+\.pyc)'$", result.stderr, re.MULTILINE)

    assert not loaded_from_source, loaded_from_source[:10]
    assert len(loaded_from_cache) > 100


@pytest.mark.e2e
def test_healthcheck_asks_the_port_from_PORT(app, image):
    test = image.healthcheck["Test"]
    assert test[0] == "CMD"
    assert app.port != 8000

    healthy = podman("healthcheck", "run", app.name, check=False)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    # The same command with PORT at a port where nothing listens must report unhealthy.
    closed = podman("exec", "--env", f"PORT={free_port()}", app.name, *test[1:], check=False)
    assert closed.returncode != 0


@pytest.mark.e2e
def test_sigterm_stops_cleanly_within_the_graceful_timeout_and_stdout_is_json_only(start_container):
    container = start_container()
    assert requests.get(container.base_url + "/accounts/login/", timeout=5).status_code == 200

    started = time.monotonic()
    podman("stop", "--time", str(TERMINATION_GRACE_SECONDS), container.name, timeout=TERMINATION_GRACE_SECONDS + 30)
    took = time.monotonic() - started

    state = container.state()
    assert state["ExitCode"] == 0, container.logs_text()
    assert took < GRACEFUL_TIMEOUT_SECONDS, f"stopping took {took:.1f} s"
    stdout, stderr = container.logs()
    records = json_lines(stdout)
    assert not stderr.strip(), stderr
    messages = [record.get("message", "") for record in records]
    assert any("Listening at" in message for message in messages)
    assert any("Shutting down" in message for message in messages), messages[-5:]
    for record in records:
        assert {"timestamp", "level", "logger", "message", "service_name"} <= record.keys(), record


CONNECT = "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=10).close(); print('connected')"


@pytest.mark.e2e
def test_the_image_verifies_a_database_certificate_against_the_system_cas(image, pgbouncer):
    """`sslrootcert=system` in the image reads the CA bundle SSL_CERT_FILE names (Debian's, which
    the image sets): psycopg's own OpenSSL would look in a directory the image does not have."""
    pooler = pgbouncer(tls=True)
    url = pooler.url(sslmode="verify-full", sslrootcert="system")
    run = [*ULIMITS, "--network", "host", "--rm"]

    size = "import os; print(os.path.getsize(os.environ['SSL_CERT_FILE']))"
    bundle = podman("run", *run, image.tag, "python", "-c", size)
    unknown_ca = podman("run", *run, image.tag, "python", "-c", CONNECT, url, check=False)
    as_the_systems = podman(
        "run", *run, "-v", f"{pooler.ca}:/etc/jiwoo-ca.pem:ro", "-e", "SSL_CERT_FILE=/etc/jiwoo-ca.pem",
        image.tag, "python", "-c", CONNECT, url, check=False,
    )  # fmt: skip

    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in image.config.get("Env", [])
    assert int(bundle.stdout) > 100_000  # Debian's bundle of the public CAs
    assert unknown_ca.returncode != 0
    assert "certificate verify failed" in unknown_ca.stderr
    assert as_the_systems.returncode == 0, as_the_systems.stderr
    assert as_the_systems.stdout.strip() == "connected"
