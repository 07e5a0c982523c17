"""`make bench`: what observability costs jiwoo, measured under load.

jiwoo runs under gunicorn (2 sync workers, production settings) against PostgreSQL and Redis,
exporting to a local OTLP sink (bench/sink.py), and wrk drives it from a second process.
Each scenario is measured in every variant, in turn, round after round, so that drift
cancels out:
- ``off``: OTEL_SDK_DISABLED=true, no request log line, no recent activity;
- ``on``: jiwoo's observability fully on (100 % sampling, OTLP export, the http.request log
  line, recent activity);
- ``stock``: the same app with OpenTelemetry's zero-code auto-instrumentation instead of
  jiwoo's telemetry module (bench/stock/), exporting to the same sink, log line and activity on;
- ``sampled``: ``on`` with head sampling, as the README advises for busy production
  (``parentbased_traceidratio`` at ``--sample-ratio``, a tenth by default): the other traces
  are neither recorded nor exported, while every log line still carries its trace id;
- ``grpc``: ``on`` with its spans exported over OTLP/gRPC to the sink's gRPC port instead of
  OTLP/HTTP (only the spans: the metrics still go over HTTP, where the chart's
  ``telemetry.protocol: grpc`` switches every signal);
- ``on@NAME`` for each ``--tree NAME=PATH``: ``on`` run from another checkout of jiwoo (a
  git worktree of an older commit, say), to compare a change before and after in one run.

It reports requests/s, p50/p95/p99 latency, CPU per request (from the workers'
/proc/<pid>/stat), the on/off ratios, spans received by the sink against spans created, and
worker memory; appends a Markdown table to docs/BENCHMARKS.md and writes JSON to
bench/results/. It is a benchmark, not a test: nothing here asserts a time.

    .venv/bin/python bench/run.py [--duration 10] [--rounds 2] [--variants off,on,stock] [--smoke]
    git worktree add /tmp/jiwoo-before HEAD~1 && bench/run.py --tree before=/tmp/jiwoo-before
"""

import argparse
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import requests
from procfs import child_pids, cpu_seconds, rss_kib

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "demo-password"

# What people look for: a name, a ticket, a name with a topic, in Korean and English, and
# two-syllable Korean words, which only the bigram index serves.
SEARCHES = [
    "김민준",
    "ticket-0042",
    "이서연 데이터베이스",
    "coffee ticket-12",
    "박지우 회의",
    "ticket-77 release",
    "서연 회의",
]
SCENARIOS = {
    "messages page": {"user": "light", "method": "GET", "paths": ["/messages/"]},
    # A user of its own: what it posts must not grow the messages page measured above.
    "POST /api/messages": {"user": "writer", "method": "POST", "paths": ["/api/messages"], "body": '{"text": "bench"}'},
    "search, 200k messages": {
        "user": "bench",
        "method": "GET",
        "paths": [f"/api/messages?q={quote(query)}" for query in SEARCHES],
    },
    "recent-activity API": {"user": "light", "method": "GET", "paths": ["/api/logs/recent?limit=50"]},
    "/healthz": {"user": None, "method": "GET", "paths": ["/healthz"]},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, **kwargs)


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
            # chart's gthread workers accept connections unevenly: with two connections, one worker
            # took both in every try, so a run measured one worker, not the app
            # (docs/BENCHMARKS.md, "Fourth pass", gthread's uneven accept).
            "GUNICORN_THREADS": "1",
        }
    )
    return env


def prepare_database(database_url: str, env: dict, messages: int, primary_messages: int) -> None:
    """Create the database if needed, migrate, and seed it once (later runs reuse the data)."""
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    admin_url = urlunparse(urlparse(database_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env, stdout=subprocess.DEVNULL)

    def messages_of(username: str) -> int:
        with psycopg.connect(database_url) as connection:
            return connection.execute(
                "SELECT count(*) FROM messages_app_message m JOIN auth_user u ON u.id = m.author_id "
                "WHERE u.username = %s",
                (username,),
            ).fetchone()[0]

    seed = [PYTHON, "manage.py", "seed_demo", "--password", PASSWORD]
    if messages_of("bench") < primary_messages:
        run(
            [
                *seed,
                "--users",
                "20",
                "--messages",
                str(messages),
                "--primary",
                "bench",
                "--primary-messages",
                str(primary_messages),
            ],
            env,
        )
    for username in ("light", "writer"):
        if messages_of(username) == 0:
            # Everyday users: a page of messages, not hundreds of thousands.
            run([*seed, "--users", "1", "--messages", "0", "--primary", username, "--primary-messages", "500"], env)
    # Every run measures the same page and the same writes: the everyday user and the writer
    # keep exactly their newest 500 (the writer's would otherwise grow by tens of thousands a
    # run, up to the message cap), and VACUUM now, so that autovacuum does not share the CPU
    # with a measurement.
    for username in ("light", "writer"):
        keep_newest(database_url, username, 500)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE messages_app_message")


def keep_newest(database_url: str, username: str, count: int) -> None:
    """Delete all but the user's newest ``count`` messages."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "DELETE FROM messages_app_message WHERE author_id = (SELECT id FROM auth_user WHERE username = %s) "
            "AND id NOT IN (SELECT m.id FROM messages_app_message m JOIN auth_user u ON u.id = m.author_id "
            "WHERE u.username = %s ORDER BY m.created_at DESC LIMIT %s)",
            (username, username, count),
        )


class Server:
    """gunicorn with one variant's environment and code; its output goes to a log file."""

    def __init__(self, env: dict, log_path: Path, *, tree: Path = ROOT, stock: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "2"}
        self.log_path = log_path
        self.tree = tree
        self.command = [PYTHON, "-m", "gunicorn"]
        if stock:
            self.command += ["-c", "bench/stock/gunicorn_conf.py"]
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
    """bench/sink.py on a free port, answering, for the length of the block; yields its URL.

    With ``grpc_port`` it receives OTLP/gRPC there too (the ``grpc`` variant, bench/span_cost.py).
    """
    url = f"http://127.0.0.1:{free_port()}"
    command = [PYTHON, str(ROOT / "bench" / "sink.py"), url.rsplit(":", 1)[1]]
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


def mode_env(
    base: dict,
    mode: str,
    sink_url: str,
    extra_on: dict | None = None,
    sample_ratio: float = 0.1,
    grpc_url: str | None = None,
) -> dict:
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


def variant_server(variant: str, env: dict, log_path: Path, trees: dict[str, Path]) -> Server:
    """The server for one variant: off, on, sampled, grpc, stock or on@NAME (the tree named NAME)."""
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


def measure(name: str, scenario: dict, mode: str, args, base: dict, sink_url: str, workdir: Path) -> dict:
    slug = re.sub(r"\W+", "-", name)
    log_path = workdir / f"{slug}-{re.sub(r'[^a-z0-9]+', '-', mode)}-{time.monotonic_ns()}.log"
    if scenario["method"] == "POST":
        # The same writes in every run, never up to the message cap (MESSAGES_PER_USER_MAX).
        keep_newest(args.database_url, scenario["user"], 500)
    sink_before = sink_count(sink_url)
    env = mode_env(base, mode.partition("@")[0], sink_url, args.on_env, args.sample_ratio, args.grpc_url)
    with variant_server(mode, env, log_path, args.trees) as server:
        cookie, csrf = server.session_for(scenario["user"])
        wrk(server, scenario, args.warmup, args.connections, cookie, csrf)
        cpu_before = server.cpu_seconds()
        result = wrk(server, scenario, args.duration, args.connections, cookie, csrf)
        cpu = server.cpu_seconds() - cpu_before
        rss = server.rss_kib()
    if result["non_2xx_3xx"] or result["socket_errors"]:
        # A refused or failed request is cheaper than a served one: such a run measures nothing.
        raise RuntimeError(
            f"{name} ({mode}): {result['non_2xx_3xx']} answers not 2xx/3xx and {result['socket_errors']} "
            f"socket errors in {result['requests']} requests; see {log_path}"
        )
    # Each worker flushed its spans as it exited; compare over the server's whole life.
    spans_ended, spans_dropped = spans_from_log(log_path)
    sink_after = sink_count(sink_url)
    if spans_ended and sink_after["spans"] == sink_before["spans"]:
        # An export that fails costs less than one that works: such a run measures nothing.
        raise RuntimeError(f"{name} ({mode}): {spans_ended} spans ended and none reached the sink; see {log_path}")
    seconds = result["duration_us"] / 1e6
    return {
        "scenario": name,
        "mode": mode,
        "requests": result["requests"],
        "errors": result["non_2xx_3xx"] + result["socket_errors"],
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "cpu_us_per_request": cpu / result["requests"] * 1e6 if result["requests"] else float("nan"),
        "worker_rss_kib": rss,
        # Over the server's whole life (log-in and warm-up included).
        "spans_created": spans_ended,
        "spans_received": sink_after["spans"] - sink_before["spans"] if mode != "off" else 0,
        "spans_dropped": spans_dropped,
    }


def memory_run(args, base: dict, sink_url: str, workdir: Path) -> dict:
    """Observability on, the messages page for a long run: is worker memory flat?"""
    scenario = SCENARIOS["messages page"]
    with Server(mode_env(base, "on", sink_url, args.on_env), workdir / "memory.log") as server:
        cookie, csrf = server.session_for(scenario["user"])
        wrk(server, scenario, args.warmup, args.connections, cookie, csrf)
        samples = [server.rss_kib()]
        step = max(1, args.memory_seconds // 6)
        for _ in range(args.memory_seconds // step):
            wrk(server, scenario, step, args.connections, cookie, csrf)
            samples.append(server.rss_kib())
    return {"seconds": args.memory_seconds, "rss_kib_samples": samples, "growth_kib": samples[-1] - samples[1]}


def spread(values: list[float], name: str) -> dict:
    """``name``: the median of ``values``; ``name_min`` and ``name_max``: their spread (NaN when there are none)."""
    values = values or [float("nan")]
    return {name: statistics.median(values), f"{name}_min": min(values), f"{name}_max": max(values)}


def page_over_post_cpu(runs: list[dict], mode: str = "off") -> dict | None:
    """The messages page's CPU per request over a ``POST``'s, with observability ``mode``, within each round.

    Both scenarios run in the same round (the loop is round by round), so the machine's drift
    moves both alike; None when the run did not measure both.
    """
    by_round: dict[int, dict] = {}
    for run in runs:
        if run["mode"] == mode and run["scenario"] in ("messages page", "POST /api/messages"):
            by_round.setdefault(run["round"], {})[run["scenario"]] = run["cpu_us_per_request"]
    ratios = [r["messages page"] / r["POST /api/messages"] for r in by_round.values() if len(r) == 2]
    return {"mode": mode, "rounds": len(ratios), **spread(ratios, "ratio")} if ratios else None


def compare(runs: list[dict], baseline: str = "off", variants: tuple[str, ...] | None = None) -> list[dict]:
    """Each variant (or only ``variants``) against ``baseline``: the median of the per-round ratios, and their spread.

    A ratio is taken within one round (the baseline and the variant ran one after the other),
    so a drift of the machine between rounds does not count as a difference.
    """
    rows = []
    for name in dict.fromkeys(run["scenario"] for run in runs):
        by_round: dict[int, dict] = {}
        for run in runs:
            if run["scenario"] == name:
                by_round.setdefault(run["round"], {})[run["mode"]] = run
        modes = dict.fromkeys(r["mode"] for r in runs if r["scenario"] == name)
        for variant in [v for v in modes if v != baseline and (variants is None or v in variants)]:
            pairs = [(r[baseline], r[variant]) for r in by_round.values() if baseline in r and variant in r]
            if not pairs:
                continue
            row = {"scenario": name, "variant": variant, "baseline": baseline, "rounds": len(pairs)}
            for label, key in (("rps", "rps"), ("p99", "p99_ms"), ("cpu", "cpu_us_per_request")):
                ratios = [v[key] / o[key] for o, v in pairs if o[key] and v[key] is not None]
                row.update(spread(ratios, f"{label}_ratio"))
            row["rps"] = statistics.median(v["rps"] for _, v in pairs)
            row["p99_ms"] = statistics.median(v["p99_ms"] for _, v in pairs)
            row["spans_received"] = sum(v["spans_received"] for _, v in pairs)
            row["errors"] = sum(v["errors"] for _, v in pairs)
            rows.append(row)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    """Throughput and p99 of each variant against off, per scenario, as a PNG (none without variants)."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    scenarios = list(dict.fromkeys(row["scenario"] for row in rows))
    variants = list(dict.fromkeys(row["variant"] for row in rows))
    figure, axes = pyplot.subplots(1, 2, figsize=(11, 0.8 * len(scenarios) + 2.2))
    width = 0.8 / max(1, len(variants))
    panels = (("rps", "throughput / off (higher is better)"), ("p99", "p99 latency / off (lower is better)"))
    for axis, (key, title) in zip(axes, panels, strict=True):
        for index, variant in enumerate(variants):
            found = {row["scenario"]: row for row in rows if row["variant"] == variant}
            names = [name for name in scenarios if name in found]
            values = [found[name][f"{key}_ratio"] for name in names]
            spread = [
                [found[name][f"{key}_ratio"] - found[name][f"{key}_ratio_min"] for name in names],
                [found[name][f"{key}_ratio_max"] - found[name][f"{key}_ratio"] for name in names],
            ]
            positions = [scenarios.index(name) + index * width for name in names]
            axis.barh(positions, values, height=width, xerr=spread, label=variant, capsize=2)
        axis.axvline(1.0, color="black", linewidth=0.8)
        axis.set_yticks([number + width * (len(variants) - 1) / 2 for number in range(len(scenarios))])
        axis.set_yticklabels(scenarios if key == "rps" else [])
        axis.invert_yaxis()
        axis.set_title(title, fontsize="medium")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(variants), fontsize="small")
    figure.suptitle("Each variant against observability off: median of the rounds, bars from min to max")
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for name in dict.fromkeys(run["scenario"] for run in runs):
        if not {"off", "on"} <= {run["mode"] for run in runs if run["scenario"] == name}:
            continue
        by_mode = {mode: [r for r in runs if r["scenario"] == name and r["mode"] == mode] for mode in ("off", "on")}

        def median(mode: str, key: str, by_mode=by_mode) -> float:
            return statistics.median(r[key] for r in by_mode[mode])

        rows.append(
            {
                "scenario": name,
                **{
                    f"{key}_{mode}": median(mode, key)
                    for mode in ("off", "on")
                    for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_us_per_request")
                },
                "throughput_on_over_off": median("on", "rps") / median("off", "rps"),
                "cpu_us_added": median("on", "cpu_us_per_request") - median("off", "cpu_us_per_request"),
                "errors": sum(r["errors"] for r in by_mode["off"] + by_mode["on"]),
                "spans_created": sum(r["spans_created"] for r in by_mode["on"]),
                "spans_received": sum(r["spans_received"] for r in by_mode["on"]),
                "spans_dropped": sum(r["spans_dropped"] for r in by_mode["on"]),
                "worker_rss_mib_on": median("on", "worker_rss_kib") / 1024,
            }
        )
    return rows


def versions() -> dict:
    def out(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    import django
    import gunicorn
    from opentelemetry.sdk.version import __version__ as otel

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "opentelemetry-sdk": otel,
        "postgresql": out(["psql", "--version"]),
        "redis": out(["redis-server", "--version"]),
        "wrk": out(["wrk", "--version"]),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
    }


def ratio_text(row: dict, name: str) -> str:
    """A ratio from ``spread``: its median (min to max)."""
    return f"{row[name]:.2f} ({row[f'{name}_min']:.2f} to {row[f'{name}_max']:.2f})"


def variant_names(report: dict) -> list[str]:
    """The variants as the report names them; ``sampled`` with the share of traces it records."""
    ratio = report["settings"].get("sample_ratio")
    return [f"sampled ({ratio:g})" if name == "sampled" else name for name in report["variants"]]


def markdown(report: dict) -> str:
    v = report["versions"]
    lines = [
        f"## {report['date']}",
        "",
        f"Machine: {v['cpu']}. Python {v['python']}, Django {v['django']}, gunicorn {v['gunicorn']} "
        f"(2 sync workers), OpenTelemetry SDK {v['opentelemetry-sdk']}, {v['postgresql']}, {v['redis']}, {v['wrk']}. "
        f"wrk: 1 thread, {report['settings']['connections']} connections, {report['settings']['duration']} s a run "
        f"after {report['settings']['warmup']} s of warm-up, {report['settings']['rounds']} rounds of "
        f"{', '.join(variant_names(report))}; medians shown.",
        "",
        "| scenario | req/s off | req/s on | on/off | p50 off / on (ms) | p95 off / on (ms) | p99 off / on (ms) "
        "| CPU/req off (µs) | CPU/req on (µs) | added (µs) | spans created / received / dropped |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["summary"]:
        lines.append(
            f"| {row['scenario']} | {row['rps_off']:.0f} | {row['rps_on']:.0f} | {row['throughput_on_over_off']:.0%} "
            f"| {row['p50_ms_off']:.2f} / {row['p50_ms_on']:.2f} | {row['p95_ms_off']:.2f} / {row['p95_ms_on']:.2f} "
            f"| {row['p99_ms_off']:.2f} / {row['p99_ms_on']:.2f} | {row['cpu_us_per_request_off']:.0f} "
            f"| {row['cpu_us_per_request_on']:.0f} | {row['cpu_us_added']:+.0f} "
            f"| {row['spans_created']} / {row['spans_received']} / {row['spans_dropped']} |"
        )
    if report.get("comparison"):
        lines += [
            "",
            "Each variant against `off`, ratios taken within a round: median (min to max over rounds).",
            "",
            "| variant | scenario | req/s | req/s / off | p99 (ms) | p99 / off | CPU/req / off | spans received |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in report["comparison"]:
            lines.append(
                f"| `{row['variant']}` | {row['scenario']} | {row['rps']:.0f} | {ratio_text(row, 'rps_ratio')} "
                f"| {row['p99_ms']:.2f} | {ratio_text(row, 'p99_ratio')} | {ratio_text(row, 'cpu_ratio')} "
                f"| {row['spans_received']} |"
            )
    for baseline, rows in report.get("on_against", {}).items():
        lines += [
            "",
            f"`on` against `{baseline}`, ratios taken within a round: median (min to max over rounds).",
            "",
            f"| scenario | req/s on / {baseline} | p99 on / {baseline} | CPU/req on / {baseline} |",
            "| --- | ---: | ---: | ---: |",
        ]
        for row in rows:
            lines.append(
                f"| {row['scenario']} | {ratio_text(row, 'rps_ratio')} | {ratio_text(row, 'p99_ratio')} "
                f"| {ratio_text(row, 'cpu_ratio')} |"
            )
    if report.get("page_over_post_cpu"):
        cost = report["page_over_post_cpu"]
        lines += [
            "",
            f"CPU per request of the messages page over a `POST /api/messages`, observability {cost['mode']}, "
            f"within a round: {ratio_text(cost, 'ratio')} over {cost['rounds']} rounds.",
        ]
    if report.get("memory"):
        memory = report["memory"]
        samples = ", ".join(f"{kib / 1024:.1f}" for kib in memory["rss_kib_samples"])
        lines += [
            "",
            f"Worker memory (both workers, MiB) over a {memory['seconds']} s run of the messages page with "
            f"observability on: {samples} (growth after warm-up {memory['growth_kib'] / 1024:+.1f} MiB).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jiwoo_bench")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    # One connection per sync worker: every worker always busy, and no request queued behind
    # another inside gunicorn, so the latencies are the app's, not a queue's.
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--primary-messages", type=int, default=200_000)
    parser.add_argument("--memory-seconds", type=int, default=60)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="only these (repeatable)")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--smoke", action="store_true", help="a short run on little data that records nothing")
    parser.add_argument(
        "--variants", default="off,on,stock", help="comma-separated: off, on, sampled, grpc, stock (--smoke: off,on)"
    )
    parser.add_argument(
        "--sample-ratio", type=float, default=0.1, help="the share of traces the sampled variant records"
    )
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run `on` from another checkout of jiwoo, as the variant on@NAME (repeatable)",
    )
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmark.png", help="where the plot goes")
    parser.add_argument(
        "--on-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment with observability on, to try a setting (repeatable)",
    )
    args = parser.parse_args()
    args.on_env = dict(item.split("=", 1) for item in args.on_env)
    args.trees = {name: Path(path).resolve() for name, path in (item.split("=", 1) for item in args.tree)}
    if args.smoke:
        args.duration, args.warmup, args.rounds, args.memory_seconds = 1, 1, 1, 0
        args.messages, args.primary_messages = 2_000, 1_000
        if "--variants" not in sys.argv:
            args.variants = "off,on"
    if not 0 <= args.sample_ratio <= 1:
        parser.error(f"--sample-ratio is a share of traces, from 0 to 1; not {args.sample_ratio}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - {"off", "on", "sampled", "grpc", "stock"}
    if unknown or "off" not in variants:
        parser.error(f"--variants takes off (always), on, sampled, grpc and stock; not {sorted(unknown)}")
    variants += [f"on@{name}" for name in args.trees]

    base = base_env(args.database_url)
    prepare_database(args.database_url, base, args.messages, args.primary_messages)
    runs: list[dict] = []
    grpc_port = free_port()
    args.grpc_url = f"http://127.0.0.1:{grpc_port}"
    with running_sink(grpc_port=grpc_port) as sink_url, tempfile.TemporaryDirectory(prefix="jiwoo-bench-") as workdir:
        # Round by round, every scenario in each: a round's numbers were all taken close together,
        # so ratios within a round (a variant against off, the page against a POST) hold while
        # the machine drifts.
        for round_number in range(args.rounds):
            for name in args.scenario or SCENARIOS:
                for mode in variants:
                    result = measure(name, SCENARIOS[name], mode, args, base, sink_url, Path(workdir))
                    runs.append({**result, "round": round_number + 1})
                    print(
                        f"{name:24} {mode:10} round {round_number + 1}: {result['rps']:7.0f} req/s, "
                        f"p95 {result['p95_ms']:6.2f} ms, p99 {result['p99_ms']:6.2f} ms, "
                        f"{result['cpu_us_per_request']:6.0f} µs CPU/req",
                        flush=True,
                    )
        memory = memory_run(args, base, sink_url, Path(workdir)) if args.memory_seconds else None

    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "settings": {
            **{
                k: getattr(args, k)
                for k in (
                    "duration",
                    "warmup",
                    "rounds",
                    "connections",
                    "messages",
                    "primary_messages",
                    "on_env",
                    "sample_ratio",
                )
            },
            "trees": {name: str(path) for name, path in args.trees.items()},
        },
        "variants": variants,
        "summary": summarise(runs),
        "comparison": compare(runs),
        # jiwoo against its peer (stock zero-code instrumentation) and against other trees (a change before and after).
        "on_against": {
            baseline: compare(runs, baseline=baseline, variants=("on",))
            for baseline in variants
            if baseline not in ("off", "on", "sampled") and "on" in variants
        },
        "page_over_post_cpu": page_over_post_cpu(runs),
        "runs": runs,
        "memory": memory,
    }
    table = markdown(report)
    print("\n" + table)
    if args.smoke:
        return
    plot(report["comparison"], args.plot)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.output_dir / f"{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (args.output_dir / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if not args.markdown.exists():
        args.markdown.write_text("# Benchmarks\n\nAppended by `make bench` (bench/run.py); newest last.\n\n")
    with args.markdown.open("a", encoding="utf-8") as handle:
        handle.write("\n" + table)


if __name__ == "__main__":
    main()
