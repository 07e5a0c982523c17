"""Real services the tests start on 127.0.0.1 and stop again: PgBouncer in front of the test
PostgreSQL, and a Redis of a test's own (with a password, if asked).

Each ``start()`` waits for its service to answer, with a deadline that holds on a busy 2-core
machine, and stops what it started when that fails; ``stop()`` is safe to call twice.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
import redis
from django.conf import settings

START_SECONDS = 30


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(program: str, package: str) -> str:
    """The program's path; a failure in CI (which installs it) and a skip elsewhere when missing."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if path is None:
        message = f"{program} is not installed (apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def postgres_url() -> str:
    """The test PostgreSQL's URL (DATABASE_URL); a failure in CI and a skip elsewhere without one."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        if os.environ.get("CI") == "true":
            pytest.fail("DATABASE_URL must name PostgreSQL in CI")
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    return url


def redis_client(url: str | None = None, password: str | None = None, **options) -> redis.Redis:
    """A plain client of the Redis the tests use (REDIS_URL and REDIS_PASSWORD, as the app reads them)."""
    password = settings.REDIS_PASSWORD if password is None and url is None else password
    if password:
        options["password"] = password
    return redis.Redis.from_url(url or settings.REDIS_URL, **options)


def terminate(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """Stop a process the test started: SIGTERM, then SIGKILL after ``timeout``; safe to call twice."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(check, what: str, process: subprocess.Popen | None = None, timeout: float = START_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            check()
            return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
            last = exc
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer within {timeout} s: {last}")


class PgBouncer:
    """Debian's pgbouncer in transaction mode (as Azure's built-in pooler runs) in front of the
    test PostgreSQL, otherwise with its default settings. Clients log in with ``password``."""

    def __init__(
        self, workdir: Path, *, password: str = "pooler-Passw0rd", pool_size: int = 4, tls: bool = False, **settings
    ) -> None:
        """``workdir`` keeps its log; ``settings`` are added to its [pgbouncer] section. With
        ``tls`` clients must speak TLS, and the pooler shows a certificate for localhost signed
        by a CA of the test's own (``self.ca``): a TLS-only server, as Azure's are."""
        self.binary = require("pgbouncer", "pgbouncer")
        self.tls = tls
        self.certificates: dict[str, Path] = {}
        self.ca: Path | None = None
        upstream = urlparse(postgres_url())
        self.upstream = upstream
        self.user = upstream.username or "postgres"
        self.password = password
        self.port = free_port()
        self.workdir = workdir
        self.settings = {"default_pool_size": pool_size, **settings}
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"pgbouncer-{self.port}.log"

    def url(self, database: str | None = None, *, password: str | None = None, **query: str) -> str:
        """A URL to ``database`` (the test database by default) through the pooler, with the
        pooler's password unless another is given ("" for none: the app may read it from a file)."""
        database = database or self.upstream.path.lstrip("/")
        host = "localhost" if self.tls else "127.0.0.1"  # the name its certificate is for
        secret = self.password if password is None else password
        netloc = f"{self.user}:{secret}@{host}:{self.port}" if secret else f"{self.user}@{host}:{self.port}"
        return urlunparse(("postgres", netloc, f"/{database}", "", "&".join(f"{k}={v}" for k, v in query.items()), ""))

    def start(self) -> "PgBouncer":
        # pgbouncer refuses to run as root; as root it is started as the postgres user (-u), who
        # cannot enter pytest's private tmp_path: its files go to a folder of their own.
        self.config_dir = Path(tempfile.mkdtemp(prefix="jiwoo-pgbouncer-"))
        self.config_dir.chmod(0o755)
        config = self.config_dir / "pgbouncer.ini"
        users = self.config_dir / "users.txt"
        users.write_text(f'"{self.user}" "{self.password}"\n')
        host = self.upstream.hostname or "127.0.0.1"
        tls_lines = []
        if self.tls:
            self.certificates = make_certificates(self.config_dir)
            for path in self.certificates.values():
                path.chmod(0o644)  # readable by the postgres user pgbouncer runs as
            self.ca = self.workdir / f"pgbouncer-{self.port}-ca.pem"
            shutil.copy(self.certificates["ca"], self.ca)
            tls_lines = [
                "client_tls_sslmode = require",
                f"client_tls_cert_file = {self.certificates['server']}",
                f"client_tls_key_file = {self.certificates['server-key']}",
            ]
        lines = [
            "[databases]",
            f"* = host={host} port={self.upstream.port or 5432}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {users}",
            "pool_mode = transaction",
            *tls_lines,
            *(f"{key} = {value}" for key, value in self.settings.items()),
        ]
        config.write_text("\n".join(lines) + "\n")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = [self.binary, str(config)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        check = {"sslmode": "verify-full", "sslrootcert": str(self.ca)} if self.tls else {}
        try:
            _wait(lambda: psycopg.connect(self.url(), connect_timeout=2, **check).close(), "pgbouncer", self.process)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        terminate(self.process)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if getattr(self, "config_dir", None) is not None:
            shutil.rmtree(self.config_dir, ignore_errors=True)
            self.config_dir = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def change_password(self, password: str) -> None:
        """Clients must log in with ``password`` from now on (the auth file is read again)."""
        self.password = password
        (self.config_dir / "users.txt").write_text(f'"{self.user}" "{password}"\n')
        self.process.send_signal(signal.SIGHUP)


def make_certificates(folder: Path, host: str = "localhost") -> dict[str, Path]:
    """A CA of the test's own and a server certificate for ``host`` and 127.0.0.1 that it signed."""
    files = {name: folder / f"{name}.pem" for name in ("ca", "ca-key", "server", "server-key", "request")}
    extensions = folder / "extensions.cnf"
    extensions.write_text(f"subjectAltName=DNS:{host},IP:127.0.0.1\n")
    new_key = ["-newkey", "rsa:2048", "-nodes"]
    ca, ca_key, request, server = files["ca"], files["ca-key"], files["request"], files["server"]
    signed = ["-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-extfile", extensions]
    commands = [
        ["req", "-x509", *new_key, "-days", "2", "-subj", "/CN=jiwoo test CA", "-keyout", ca_key, "-out", ca],
        ["req", *new_key, "-subj", f"/CN={host}", "-keyout", files["server-key"], "-out", request],
        ["x509", "-req", "-in", request, *signed, "-days", "2", "-out", server],
    ]
    openssl = require("openssl", "openssl")
    for command in commands:
        subprocess.run([openssl, *map(str, command)], check=True, capture_output=True, timeout=60)
    return files


class RedisServer:
    """A redis-server of the test's own on a spare port, optionally with a password and TLS only
    (a certificate for localhost, signed by a CA of the test's own: ``self.ca``)."""

    def __init__(self, workdir: Path, *, password: str = "", tls: bool = False) -> None:
        self.binary = require("redis-server", "redis-server")
        self.port = free_port()
        self.workdir = workdir
        self.password = password
        self.tls = tls
        self.process: subprocess.Popen | None = None
        self.certificates = make_certificates(workdir) if tls else {}
        self.ca = self.certificates.get("ca")
        self.url = f"rediss://localhost:{self.port}/0" if tls else f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        command = [self.binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        if self.tls:
            command += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            command += ["--tls-cert-file", str(self.certificates["server"])]
            command += ["--tls-key-file", str(self.certificates["server-key"])]
        else:
            command += ["--port", str(self.port)]
        if self.password:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            _wait(lambda: self.client().ping(), "redis-server", self.process)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        terminate(self.process)

    def client(self) -> redis.Redis:
        options = {"ssl_ca_certs": str(self.ca)} if self.tls else {}
        return redis_client(self.url, self.password, socket_timeout=2, **options)
