"""migrate_locked through PgBouncer in transaction mode, as app pods run it on Azure: migrators
started together never overlap, and a lock never outlives the process that held it."""

import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from operations.management.commands.migrate_locked import LOCK_KEY
from tests.appserver import ROOT, FreshDatabase
from tests.services import postgres_url

pytestmark = pytest.mark.e2e

# Holds the migration lock the way migrate_locked does, then waits to be killed.
HOLD_THE_LOCK = """
import time, django
django.setup()
from django.db import connections
from operations.management.commands.migrate_locked import migration_lock
with migration_lock(connections.create_connection("default"), timeout=30, interval=0.1):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def fresh_database(tmp_path):
    postgres_url()
    database = FreshDatabase(tmp_path)
    yield database
    database.drop()


def environment(url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTEL_", "PYTEST_"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "jiwoo.settings",
        "DJANGO_SECRET_KEY": "migrations-test",
        "DATABASE_URL": url,
        "OTEL_SDK_DISABLED": "true",
    }


def migrator(url: str, *arguments: str) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "migrate_locked", "--interval=0.1", *arguments]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def advisory_locks(url: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(
            "SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            [LOCK_KEY],
        ).fetchall()


def test_two_migrators_started_together_through_the_pooler_take_turns(pgbouncer, fresh_database):
    """A session lock through the pooler let both in at once (one server session, one lock) and
    ended in `relation ... already exists`; the transaction's lock keeps them apart."""
    pooler = pgbouncer(pool_size=2)
    url = pooler.url(fresh_database.name)

    runs = [migrator(url), migrator(url)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]

    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output
    held = []
    for output in outputs:
        events = {r["event"]: r["timestamp"] for r in records(output) if r.get("event", "").startswith("migrate.lock")}
        held.append((events["migrate.lock_taken"], events["migrate.lock_released"]))
    first, second = sorted(held)
    assert first[1] <= second[0], f"the two migrations overlapped: {held}"
    applied = [r["message"] for output in outputs for r in records(output) if r.get("event") == "migrate.output"]
    assert len([line for line in applied if line.startswith("Applying messages_app.0001_initial")]) == 1
    assert advisory_locks(postgres_url().rsplit("/", 1)[0] + f"/{fresh_database.name}") == []


def test_a_killed_holder_leaves_no_lock_behind_through_the_pooler(pgbouncer, fresh_database):
    pooler = pgbouncer(pool_size=2)
    url = pooler.url(fresh_database.name)
    direct = postgres_url().rsplit("/", 1)[0] + f"/{fresh_database.name}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK], cwd=ROOT, env=environment(url), stdout=subprocess.PIPE, text=True
    )
    try:
        # Its log lines come first; "held" once the lock is taken (an empty line: it exited).
        while (line := holder.stdout.readline()) and line.strip() != "held":
            pass
        assert line.strip() == "held"
        assert [granted for _, granted in advisory_locks(direct)] == [True]
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()

    started = time.monotonic()
    run = migrator(url, "--lock-timeout=60")
    output = run.communicate(timeout=300)[0]

    assert run.returncode == 0, output
    taken = next(r for r in records(output) if r.get("event") == "migrate.lock_taken")
    assert taken["waited"] is False, "the killed holder's lock was still there"
    assert time.monotonic() - started < 120
    assert advisory_locks(direct) == []
