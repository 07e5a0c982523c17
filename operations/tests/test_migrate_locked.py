"""migrate_locked: waits for the database, migrates under an advisory lock, one run at a time."""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from operations.management.commands import migrate_locked

pytestmark = pytest.mark.django_db(transaction=True)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks need PostgreSQL (DATABASE_URL=postgres://...)"
)


def events(caplog) -> list[str]:
    return [getattr(record, "event", "") for record in caplog.records]


@pytest.fixture
def no_admin(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)


@pytest.fixture
def recorded_commands(monkeypatch):
    """The commands migrate_locked calls, with when each started; they still run."""
    calls = []

    def recording(name, **options):
        calls.append((name, time.monotonic()))
        return call_command(name, **options)

    monkeypatch.setattr(migrate_locked, "call_command", recording)
    return calls


def run_in_thread(errors: list, **options) -> threading.Thread:
    def target():
        try:
            call_command("migrate_locked", interval=0.05, **options)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_it_migrates_and_creates_the_named_admin(monkeypatch, caplog):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root-admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password-1")

    call_command("migrate_locked", interval=0.05)

    assert get_user_model().objects.get(username="root-admin").is_superuser
    assert "migrate.done" in events(caplog)
    assert "migrate.database_ready" in events(caplog)


def test_without_an_admin_name_it_only_migrates(no_admin, recorded_commands):
    call_command("migrate_locked", interval=0.05)

    assert [name for name, _ in recorded_commands] == ["migrate"]
    assert not get_user_model().objects.exists()


def test_what_migrate_prints_becomes_log_records_not_stdout(no_admin, caplog, capsys):
    call_command("migrate_locked", interval=0.05, verbosity=1)

    assert capsys.readouterr().out == ""
    assert any(r.getMessage().startswith("Operations to perform") for r in caplog.records)


def test_it_waits_for_the_database_and_gives_up_at_the_deadline(no_admin, monkeypatch, caplog, recorded_commands):
    unreachable = dict(connections.settings["default"])
    if connection.vendor == "postgresql":
        unreachable.update(HOST="127.0.0.1", PORT="1")
    else:
        unreachable["NAME"] = "/nonexistent-directory/jiwoo.sqlite3"
    real = connections.create_connection

    def create_connection(alias):
        wrapper = real(alias)
        wrapper.settings_dict = unreachable
        return wrapper

    monkeypatch.setattr(connections, "create_connection", create_connection)
    started = time.monotonic()

    with pytest.raises(CommandError, match="did not answer within"):
        call_command("migrate_locked", database_timeout=0.5, interval=0.1)

    assert 0.3 < time.monotonic() - started < 10
    assert events(caplog).count("migrate.database_wait") >= 2
    assert "migrate.database_timeout" in events(caplog)
    assert recorded_commands == []


@postgresql_only
def test_a_run_waits_while_another_holds_the_lock_and_proceeds_once_released(no_admin, caplog, recorded_commands):
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [migrate_locked.LOCK_KEY])
        errors = []
        thread = run_in_thread(errors)
        time.sleep(1.0)
        assert thread.is_alive(), errors
        assert recorded_commands == []
        assert "migrate.lock_wait" in events(caplog)

        released = time.monotonic()
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [migrate_locked.LOCK_KEY])
        thread.join(60)

        assert not thread.is_alive()
        assert errors == []
        assert [name for name, _ in recorded_commands] == ["migrate"]
        assert recorded_commands[0][1] >= released
        # And the run let the lock go.
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [migrate_locked.LOCK_KEY])
            assert cursor.fetchone() == (True,)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [migrate_locked.LOCK_KEY])
    finally:
        holder.close()


@postgresql_only
def test_two_concurrent_runs_migrate_one_after_the_other(no_admin, monkeypatch):
    spans = []
    lock = threading.Lock()

    def slow_command(name, **options):
        start = time.monotonic()
        time.sleep(0.5)
        call_command(name, **options)
        with lock:
            spans.append((start, time.monotonic()))

    monkeypatch.setattr(migrate_locked, "call_command", slow_command)
    errors = []
    threads = [run_in_thread(errors), run_in_thread(errors)]
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(spans) == 2
    first, second = sorted(spans)
    assert first[1] <= second[0], "the two migrations overlapped"


@postgresql_only
def test_a_lock_lost_during_the_run_fails_loudly(no_admin, monkeypatch, caplog):
    """The lock's connection killed while migrate runs (an idle timeout, a terminated backend):
    the lock went with it, so the run says so instead of reporting success."""
    holders = []
    real_create = connections.create_connection

    def create_connection(alias):
        holder = real_create(alias)
        holders.append(holder)
        return holder

    def terminate_the_lock_holder(name, **options):
        with holders[0].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    monkeypatch.setattr(connections, "create_connection", create_connection)
    monkeypatch.setattr(migrate_locked, "call_command", terminate_the_lock_holder)

    with pytest.raises(CommandError, match="migration lock was lost"):
        call_command("migrate_locked", interval=0.05)

    assert "migrate.lock_lost" in events(caplog)
