"""Debian's haproxy in front of the app processes, as an ingress controller stands in front of a
Deployment's pods, driven through its runtime API on a UNIX socket."""

import csv
import io
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.appserver import free_port
from tests.services import require, terminate

START_SECONDS = 30
BACKEND = "app"


class HAProxy:
    """Round robin over ``servers`` (name: port on 127.0.0.1); those not in ``active`` start in
    maintenance, spare slots for the processes a rolling update starts."""

    def __init__(self, workdir: Path, servers: dict[str, int], active: list[str]) -> None:
        self.binary = require("haproxy", "haproxy")
        self.workdir = workdir
        self.servers = servers
        self.active = active
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "haproxy.cfg"
        self.socket_path = workdir / "haproxy.sock"
        self.log_path = workdir / "haproxy.log"
        self.process: subprocess.Popen | None = None
        self._log = None

    def config(self) -> str:
        server_lines = [
            f"    server {name} 127.0.0.1:{port}" + ("" if name in self.active else " disabled")
            for name, port in self.servers.items()
        ]
        return "\n".join(
            [
                "global",
                # The runtime API: the test takes servers out of the pool and puts new ones in.
                f"    stats socket {self.socket_path} mode 600 level admin",
                "    log stdout format raw local0 info",
                "",
                "defaults",
                "    mode http",
                "    log global",
                "    option httplog",
                "    timeout connect 2s",
                "    timeout client 60s",
                "    timeout server 60s",
                "    timeout http-request 10s",
                "    timeout http-keep-alive 10s",
                # A request is retried only when the connection to a server could not be made
                # (refused, timed out): then it was never sent, so replaying it cannot save a
                # message twice. conn-failure is haproxy's default, written out because the
                # other reasons (empty-response, response-timeout, 5xx) would replay a POST that
                # may already have reached gunicorn. The retry goes to another server
                # (redispatch), so a process that has just closed its socket costs no request.
                "    retries 3",
                "    retry-on conn-failure",
                "    option redispatch 1",
                # Keep-alive to gunicorn (http-reuse safe, haproxy's default): the first request
                # of a client connection always gets a connection of its own, and only later ones
                # reuse idle connections. A server taken out of the pool gets no new requests,
                # idle connections included, because the server is chosen before a connection.
                # gunicorn closes a connection idle for 5 s; a request that meets that close is
                # not replayed (empty-response is not retried): its client sees the connection
                # closed, as a browser would, and may retry it itself.
                "    http-reuse safe",
                "",
                "frontend web",
                f"    bind 127.0.0.1:{self.port}",
                "    default_backend app",
                "",
                f"backend {BACKEND}",
                "    balance roundrobin",
                # Traffic only to a process whose readiness probe answers 200, as the kubelet's
                # readiness probe gates a pod's endpoint (the chart: three failures to leave).
                # Checked every 0.5 s; an answer may take 2 s, since on a busy 2-core machine
                # /readyz waits for a free worker thread longer than one interval.
                "    option httpchk",
                "    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost",
                "    http-check expect status 200",
                "    timeout check 2s",
                "    default-server check inter 500ms rise 2 fall 3",
                # Which process answered: the test checks every client was served by each one.
                "    http-response set-header X-Served-By %[srv_name]",
                *server_lines,
                "",
            ]
        )

    def start(self) -> "HAProxy":
        """Start in the foreground and wait until it takes connections; stopped again on failure."""
        self.config_path.write_text(self.config())
        try:
            subprocess.run([self.binary, "-c", "-q", "-f", str(self.config_path)], check=True, timeout=30)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self.process = subprocess.Popen(
                [self.binary, "-f", str(self.config_path), "-db"], stdout=self._log, stderr=subprocess.STDOUT
            )
            self._wait_until_it_answers()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                self.command("show info")
                # Any answer will do (a 503 while no server is up yet): haproxy takes requests.
                requests.get(f"{self.url}/healthz", timeout=2)
                return
            except (OSError, requests.RequestException) as exc:
                last = exc
                time.sleep(0.05)
        raise RuntimeError(f"haproxy did not answer within {START_SECONDS} s: {last}\n{self.log_text()}")

    def command(self, line: str) -> str:
        """One command of the runtime API, its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(10)
            connection.connect(str(self.socket_path))
            connection.sendall(line.encode() + b"\n")
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        return answer.decode()

    def set_state(self, server: str, state: str) -> None:
        """ready (in the pool), drain (out of load balancing, still checked) or maint (out, unchecked)."""
        answer = self.command(f"set server {BACKEND}/{server} state {state}")
        assert answer.strip() == "", f"haproxy refused to set {server} {state}: {answer}"

    def statuses(self) -> dict[str, str]:
        """Each server's status as haproxy's statistics give it: UP, DOWN, DRAIN, MAINT, "UP 1/2"..."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").removeprefix("# ")))
        return {
            row["svname"]: row["status"] for row in rows if row["pxname"] == BACKEND and row["svname"] in self.servers
        }

    def wait_for_status(self, server: str, status: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (seen := self.statuses().get(server)) != status:
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy saw {server} {seen!r}, not {status!r}, for {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        terminate(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
