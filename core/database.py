"""The statement timeout of a web request's transactions, as the layers above bind and read it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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
