"""Why a connection to the database or Redis failed, in words an operator can act on.

Readiness and the migration command log it; no credential may appear in what they log.
"""

import re

# Redis' circuit breaker refusing a call at once: the earlier failure goes on, no new cause.
FAILING_FAST = "failing fast after a recent failure"

# What a failed connection's message says, first match wins: (pattern, reason). The messages are
# libpq's, PgBouncer's and redis-py's own, which name the cause in their text rather than in a code.
_REASONS = (
    (r"unsupported startup parameter", "the pooler refused a startup parameter"),
    (
        r"password authentication failed|SASL authentication failed|no password supplied"
        r"|invalid username-password|Authentication required|NOAUTH|WRONGPASS|AuthenticationError",
        "authentication failed",
    ),
    (r"circuit open", FAILING_FAST),
    (r"no pg_hba\.conf entry|pg_hba", "refused by pg_hba.conf"),
    (r"SSL|TLS|certificate|sslmode|root certificate", "TLS failed"),
    (r"Connection refused|Error 111", "connection refused"),
    (r"timeout expired|timed out|Timeout connecting|Timeout reading", "connection timed out"),
    (r"could not translate host name|Name or service not known|nodename nor servname", "host name not found"),
    (r"database \S+ does not exist", "database does not exist"),
    (r"role \S+ does not exist", "role does not exist"),
    (
        r"too many clients|remaining connection slots|no more connections allowed|max_client_conn",
        "too many connections",
    ),
    (r"server closed the connection unexpectedly|terminating connection|server conn crashed", "connection lost"),
    (r"canceling statement due to statement timeout", "statement timeout"),
)
# Anything that could be a credential in a message: key=value pairs and a URL's user:password@.
_CREDENTIALS = (
    (re.compile(r"(password|passfile|sslpassword|sslkey)\s*=\s*('[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE), r"\1=***"),
    (re.compile(r"://[^/@\s]*@"), r"://***@"),
)


def failure_reason(exc: BaseException) -> str:
    """Why a connection or check failed, in a few words; the error's class when unknown."""
    message = " ".join(f"{type(error).__name__}: {error}" for error in (exc, exc.__cause__) if error is not None)
    for pattern, reason in _REASONS:
        if re.search(pattern, message, re.IGNORECASE):
            return reason
    return type(exc.__cause__ or exc).__name__


def failure_detail(exc: BaseException, limit: int = 300) -> str:
    """The server's or driver's own words for a failure, on one line, with credentials masked."""
    text = " ".join(str(exc.__cause__ or exc).split())
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text[:limit]
