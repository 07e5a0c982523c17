"""Persistent connections or Django 5.2's psycopg pool: what each costs jiwoo, and how many connections it holds.

    .venv/bin/python -m bench.connections [--variants age60,pool,age0] [--routes pgbouncer,direct]
        [--rounds 3] [--duration 10] [--warmup 3] [--connections 16] [--pool-size 50]
        [--database-url postgres://postgres@127.0.0.1:5432/jiwoo_connbench]

Needs psycopg-pool for the pool variants (requirements-dev.txt), wrk,
Debian's pgbouncer, PostgreSQL and Redis. Each measurement starts gunicorn as the chart runs it
(2 workers x 4 gthread threads, production settings, telemetry and recent activity off so the
database path dominates) with one variant of the ``default`` database's connection handling:

- ``ageN``: CONN_MAX_AGE=N with CONN_HEALTH_CHECKS (``age60`` is jiwoo's default; ``age0``
  opens a connection per request, the floor);
- ``pool``, ``poolN``: ``OPTIONS["pool"]`` (psycopg_pool, min_size = max_size = the threads, or
  N, per worker; CONN_MAX_AGE=0), with CONN_HEALTH_CHECKS as jiwoo sets it, which Django turns
  into the pool's ``check`` (an empty query on every checkout); ``pool-nocheck[N]``: without it.

Variants are set by a settings module written to a temporary folder (jiwoo's settings, then
DATABASES edited), so jiwoo/settings.py is untouched. Each route is measured: ``pgbouncer``
(a fresh pgbouncer in transaction mode per measurement, tests/services.py's, with Azure's
default_pool_size of 50 unless --pool-size) and ``direct`` to PostgreSQL. For each, a logged-in
user (session cookie + X-CSRFToken) drives ``GET /api/messages`` and then ``POST /api/messages``
with wrk (bench/load.lua) after a warm-up. Variants alternate within a round, their order
rotating from round to round; the table gives the median and the min-max over the rounds of
requests/s, p99, gunicorn's CPU per request (master + workers, /proc), and the median of
PostgreSQL's CPU per request (the postmaster's whole tree, so other users of the server add
noise), pgbouncer's CPU and queries per request (its SHOW STATS), and the most server
connections (pg_stat_activity of the database, sampled every 0.2 s), pgbouncer client
connections (cl_active + cl_waiting) and clients waiting for a server connection seen.
JSON of every measurement goes to --json (default: a file under /tmp).
"""

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import requests

from bench import ROOT
from bench.procfs import TICKS, child_pids, cpu_seconds
from tests.services import PgBouncer  # pgbouncer in transaction mode, as the tests run it

PYTHON = sys.executable
PASSWORD = "demo-password"
SCENARIOS = {
    "GET /api/messages": {"user": "light", "method": "GET"},
    "POST /api/messages": {"user": "writer", "method": "POST", "body": '{"text": "bench"}'},
}
SETTINGS = '''"""jiwoo's settings with bench/connections.py's variant (JIWOO_BENCH_DB) of connection handling."""
import os
import re

from jiwoo.settings import *  # noqa: F403

_db = DATABASES["default"]  # noqa: F405
_variant = re.fullmatch(r"age(\\d+)|pool(-nocheck)?(\\d*)", os.environ["JIWOO_BENCH_DB"])
if _variant[1] is not None:
    _db["CONN_MAX_AGE"] = int(_variant[1])
else:
    _size = int(_variant[3] or os.environ["GUNICORN_THREADS"])
    _db["CONN_MAX_AGE"] = 0
    _db["CONN_HEALTH_CHECKS"] = not _variant[2]
    _db["OPTIONS"]["pool"] = {"min_size": _size, "max_size": _size}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_db(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def prepare(url: str, env: dict) -> None:
    """Create, migrate and seed the database once: 'light' reads 500 messages, 'writer' posts."""
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    manage = {
        "cwd": ROOT,
        "env": {**env, "DJANGO_SETTINGS_MODULE": "jiwoo.settings", "DATABASE_URL": url},
        "check": True,
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], **manage)
    for user in ("light", "writer"):
        with psycopg.connect(url) as connection:
            if not connection.execute("SELECT 1 FROM auth_user WHERE username = %s", (user,)).fetchone():
                seed = ["seed_demo", "--users", "1", "--messages", "0", "--primary", user, "--primary-messages", "500"]
                subprocess.run(
                    [PYTHON, "manage.py", *seed, "--password", PASSWORD], **manage, stdout=subprocess.DEVNULL
                )


def keep_newest(url: str, username: str, count: int = 500) -> None:
    """The writer's messages back to its newest ``count``: every measurement writes to the same table."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "DELETE FROM messages_app_message WHERE author_id = (SELECT id FROM auth_user WHERE username = %s) "
            "AND id NOT IN (SELECT m.id FROM messages_app_message m JOIN auth_user u ON u.id = m.author_id "
            "WHERE u.username = %s ORDER BY m.created_at DESC LIMIT %s)",
            (username, username, count),
        )


def tree_cpu(parent: int) -> float:
    """CPU of ``parent``, of its reaped children (cutime, cstime) and of its live children."""
    fields = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(value) for value in fields[11:15]) / TICKS
    for pid in child_pids(parent):
        with contextlib.suppress(OSError):  # it exited while we looked
            total += cpu_seconds(pid)
    return total


class Sampler(threading.Thread):
    """Samples the database's server connections and pgbouncer's pool until stopped."""

    def __init__(self, url: str, admin_url: str | None) -> None:
        super().__init__(daemon=True)
        self.url, self.admin_url, self.database = url, admin_url, urlparse(url).path.lstrip("/")
        self.stopping = threading.Event()
        self.server, self.clients, self.waiting = [], [], []

    def run(self) -> None:
        admin = self.admin_url and psycopg.connect(self.admin_url, autocommit=True, cursor_factory=psycopg.ClientCursor)
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopping.wait(0.2):
                sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                self.server.append(connection.execute(sql, (self.database,)).fetchone()[0])
                if admin:
                    for row in admin.execute("SHOW POOLS").fetchall():
                        if row[0] == self.database:
                            self.clients.append(row[2] + row[3])
                            self.waiting.append(row[3])
        if admin:
            admin.close()


def pgbouncer_stats(admin_url: str | None, database: str) -> tuple[int, int]:
    """Transactions and queries pgbouncer has passed to ``database`` so far ((0, 0) without pgbouncer)."""
    if admin_url is None:
        return 0, 0
    with psycopg.connect(admin_url, autocommit=True, cursor_factory=psycopg.ClientCursor) as admin:
        cursor = admin.execute("SHOW STATS")
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall() if row[0] == database]
    return sum(int(r["total_xact_count"]) for r in rows), sum(int(r["total_query_count"]) for r in rows)


class Gunicorn:
    def __init__(self, env: dict, log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.env = {**env, "GUNICORN_BIND": self.url.removeprefix("http://")}
        self.log_path = log_path

    def __enter__(self) -> "Gunicorn":
        self.log = open(self.log_path, "wb")  # closed in __exit__
        command = [PYTHON, "-m", "gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok and len(child_pids(self.process.pid)) == 2:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.__exit__()
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

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *child_pids(self.process.pid)])

    def login(self, username: str) -> tuple[str, str]:
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=10)
        data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]}
        if not session.post(f"{self.url}/accounts/login/", data=data, timeout=10).url.endswith("/messages/"):
            raise RuntimeError(f"could not log in as {username}")
        cookies = session.cookies.get_dict()
        return "; ".join(f"{k}={v}" for k, v in cookies.items()), cookies["csrftoken"]


def wrk(url: str, scenario: dict, session: tuple[str, str], seconds: float, connections: int) -> dict:
    env = {**os.environ, "JIWOO_COOKIE": session[0], "JIWOO_CSRF": session[1], "JIWOO_METHOD": scenario["method"]}
    env.update({"JIWOO_PATHS": "/api/messages", **({"JIWOO_BODY": scenario["body"]} if "body" in scenario else {})})
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        str(ROOT / "bench" / "load.lua"),
        url,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(output.split("JSON ", 1)[1])


def measure(args, route: str, variant: str, base: dict, workdir: Path) -> list[dict]:
    """One gunicorn of ``variant`` on ``route``: each scenario, warmed up and then measured."""
    keep_newest(args.database_url, "writer")
    name = urlparse(args.database_url).path.lstrip("/")
    bouncer = None
    if route == "pgbouncer":
        admin = urlparse(args.database_url).username or "postgres"
        bouncer = PgBouncer(workdir, pool_size=args.pool_size, admin_users=admin).start()
    try:
        admin_url = bouncer.url("pgbouncer") if bouncer else None
        env = {**base, "DATABASE_URL": bouncer.url(name) if bouncer else args.database_url, "JIWOO_BENCH_DB": variant}
        env["PYTHONPATH"] = str(workdir)  # the variant's settings module
        with psycopg.connect(args.database_url) as connection:
            postmaster = int(Path(f"/proc/{connection.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        rows = []
        with Gunicorn(env, workdir / f"{route}-{variant}-{time.monotonic_ns()}.log") as server:
            for scenario_name, scenario in SCENARIOS.items():
                session = server.login(scenario["user"])
                wrk(server.url, scenario, session, args.warmup, args.connections)
                sampler = Sampler(args.database_url, admin_url)
                cpu, pg_cpu = server.cpu_seconds(), tree_cpu(postmaster)
                bouncer_cpu = cpu_seconds(bouncer.process.pid) if bouncer else None
                stats = pgbouncer_stats(admin_url, name)
                sampler.start()
                result = wrk(server.url, scenario, session, args.duration, args.connections)
                sampler.stopping.set()
                sampler.join()
                n = result["requests"] or 1
                after = pgbouncer_stats(admin_url, name)
                rows.append(
                    {
                        "route": route,
                        "variant": variant,
                        "scenario": scenario_name,
                        "requests": result["requests"],
                        "errors": result["non_2xx_3xx"] + result["socket_errors"],
                        "rps": result["requests"] / (result["duration_us"] / 1e6),
                        "p50_ms": result["p50_us"] / 1000,
                        "p99_ms": result["p99_us"] / 1000,
                        "cpu_us": (server.cpu_seconds() - cpu) / n * 1e6,
                        "pg_cpu_us": (tree_cpu(postmaster) - pg_cpu) / n * 1e6,
                        "bouncer_cpu_us": (cpu_seconds(bouncer.process.pid) - bouncer_cpu) / n * 1e6
                        if bouncer
                        else None,
                        "xacts_per_req": (after[0] - stats[0]) / n if bouncer else None,
                        "queries_per_req": (after[1] - stats[1]) / n if bouncer else None,
                        "server_conns_max": max(sampler.server, default=0),
                        "server_conns_median": statistics.median(sampler.server or [0]),
                        "bouncer_clients_max": max(sampler.clients, default=None),
                        "bouncer_waiting_max": max(sampler.waiting, default=None),
                    }
                )
                if rows[-1]["errors"]:
                    print(f"  {rows[-1]['errors']} errors: see {server.log_path}", file=sys.stderr)
        return rows
    finally:
        if bouncer:
            bouncer.stop()


def table(runs: list[dict]) -> str:
    def spread(values: list[float], digits: int = 0) -> str:
        values = [v for v in values if v is not None]
        if not values:
            return "-"
        median = statistics.median(values)
        return f"{median:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    def med(values, digits: int = 0) -> str:
        values = [v for v in values if v is not None]
        return f"{statistics.median(values):.{digits}f}" if values else "-"

    lines = [
        "| route | scenario | variant | req/s | p99 ms | gunicorn CPU µs/req | PostgreSQL CPU µs/req "
        "| pgbouncer CPU µs/req | queries/req | server conns max | pgbouncer clients max (waiting) | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = dict.fromkeys((r["route"], r["scenario"], r["variant"]) for r in runs)
    for route, scenario, variant in keys:
        rs = [r for r in runs if (r["route"], r["scenario"], r["variant"]) == (route, scenario, variant)]
        clients = [r["bouncer_clients_max"] for r in rs if r["bouncer_clients_max"] is not None]
        waiting = [r["bouncer_waiting_max"] for r in rs if r["bouncer_waiting_max"] is not None]
        lines.append(
            f"| {route} | {scenario} | {variant} | {spread([r['rps'] for r in rs])} "
            f"| {spread([r['p99_ms'] for r in rs], 1)} "
            f"| {spread([r['cpu_us'] for r in rs])} | {med([r['pg_cpu_us'] for r in rs])} "
            f"| {med([r['bouncer_cpu_us'] for r in rs])} | {med([r['queries_per_req'] for r in rs], 2)} "
            f"| {max(r['server_conns_max'] for r in rs)} "
            f"| {f'{max(clients)} ({max(waiting)})' if clients else '-'} | {sum(r['errors'] for r in rs)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jiwoo_connbench")
    parser.add_argument("--variants", default="age60,pool,age0", help="ageN, pool[N], pool-nocheck[N]")
    parser.add_argument("--routes", default="pgbouncer,direct", help="pgbouncer, direct")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before each measurement")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--pool-size", type=int, default=50, help="pgbouncer's default_pool_size (Azure's default: 50)")
    parser.add_argument("--json", type=Path, default=None, help="where the measurements go (default: under /tmp)")
    args = parser.parse_args()
    variants, routes = args.variants.split(","), args.routes.split(",")
    for variant in variants:
        if not re.fullmatch(r"age\d+|pool(-nocheck)?\d*", variant):
            parser.error(f"unknown variant {variant!r}")
    # tests/services.py's PgBouncer puts itself in front of DATABASE_URL's server.
    os.environ["DATABASE_URL"] = args.database_url
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DJANGO_", "GUNICORN_", "DATABASE_"))}
    base.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiwoo_conn_bench_settings",
            "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
            "DJANGO_HTTPS": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "REDIS_KEY_PREFIX": "jiwoo-connbench",
            "AXES_FAILURE_LIMIT": "1000",
            "OTEL_SDK_DISABLED": "true",
            "RECENT_ACTIVITY_ENABLED": "false",
            "DJANGO_REQUEST_LOG": "false",
            "GUNICORN_MAX_REQUESTS": "0",  # no worker recycling in a measurement
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        }
    )
    prepare(args.database_url, base)
    workdir = Path(tempfile.mkdtemp(prefix="jiwoo-connbench-"))
    (workdir / "jiwoo_conn_bench_settings.py").write_text(SETTINGS)
    runs = []
    for round_number in range(args.rounds):
        for route in routes:
            # The variants' order turns from round to round, so none always runs first.
            for variant in variants[round_number % len(variants) :] + variants[: round_number % len(variants)]:
                rows = measure(args, route, variant, base, workdir)
                for row in rows:
                    row["round"] = round_number
                    print(
                        f"round {round_number + 1} {route:9} {variant:14} {row['scenario']:20} "
                        f"{row['rps']:6.0f} req/s  p99 {row['p99_ms']:6.1f} ms  {row['cpu_us']:6.0f} µs/req  "
                        f"server conns ≤ {row['server_conns_max']}",
                        file=sys.stderr,
                    )
                runs.extend(rows)
    json_path = args.json or workdir / "connections.json"
    json_path.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs}, indent=1))
    print(f"{len(runs)} measurements, {args.duration:g} s each, {args.connections} wrk connections; JSON: {json_path}")
    print(table(runs))


if __name__ == "__main__":
    main()
