"""Runs jiwoo as production does, under gunicorn, in its own processes, for end-to-end tests.

Each server gets a fresh database: an SQLite file, or, when DATABASE_URL names PostgreSQL, a
new database on that server that is dropped afterwards. Its stdout (the JSON logs) goes to a
file the test reads.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import requests
from django.conf import settings

from bench.procfs import child_pids

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Migrations and the workers' start-up take a few seconds on a quiet machine; on a busy 2-core
# one (stress-ng on both cores) they took up to ~40 s. The wait ends as soon as it answers.
START_SECONDS = float(os.environ.get("TEST_SERVER_START_SECONDS", "120"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_answer(process: subprocess.Popen, url: str, timeout: float, log_text, name: str) -> None:
    """Wait until ``url`` answers 200 while ``process`` runs; a clear error with its log otherwise.

    A worker still importing the app may take seconds to answer: the wait ends as soon as it does.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_text()}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {url} in {timeout} s:\n{log_text()}")


class FreshDatabase:
    """A database of its own for one server: SQLite under tmp_path, or a new PostgreSQL database."""

    def __init__(self, tmp_path: Path) -> None:
        base = os.environ.get("DATABASE_URL", "")
        self.postgres = base.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            self.name = f"jiwoo_e2e_{uuid.uuid4().hex[:10]}"
            parsed = urlparse(base)
            self.admin_url = base
            self.url = urlunparse(parsed._replace(path=f"/{self.name}"))
            self._execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def drop(self) -> None:
        if self.postgres:
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class AppServer:
    def __init__(self, tmp_path: Path, env: dict | None = None, workers: int = 2) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        self.database = FreshDatabase(tmp_path)
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OTEL_", "DJANGO_", "PYTEST_", "GUNICORN_"))
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "jiwoo.settings",
                "DJANGO_SECRET_KEY": f"e2e-{uuid.uuid4().hex}",
                "DATABASE_URL": self.database.url,
                "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": str(workers),
                "PYTHONUNBUFFERED": "1",
                "OTEL_SDK_DISABLED": "false",
                "DJANGO_HTTPS": "false",
                # Every test signs up from 127.0.0.1 with one Redis prefix; the sign-up limit's
                # own test sets it low.
                "SIGNUP_RATE_LIMIT": "100000",
            }
        )
        self.env.update(env or {})
        self.process: subprocess.Popen | None = None
        self._log = None
        self._dropped = False

    def start(self, timeout: float = START_SECONDS) -> "AppServer":
        """Migrate and start gunicorn; wait until it answers. On any failure it is stopped again
        (and its database dropped) before the error is raised: nothing is left running."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=timeout,
        )
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_answer(self.process, f"{self.url}/healthz", timeout, self.log_text, "gunicorn")

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Stop gunicorn (killed after ``timeout``) and drop its database; safe to call twice."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(sig)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            if self._log is not None:
                self._log.close()
            if not self._dropped:
                self._dropped = True
                self.database.drop()
        return None if self.process is None else self.process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def log_records(self) -> list[dict]:
        """Every line of output as JSON; a line that is not one JSON object fails the test."""
        records = []
        for number, line in enumerate(self.log_text().rstrip("\n").split("\n"), 1):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise AssertionError(f"line {number} of the server output is not JSON: {line!r}") from exc
            assert isinstance(record, dict), line
            records.append(record)
        return records


class Visitor:
    """A person's browser session against the server: cookies, CSRF token, forms and the API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def _csrf(self) -> str:
        token = self.session.cookies.get("csrftoken")
        if token is None:
            self.get("/accounts/login/")
            token = self.session.cookies.get("csrftoken")
        return token

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=10, **kwargs)

    def post_form(self, path: str, data: dict, **kwargs) -> requests.Response:
        token = self._csrf()
        return self.session.post(
            self.base_url + path, data={**data, "csrfmiddlewaretoken": token}, timeout=10, **kwargs
        )

    def api(self, method: str, path: str, body=None, **kwargs) -> requests.Response:
        headers = {"X-CSRFToken": self._csrf(), **kwargs.pop("headers", {})}
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        return self.session.request(method, self.base_url + path, data=body, headers=headers, timeout=10, **kwargs)

    def sign_up(self, username: str, password: str) -> requests.Response:
        return self.post_form("/accounts/signup/", {"username": username, "password1": password, "password2": password})

    def log_in(self, username: str, password: str) -> requests.Response:
        return self.post_form("/accounts/login/", {"username": username, "password": password})

    def log_out(self) -> requests.Response:
        return self.post_form("/accounts/logout/", {})
