"""Apply migrations from every app pod safely: one pod at a time, under a PostgreSQL advisory lock.

The chart runs this in the init container of each app pod instead of a Helm hook Job, so it
works under ``helm install --wait``, Argo CD and Flux alike (helm/jiwoo/README.md says why).
The pod may start before its database: the command waits for it to answer, up to a deadline.
The lock is session-level and taken on a connection of its own, so ``migrate``'s transactions
never release it; if the pod dies, PostgreSQL drops the session and the lock with it.
"""

import logging
import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

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
                self._acquire(lock_connection, timeout=lock_timeout, interval=interval)
                try:
                    self._migrate(verbosity)
                finally:
                    with lock_connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
                    logger.info("Migration lock released.", extra={"event": "migrate.lock_released"})
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
                    raise CommandError(f"The database did not answer within {timeout:.0f} s: {exc}") from exc
                logger.info(
                    "Waiting for the database to answer.",
                    extra={"event": "migrate.database_wait", "attempt": attempt, "error": str(exc).strip()[:200]},
                )
                time.sleep(interval)
            else:
                logger.info(
                    "The database answers.",
                    extra={"event": "migrate.database_ready", "vendor": connection.vendor, "attempts": attempt},
                )
                return

    def _acquire(self, connection, *, timeout, interval):
        """Take the advisory lock, saying so while another pod holds it."""
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
                (taken,) = cursor.fetchone()
            if taken:
                logger.info("Migration lock taken.", extra={"event": "migrate.lock_taken", "waited": waited})
                return
            if time.monotonic() + interval > deadline:
                raise CommandError(f"Another pod held the migration lock for more than {timeout:.0f} s.")
            if not waited:
                logger.info(
                    "Another pod is migrating; waiting for the migration lock.", extra={"event": "migrate.lock_wait"}
                )
            waited = True
            time.sleep(interval)

    def _migrate(self, verbosity):
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=verbosity, stdout=_LogWriter("migrate.output"))
        if os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip():
            call_command("ensure_admin", verbosity=verbosity, stdout=_LogWriter("migrate.ensure_admin"))
        logger.info(
            "Migrations applied.",
            extra={"event": "migrate.done", "duration_ms": round((time.monotonic() - started) * 1000)},
        )
