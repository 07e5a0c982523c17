"""The processes a measurement runs: gunicorn in a variant's environment, the OTLP sink, and wrk."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from bench import ROOT
from bench.database import PASSWORD
from bench.procfs import child_pids, cpu_seconds, rss_kib


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DJANGO_", "GUNICORN_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiwoo.settings",
            "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
            "DJANGO_HTTPS": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "REDIS_KEY_PREFIX": "jiwoo-bench",
            "AXES_FAILURE_LIMIT": "1000",
            # No worker recycling in the middle of a measurement.
            "GUNICORN_MAX_REQUESTS": "0",
            # Sync workers, one connection each: every worker always busy, nothing queued. The
            # chart's gthread workers accept connections unevenly: one worker can take both
            # connections, and the run then measures one worker, not the app (docs/BENCHMARKS.md).
            "GUNICORN_THREADS": "1",
        }
    )
    return env


def mode_env(
    base: dict,
    mode: str,
    sink_url: str,
    extra_on: dict | None = None,
    sample_ratio: float = 0.1,
    grpc_url: str | None = None,
) -> dict:
    """The environment of a variant's mode (off, on, sampled, grpc, store, jiwoo-exporter,
    library-exporter or stock) on top of ``base_env``."""
    if mode == "off":
        return {**base, "OTEL_SDK_DISABLED": "true", "RECENT_ACTIVITY_ENABLED": "false", "DJANGO_REQUEST_LOG": "false"}
    env = {
        **base,
        **(extra_on or {}),
        "OTEL_SDK_DISABLED": "false",
        "OTEL_SERVICE_NAME": "jiwoo-bench",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
        "OTEL_TRACES_SAMPLER": "always_on",
        "RECENT_ACTIVITY_ENABLED": "true",
        "DJANGO_REQUEST_LOG": "true",
    }
    if mode == "sampled":
        env.update({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": str(sample_ratio)})
    if mode == "grpc":
        if not grpc_url:
            raise ValueError("the grpc variant needs the sink's OTLP/gRPC address (grpc_url)")
        env.update({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": grpc_url})
    if mode == "store":
        env["TRACE_VIEW_ENABLED"] = "true"
    if mode in ("jiwoo-exporter", "library-exporter"):
        # Spans over OTLP/HTTP through jiwoo's own exporter or the library's, whichever is the default.
        env["OTLP_SPAN_EXPORTER"] = mode.split("-")[0]
    if mode == "stock":
        # What the zero-code instrumentation needs to export to the same sink over OTLP/HTTP.
        env.update(
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_METRICS_EXPORTER": "otlp",
                "OTEL_LOGS_EXPORTER": "none",
            }
        )
    return env


class Server:
    """gunicorn with one variant's environment and code; its output goes to a log file."""

    def __init__(self, env: dict, log_path: Path, *, tree: Path = ROOT, stock: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2"}
        self.log_path = log_path
        self.tree = tree
        self.command = [sys.executable, "-m", "gunicorn"]
        if stock:
            self.command += ["-c", "python:bench.stock.gunicorn_conf"]
        else:
            self.command += ["-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]

    def __enter__(self) -> "Server":
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.tree,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        # A deadline that holds on a busy 2-core machine; a slow answer is not yet an answer.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok and len(self.workers()) == 2:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not start: {self.log_path.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def workers(self) -> list[int]:
        return child_pids(self.process.pid)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.workers())

    def rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.workers())

    def session_for(self, username: str | None) -> tuple[str, str]:
        """Log in through the page, as a browser would: the Cookie header and the CSRF token."""
        if username is None:
            return "", ""
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=10)
        token = session.cookies["csrftoken"]
        response = session.post(
            f"{self.url}/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            timeout=10,
        )
        if not response.url.endswith("/messages/"):
            raise RuntimeError(f"could not log in as {username}")
        cookies = session.cookies.get_dict()
        return "; ".join(f"{k}={v}" for k, v in cookies.items()), cookies["csrftoken"]


def variant_server(variant: str, env: dict, log_path: Path, trees: dict[str, Path]) -> Server:
    """The server for one variant: off, on, sampled, grpc, store, stock or on@NAME (the tree named NAME)."""
    mode, _, tree_name = variant.partition("@")
    return Server(env, log_path, tree=trees[tree_name] if tree_name else ROOT, stock=mode == "stock")


def spans_from_log(log_path: Path) -> tuple[int, int]:
    """Spans ended and dropped, from each worker's telemetry.shutdown line."""
    ended = dropped = 0
    for line in log_path.read_text(errors="replace").splitlines():
        if '"telemetry.shutdown"' in line:
            record = json.loads(line)
            ended += record["spans_ended"]
            dropped += record["spans_dropped"]
    return ended, dropped


def wrk(server: Server, scenario: dict, seconds: float, connections: int, cookie: str, csrf: str) -> dict:
    env = {
        **os.environ,
        "JIWOO_COOKIE": cookie,
        "JIWOO_CSRF": csrf,
        "JIWOO_METHOD": scenario["method"],
        "JIWOO_PATHS": "|".join(scenario["paths"]),
    }
    if "body" in scenario:
        env["JIWOO_BODY"] = scenario["body"]
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(ROOT / "bench" / "load.lua"),
            server.url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.split("JSON ", 1)[1])


def sink_count(sink_url: str) -> dict:
    return requests.get(f"{sink_url}/count", timeout=5).json()


@contextmanager
def running_sink(grpc_port: int | None = None):
    """bench.sink on a free port, answering, for the length of the block; yields its URL.

    With ``grpc_port`` it receives OTLP/gRPC there too (the ``grpc`` variant, bench.span_cost).
    """
    url = f"http://127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "bench.sink", url.rsplit(":", 1)[1]]
    sink = subprocess.Popen([*command, str(grpc_port)] if grpc_port else command, cwd=ROOT)
    try:
        for _ in range(50):
            try:
                sink_count(url)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        sink.terminate()
        sink.wait()
