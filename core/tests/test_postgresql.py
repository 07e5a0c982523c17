"""The PostgreSQL backend behind PgBouncer in transaction mode: a statement timeout per
transaction, nothing left on the server sessions, no span for the health check."""

from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection

from core.database import is_statement_timeout, statement_timeout
from core.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pooled(pgbouncer):
    """A Django connection to the test database through a pooler that shares one server session."""
    pooler = pgbouncer(pool_size=1)
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend needs DATABASE_URL=postgres://...")
    wrapper = DatabaseWrapper(
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": pooler.port, "PASSWORD": pooler.password},
        alias="pooled",
    )
    yield wrapper
    wrapper.close()


def run(wrapper, sql: str, params=None):
    with wrapper.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def in_transaction(wrapper):
    """A transaction as transaction.atomic begins and ends one (autocommit off, then on again)."""
    wrapper.set_autocommit(False)
    try:
        yield
        wrapper.commit()
    except BaseException:
        wrapper.rollback()
        raise
    finally:
        wrapper.set_autocommit(True)


def test_a_web_transaction_is_cancelled_after_its_timeout_through_the_pooler(pooled):
    with statement_timeout(0.2), pytest.raises(OperationalError) as raised, in_transaction(pooled):
        run(pooled, "SELECT pg_sleep(2)")

    assert is_statement_timeout(raised.value)


def test_outside_a_request_nothing_is_cancelled(pooled):
    """Management commands bind no timeout: migrations and bulk loads may take minutes."""
    with in_transaction(pooled):
        assert run(pooled, "SHOW statement_timeout") == [("0",)]
        run(pooled, "SELECT pg_sleep(0.3)")


def test_the_timeout_ends_with_its_transaction(pooled):
    """Set for the transaction, never for the server session the pooler lends the next client."""
    with statement_timeout(0.2):
        with in_transaction(pooled):
            assert run(pooled, "SHOW statement_timeout") == [("200ms",)]
        # The same server session (the pool has one), the next transaction: no timeout left.
        assert run(pooled, "SHOW statement_timeout") == [("0",)]


def test_the_timeout_is_set_with_the_first_statement_only(pooled):
    """A transaction without queries costs no round trip; one with queries, one more."""
    with statement_timeout(1), in_transaction(pooled):
        assert pooled.pending_timeout_ms == 1000
    with statement_timeout(1), in_transaction(pooled):
        run(pooled, "SELECT 1")
        assert pooled.pending_timeout_ms == 0
        assert run(pooled, "SHOW statement_timeout") == [("1s",)]
