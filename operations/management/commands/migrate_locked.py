"""Apply migrations from every app pod safely: one pod at a time, under a PostgreSQL advisory lock.

The chart runs this in the init container of each app pod instead of a Helm hook Job, so it
works under ``helm install --wait``, Argo CD and Flux alike (helm/jiwoo/README.md says why).
The pod may start before its database: the command waits for it to answer, up to a deadline.

The lock belongs to a transaction, not to a session: ``pg_try_advisory_xact_lock`` in a
transaction that a connection of its own keeps open for the whole run, while ``migrate`` works
on the usual connection. Behind PgBouncer in transaction mode (Azure's built-in pooler) a
session lock would be wrong twice over: two clients can share one server session (and so one
lock), and the unlock can land on another session, leaving the lock held. An open transaction
keeps its server session to itself until it ends; when the pod dies, its connection closes, the
transaction rolls back and the lock goes with it, directly or through the pooler.
"""

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections

from core.connections import failure_detail, failure_reason

logger = logging.getLogger("operations.migrate_locked")


class _LogWriter:
    """A stdout for the commands it calls: their lines become log records, so stdout stays JSON."""

    def __init__(self, event):
        self.event = event

    def write(self, text):
        for line in text.splitlines():
            if line.strip():
                logger.info(line.strip(), extra={"event": self.event})

    def flush(self):
        pass


# pg_advisory_lock's key is one bigint shared by the whole database: b"jiwoomig" as a number.
LOCK_KEY = int.from_bytes(b"jiwoomig", "big")


@contextmanager
def migration_lock(connection, *, timeout: float, interval: float) -> Iterator[None]:
    """Hold the advisory lock for the block, in a transaction of ``connection`` left open.

    Waits while another process holds it (saying so once), up to ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    waited = False
    connection.set_autocommit(False)
    try:
        while True:
            with connection.cursor() as cursor:
                # Held while the transaction stays open, however long the block takes.
                cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
                (taken,) = cursor.fetchone()
            if taken:
                break
            # Not ours: end this transaction, so that a pooler can lend its server session out.
            connection.rollback()
            if time.monotonic() + interval > deadline:
                raise CommandError(f"Another pod held the migration lock for more than {timeout:.0f} s.")
            if not waited:
                logger.info(
                    "Another pod is migrating; waiting for the migration lock.", extra={"event": "migrate.lock_wait"}
                )
            waited = True
            time.sleep(interval)
        logger.info("Migration lock taken.", extra={"event": "migrate.lock_taken", "waited": waited})
        yield
        _still_held(connection)
    finally:
        # Ending the transaction lets go of the lock (a connection that died took it already).
        with suppress(DatabaseError):
            connection.rollback()
            connection.set_autocommit(True)
    logger.info("Migration lock released.", extra={"event": "migrate.lock_released"})


def _still_held(connection) -> None:
    """Fail loudly if the lock's connection died during the run (a pooler's or the server's idle
    timeout, a terminated backend): the lock went with it, and another pod may have migrated too."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.error(
            "The migration lock was lost during the run: %s.",
            failure_reason(exc),
            extra={"event": "migrate.lock_lost", "detail": failure_detail(exc)},
        )
        raise CommandError(
            f"The migration lock was lost during the run ({failure_reason(exc)}): another pod may have "
            "migrated at the same time. Run migrate_locked again once the others are done."
        ) from None


class Command(BaseCommand):
    help = "Wait for the database, then migrate (and ensure_admin) holding a PostgreSQL advisory lock."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database-timeout", type=float, default=300.0, help="Seconds to wait for the database to answer."
        )
        parser.add_argument(
            "--lock-timeout", type=float, default=1800.0, help="Seconds to wait for another pod's migration."
        )
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between attempts.")

    def handle(self, *args, database_timeout, lock_timeout, interval, verbosity, **options):
        lock_connection = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            self._wait_for_database(lock_connection, timeout=database_timeout, interval=interval)
            if lock_connection.vendor == "postgresql":
                with migration_lock(lock_connection, timeout=lock_timeout, interval=interval):
                    self._migrate(verbosity)
            else:
                # SQLite (one file, one writer) has no advisory locks and needs none.
                self._migrate(verbosity)
        finally:
            lock_connection.close()

    def _wait_for_database(self, connection, *, timeout, interval):
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                if time.monotonic() + interval > deadline:
                    logger.error(
                        "The database did not answer within %.0f s.",
                        timeout,
                        extra={"event": "migrate.database_timeout", "attempts": attempt},
                    )
                    raise CommandError(
                        f"The database did not answer within {timeout:.0f} s: {failure_reason(exc)}."
                    ) from None
                logger.info(
                    "Waiting for the database to answer: %s.",
                    failure_reason(exc),
                    extra={
                        "event": "migrate.database_wait",
                        "attempt": attempt,
                        "reason": failure_reason(exc),
                        "detail": failure_detail(exc),
                    },
                )
                time.sleep(interval)
            else:
                logger.info(
                    "The database answers.",
                    extra={"event": "migrate.database_ready", "vendor": connection.vendor, "attempts": attempt},
                )
                return

    def _migrate(self, verbosity):
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=verbosity, stdout=_LogWriter("migrate.output"))
        if os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip():
            call_command("ensure_admin", verbosity=verbosity, stdout=_LogWriter("migrate.ensure_admin"))
        logger.info(
            "Migrations applied.",
            extra={"event": "migrate.done", "duration_ms": round((time.monotonic() - started) * 1000)},
        )
