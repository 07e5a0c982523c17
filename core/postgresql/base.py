"""Django's PostgreSQL backend, safe behind PgBouncer in transaction mode, with quiet health checks.

Behind a transaction-mode pooler (Azure's built-in PgBouncer) consecutive transactions of one
connection may run on different server sessions, so nothing may be set for a session: not at
connect time (PgBouncer refuses the ``options`` startup parameter and closes the connection) and
not with a plain ``SET`` (it would stay on a server session that another client gets next). The
statement timeout is therefore set per transaction: a web request's view runs in one
transaction (``ATOMIC_REQUESTS``), and when a transaction begins inside
``core.database.statement_timeout(seconds)`` its first statement is preceded by ``SET LOCAL statement_timeout``,
which ends with the transaction. Management commands never bind a timeout, so migrations and
bulk loads have none.

With CONN_HEALTH_CHECKS, Django runs ``SELECT 1`` before the first query of a request to find
persistent connections that died. It is a probe, not the request's work, so it makes no span.
"""

from django.db.backends.postgresql import base
from opentelemetry.instrumentation.utils import suppress_instrumentation

from core.database import statement_timeout_ms


class DatabaseWrapper(base.DatabaseWrapper):
    # The timeout (in ms) the transaction just begun still has to set before its first statement.
    pending_timeout_ms = 0

    def is_usable(self) -> bool:
        with suppress_instrumentation():
            return super().is_usable()

    def set_autocommit(self, autocommit, force_begin_transaction_with_broken_autocommit=False):
        super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)
        # Autocommit off is a transaction beginning; set the timeout lazily, with its first
        # statement, so that a view that runs no query pays no round trip.
        self.pending_timeout_ms = 0 if autocommit else statement_timeout_ms()

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        if self.pending_timeout_ms:
            timeout_ms, self.pending_timeout_ms = self.pending_timeout_ms, 0
            # Part of the connection's upkeep, like the health check: no span of its own.
            with suppress_instrumentation():
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"])
        return cursor
