"""The database settings from a URL, and the statement timeout a request binds."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.database import database_config, statement_timeout, statement_timeout_ms


def test_sqlite_takes_the_write_lock_when_a_transaction_starts(tmp_path):
    config = database_config(f"sqlite:///{tmp_path / 'var' / 'db.sqlite3'}")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert not config.get("ATOMIC_REQUESTS")
    assert (tmp_path / "var").is_dir()


def test_postgresql_keeps_nothing_for_the_session():
    config = database_config(
        "postgres://jiwoo@db:6432/jiwoo?sslmode=verify-full", password="p@ss/word", conn_max_age=30
    )

    assert config["ENGINE"] == "core.postgresql"
    assert config["ATOMIC_REQUESTS"] is True
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert config["CONN_MAX_AGE"] == 30
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["PASSWORD"] == "p@ss/word"
    assert "options" not in config["OPTIONS"]
    assert config["OPTIONS"]["sslmode"] == "verify-full"


def test_an_empty_url_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL is set but empty"):
        database_config("")


def test_the_timeout_is_bound_for_its_block_only():
    assert statement_timeout_ms() == 0
    with statement_timeout(1.5):
        assert statement_timeout_ms() == 1500
        with statement_timeout(0):
            assert statement_timeout_ms() == 0
        assert statement_timeout_ms() == 1500
    assert statement_timeout_ms() == 0
