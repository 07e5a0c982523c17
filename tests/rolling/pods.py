"""App processes as a Deployment's pods run them: one database, one Redis key prefix and one secret
key for all, each started as a pod starts (its migration init container, then gunicorn) and
stopped as a pod stops (SIGTERM, gunicorn's graceful drain)."""

import contextlib
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path

from django.conf import settings

from tests.appserver import PYTHON, ROOT, START_SECONDS, wait_for_answer


def pod_environment(database_url: str, **extra: str) -> dict[str, str]:
    """What every pod of one release gets: the conventions of tests.appserver.AppServer, with
    one database, one Redis key prefix and one secret key, so a session is valid on every pod."""
    prefixes = ("OTEL_", "DJANGO_", "PYTEST_", "GUNICORN_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiwoo.settings",
            "DJANGO_SECRET_KEY": f"rolling-{uuid.uuid4().hex}",
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
            "PYTHONUNBUFFERED": "1",
            "OTEL_SDK_DISABLED": "false",
            "DJANGO_HTTPS": "false",
            "SIGNUP_RATE_LIMIT": "100000",
        }
    )
    env.update(extra)
    return env


class Pod:
    """One app process on ``port``: ``start()`` runs the init container's migrate_locked, then
    gunicorn, and returns once /readyz answers 200; ``stop()`` is safe to call twice."""

    def __init__(self, workdir: Path, name: str, port: int, env: dict[str, str]) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"{name}-{port}.log"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = START_SECONDS) -> "Pod":
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        # The chart's init container: the migrations, one pod at a time, through the pooler.
        migrated = subprocess.run(
            [PYTHON, "manage.py", "migrate_locked", "--database-timeout=60", "--lock-timeout=120", "--interval=0.5"],
            cwd=ROOT,
            env={**self.env, "OTEL_SDK_DISABLED": "true"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=timeout,
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"{self.name}: migrate_locked exited with {migrated.returncode}:\n{self.log_text()}")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # A process group of its own, as a container is: SIGKILL reaches every worker.
            start_new_session=True,
        )
        wait_for_answer(self.process, f"{self.url}/readyz", timeout, self.log_text, f"{self.name}: gunicorn")

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """What the kubelet does after the preStop hook: ``sig`` to gunicorn's master (the
        container's first process); SIGKILL to every process of the pod. The exit code."""
        if sig == signal.SIGKILL:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 30) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=timeout)
            # Whatever is left of the pod (a worker whose master died first) goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict]:
        """The JSON records of its output (gunicorn's and the app's; migrate_locked's too)."""
        records = []
        for line in self.log_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = {"level": "UNPARSED", "message": line}
            records.append(record)
        return records
