"""Kubernetes probes, answered in front of Django.

``/healthz`` (liveness) does no I/O; ``/readyz`` (readiness) checks the database and Redis.
They sit in front of Django's handler so that they work for any Host header (kubelet calls
the pod IP), make no spans or log lines, and touch no session.
"""

import json
import logging

from django.db import connections
from django.db.utils import Error as DatabaseError
from redis.exceptions import RedisError

from jiwoo.redis_pool import get_redis

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


def check_database() -> str | None:
    """None when the default database answers, else what went wrong."""
    connection = connections["default"]
    try:
        # Outside Django's request cycle nothing else retires a broken persistent connection.
        connection.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()
        return type(exc).__name__
    return None


def check_redis() -> str | None:
    """None when Redis answers PING, else what went wrong."""
    try:
        get_redis().ping()
    except (RedisError, OSError) as exc:
        return type(exc).__name__
    return None


def readiness() -> tuple[int, dict]:
    """The readiness status code and body: 200, or 503 naming what is down."""
    problems = {name: error for name, error in (("database", check_database()), ("redis", check_redis())) if error}
    if not problems:
        return 200, {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    checks = {name: ("down" if name in problems else "ok") for name in ("database", "redis")}
    logger.warning("not ready: %s unreachable", ", ".join(problems), extra={"event": "health.not_ready", **checks})
    return 503, {"status": "unavailable", "error": f"{' and '.join(problems)} unreachable", "checks": checks}


class HealthCheckApp:
    """WSGI wrapper that answers the two probe paths and hands everything else to Django."""

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == LIVENESS_PATH:
            return self._respond(start_response, 200, {"status": "ok"})
        if path == READINESS_PATH:
            return self._respond(start_response, *readiness())
        return self.application(environ, start_response)

    @staticmethod
    def _respond(start_response, status: int, body: dict):
        payload = json.dumps(body).encode()
        reason = {200: "OK", 503: "Service Unavailable"}[status]
        start_response(
            f"{status} {reason}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [payload]
