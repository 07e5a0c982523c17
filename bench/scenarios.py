"""What `make bench` measures, and one measurement of a scenario in a variant."""

import re
import time
from pathlib import Path
from urllib.parse import quote

from bench.database import keep_newest
from bench.servers import Server, mode_env, sink_count, spans_from_log, variant_server, wrk

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


def measure(name: str, scenario: dict, mode: str, args, base: dict, sink_url: str, workdir: Path) -> dict:
    """One run of ``scenario`` against a fresh server of variant ``mode``: throughput, latency, CPU, spans."""
    slug = re.sub(r"\W+", "-", name)
    log_path = workdir / f"{slug}-{re.sub(r'[^a-z0-9]+', '-', mode)}-{time.monotonic_ns()}.log"
    if scenario["method"] == "POST":
        # The same writes in every run, never up to the message cap (MESSAGES_PER_USER_MAX).
        keep_newest(args.database_url, scenario["user"], 500)
    sink_before = sink_count(sink_url)
    env = mode_env(base, mode.partition("@")[0], sink_url, args.on_env, args.sample_ratio, args.grpc_url)
    with variant_server(mode, env, log_path, args.trees) as server:
        cookie, csrf = server.session_for(scenario["user"])
        warmup = wrk(server, scenario, args.warmup, args.connections, cookie, csrf)
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
        # Spans a request, over the server's whole life (the log-in's few spans count too).
        "spans_per_request": spans_ended / (warmup["requests"] + result["requests"]) if result["requests"] else 0.0,
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
