"""A rolling update of three app processes loses nothing.

Three gunicorn processes, as a Deployment's pods, share one PostgreSQL database (reached only
through PgBouncer in transaction mode), one Redis and one secret key, behind haproxy (the
ingress). Logged-in clients post and read through haproxy the whole time while each process in
turn is replaced as a rolling update with maxSurge 1 and maxUnavailable 0 does: a new process
is started and becomes ready, the old one leaves the proxy's pool, its preStop sleep runs, then
SIGTERM and gunicorn's graceful drain. No request may fail, every client stays logged in on
every process, every accepted message is saved exactly once, and each has its activity entry.
"""

import itertools
import json
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import psycopg
import pytest
from django.conf import settings

from tests.appserver import FreshDatabase, free_port
from tests.rolling.haproxy import HAProxy
from tests.rolling.load import Load
from tests.rolling.pods import Pod, pod_environment
from tests.services import postgres_url, redis_client, require

pytestmark = pytest.mark.e2e

REPLICAS = 3
CLIENTS = 6
# The chart's preStop sleep (5 s there): the endpoint leaves the ingress while it runs.
PRESTOP_SECONDS = 2
GRACEFUL_SECONDS = 20
# Two workers of four threads a process, four processes during a surge: 32 clients of PgBouncer
# at most, on this many server connections (it queues the rest, as Azure's pooler does).
POOL_SIZE = 10
# Activity entries reach Redis from a background thread every 100 ms, and at a worker's exit.
ACTIVITY_SECONDS = 30


@pytest.fixture
def database(tmp_path):
    """One database for every process of the release, dropped after the test."""
    postgres_url()
    database = FreshDatabase(tmp_path)
    yield database
    database.drop()


@pytest.fixture
def pods(tmp_path):
    """Factory: start a pod (a Pod) on a given port; every one is stopped after the test."""
    started = []

    def start(name: str, port: int, env: dict[str, str]) -> Pod:
        pod = Pod(tmp_path, name, port, env)
        started.append(pod)  # before start(): stopped after the test even if it fails to start
        return pod.start()

    yield start
    for pod in started:
        pod.stop()


@pytest.fixture
def haproxy(tmp_path):
    """Factory: haproxy in front of the given servers; stopped after the test. Without haproxy
    the test fails in CI and is skipped elsewhere, before anything is started."""
    require("haproxy", "haproxy")
    started = []

    def start(servers: dict[str, int], active: list[str]) -> HAProxy:
        proxy = HAProxy(tmp_path, servers, active)
        started.append(proxy)
        return proxy.start()

    yield start
    for proxy in started:
        proxy.stop()


class Step(NamedTuple):
    """One process replaced: how long the new one took to take traffic, the old one to exit."""

    name: str
    ready_seconds: float
    exit_seconds: float
    exit_code: int


def roll(proxy: HAProxy, running: dict[str, Pod], start_pod, old: str, new: str) -> Step:
    """Replace ``old`` by ``new`` as the Deployment controller and the kubelet do."""
    started = time.monotonic()
    # maxSurge 1, maxUnavailable 0: the new pod first, and traffic only once it is ready.
    running[new] = start_pod(new)
    proxy.set_state(new, "ready")
    proxy.wait_for_status(new, "UP")
    ready = time.monotonic()
    # Terminating the old pod removes its endpoint while the preStop sleep runs; then SIGTERM,
    # and gunicorn finishes the requests in flight before it exits.
    proxy.set_state(old, "drain")
    time.sleep(PRESTOP_SECONDS)  # the preStop sleep itself: a deliberate delay, not a wait
    signalled = time.monotonic()
    exit_code = running[old].terminate(signal.SIGTERM, timeout=GRACEFUL_SECONDS + 30)
    proxy.set_state(old, "maint")
    return Step(f"{old}->{new}", ready - started, time.monotonic() - signalled, exit_code)


def saved_messages(database: FreshDatabase) -> dict[str, list[int]]:
    """The ids of every message in the database, by text, read from PostgreSQL directly."""
    with psycopg.connect(database.url) as connection:
        rows = connection.execute("SELECT text, id FROM messages_app_message").fetchall()
    saved: dict[str, list[int]] = {}
    for text, message_id in rows:
        saved.setdefault(text, []).append(message_id)
    return saved


def activity_of_accepted_posts() -> Counter:
    """Everyone's recent activity in Redis: the entries of accepted POST /api/messages, by user."""
    client = redis_client(socket_timeout=5)
    try:
        raw = client.lrange(f"{settings.REDIS_KEY_PREFIX}:recent-activity:all", 0, -1)
    finally:
        client.close()
    entries = [json.loads(entry) for entry in raw]
    return Counter(
        entry["user"]
        for entry in entries
        if entry.get("method") == "POST" and entry.get("path") == "/api/messages" and entry.get("status") == 201
    )


def longest_gap(ends: list[float], start: float, end: float) -> float:
    """The longest time between good answers (any client's) from ``start`` to ``end``."""
    moments = [start, *sorted(t for t in ends if start <= t <= end), end]
    return max(later - earlier for earlier, later in itertools.pairwise(moments))


def test_a_rolling_update_of_three_processes_behind_haproxy_loses_nothing(haproxy, database, pgbouncer, pods):
    pooler = pgbouncer(pool_size=POOL_SIZE)
    env = pod_environment(
        pooler.url(database.name),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_SECONDS),
        # Every request of the run keeps its entry, so each accepted POST can be found.
        RECENT_LOGS_MAX="100000",
    )
    old = [f"web{number}" for number in range(1, REPLICAS + 1)]
    new = [f"web{number}" for number in range(REPLICAS + 1, 2 * REPLICAS + 1)]
    ports = {name: free_port() for name in old + new}
    started = time.monotonic()

    def start_pod(name: str) -> Pod:
        return pods(name, ports[name], env)

    # As `helm install` starts them: together, taking turns on the migration lock.
    with ThreadPoolExecutor(REPLICAS) as executor:
        running = {pod.name: pod for pod in executor.map(start_pod, old)}
    # The spare slots start in maintenance; each new process takes one during the roll.
    proxy = haproxy(ports, active=old)
    for name in old:
        proxy.wait_for_status(name, "UP")

    load = Load(proxy.url, CLIENTS).sign_up().start()
    try:
        before = load.wait_until_each_client_was_served_by(old)
        roll_started = time.monotonic()
        steps = [
            roll(proxy, running, start_pod, old_name, new_name) for old_name, new_name in zip(old, new, strict=True)
        ]
        roll_ended = time.monotonic()
        after = load.wait_until_each_client_was_served_by(new)
    finally:
        load.stop()

    outcomes = load.outcomes()
    failed = [o for o in outcomes if o.error]
    accepted = {text: message_id for client in load.clients for text, message_id in client.accepted.items()}
    accepted_by_user = Counter({client.username: len(client.accepted) for client in load.clients})
    saved = saved_messages(database)
    deadline = time.monotonic() + ACTIVITY_SECONDS
    while (activity := activity_of_accepted_posts()) != accepted_by_user and time.monotonic() < deadline:
        time.sleep(0.1)
    during_roll = [o for o in outcomes if roll_started <= o.started and o.ended <= roll_ended]
    gap = longest_gap([o.ended for o in outcomes if not o.error], roll_started, roll_ended)
    slowest = max(outcomes, key=lambda o: o.duration)
    timings = ", ".join(
        f"{step.name}: ready in {step.ready_seconds:.1f} s, exited {step.exit_seconds:.1f} s after SIGTERM"
        for step in steps
    )
    print(
        f"\nrolling update: {len(outcomes)} requests ({len(during_roll)} during the roll), "
        f"{len(failed)} failed, {len(accepted)} POSTs accepted, {sum(map(len, saved.values()))} messages in the "
        f"database, {activity.total()} activity entries for them; longest request {slowest.duration:.3f} s "
        f"({slowest.action}, {slowest.served_by}), longest gap between good answers during the roll {gap:.3f} s; "
        f"roll {roll_ended - roll_started:.1f} s ({timings}), whole run {time.monotonic() - started:.1f} s"
    )

    assert not load.crashes, load.crashes[0]
    # haproxy's own events and the requests it ended abnormally (termination state not ----).
    trouble = [line for line in proxy.log_text().splitlines() if " ---- " not in line and line[:1] != "["][-40:]
    assert not failed, (
        f"{len(failed)} failed requests, the first:\n"
        + "\n".join(map(str, failed[:20]))
        + ("\nhaproxy:\n" + "\n".join(trouble))
    )
    # Every client stayed logged in on every process, old and new (the pages and the API
    # answered it as itself: a lost session would have been a redirect, a 401 or a 403).
    assert not before, f"clients not served by every old process: {before}"
    assert not after, f"clients not served by every new process: {after}"
    assert [step.exit_code for step in steps] == [0] * REPLICAS, f"not a graceful exit: {steps}"
    # Every accepted message is saved once, under the id the client was given, and nothing else.
    assert {text: ids for text, ids in saved.items() if len(ids) != 1} == {}
    assert {text: ids[0] for text, ids in saved.items()} == accepted
    assert len(accepted) > 0
    # One activity entry for each accepted POST, written by whichever process took it.
    assert activity == accepted_by_user
    errors = [
        (pod.name, record)
        for pod in running.values()
        for record in pod.log_records()
        if record.get("level") in {"ERROR", "CRITICAL", "UNPARSED"}
    ]
    assert not errors, errors[:5]
