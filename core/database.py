"""The database: its settings from a URL, and the statement timeout of a web request's
transactions, as the layers above bind and read it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

_statement_timeout_ms: ContextVar[int] = ContextVar("jiwoo_statement_timeout_ms", default=0)

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (query_canceled).
QUERY_CANCELED = "57014"


@contextmanager
def statement_timeout(seconds: float) -> Iterator[None]:
    """Statements of the transactions begun in this block are cancelled after ``seconds`` (0: never).

    The PostgreSQL backend (core/postgresql) sets it in each such transaction; other backends
    have no statement timeout.
    """
    token = _statement_timeout_ms.set(max(0, round(seconds * 1000)))
    try:
        yield
    finally:
        _statement_timeout_ms.reset(token)


def statement_timeout_ms() -> int:
    """The statement timeout bound in this context, in milliseconds; 0 for none."""
    return _statement_timeout_ms.get()


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether a database error is a statement cancelled by the statement timeout."""
    return getattr(exc.__cause__, "sqlstate", None) == QUERY_CANCELED


def database_config(url: str, *, password: str = "", conn_max_age: int = 60, connect_timeout: int = 3) -> dict:
    """settings.DATABASES["default"] for a DATABASE_URL.

    SQLite (the embedded default): several gunicorn workers write at once, so a transaction
    takes the write lock when it starts (no "database is locked" on upgrade), waits for it,
    and readers run beside a writer (WAL). PostgreSQL: jiwoo's backend (core/postgresql), each
    view in one transaction (a failed request saves nothing, and the statement timeout is set
    in it), no server-side cursors (a cursor is a session's, and a pooler in transaction mode
    may run its FETCH on another server session), persistent connections checked before use.
    A password given on its own is used as it is: it never has to be URL-encoded into the URL.
    """
    if not url:
        raise ImproperlyConfigured("DATABASE_URL is set but empty: name a database, or unset it for SQLite.")
    config = environ.Env.db_url_config(url)
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        options.update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    else:
        config.update({"CONN_MAX_AGE": conn_max_age, "CONN_HEALTH_CHECKS": True})
        options["connect_timeout"] = connect_timeout
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.update({"ENGINE": "core.postgresql", "ATOMIC_REQUESTS": True, "DISABLE_SERVER_SIDE_CURSORS": True})
    if password:
        config["PASSWORD"] = password
    return config
