"""Kubernetes probes, answered in front of Django.

``/healthz`` (liveness) does no I/O. ``/readyz`` (readiness) means "can serve": it answers 503
only when the database does not answer. Redis trouble is reported in the body and logged,
never a 503: the app serves without Redis, and losing its one pod must not take every app pod
out of the Service. Both sit in front of Django's handler so that they work for any Host
header (kubelet calls the pod IP), touch no session and make no spans.
"""

import json
import logging
import threading
from typing import NamedTuple

from django.db import connections
from django.db.utils import Error as DatabaseError
from opentelemetry.instrumentation.utils import suppress_instrumentation
from redis.exceptions import RedisError

from core.connections import FAILING_FAST, failure_detail, failure_reason
from core.redis import get_redis

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


class Problem(NamedTuple):
    """Why a dependency did not answer: a few words, and the server's or driver's own (no credential)."""

    reason: str
    detail: str


def check_database() -> Problem | None:
    """None when the default database answers, else why not."""
    connection = connections["default"]
    try:
        # Outside Django's request cycle nothing else retires a broken persistent connection.
        connection.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()
        return Problem(failure_reason(exc), failure_detail(exc))
    return None


def check_redis() -> Problem | None:
    """None when Redis answers PING, else why not."""
    try:
        get_redis().ping()
    except (RedisError, OSError) as exc:
        return Problem(failure_reason(exc), failure_detail(exc))
    return None


class ReadinessLog:
    """Logs a dependency going down, its cause changing, or it coming back, once each, not on
    every probe (every few seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: dict[str, str] = {}

    def update(self, name: str, problem: Problem | None) -> None:
        with self._lock:
            previous = self._down.pop(name, None)
            if problem is not None and problem.reason == FAILING_FAST and previous is not None:
                problem = problem._replace(reason=previous)  # the same outage, refused sooner
            if problem is not None:
                self._down[name] = problem.reason
        if problem is not None and problem.reason != previous:
            logger.warning(
                "readiness: %s unreachable: %s",
                name,
                problem.reason,
                extra={"event": "health.degraded", "check": name, "reason": problem.reason, "detail": problem.detail},
            )
        elif problem is None and previous is not None:
            logger.info("readiness: %s reachable again", name, extra={"event": "health.recovered", "check": name})


readiness_log = ReadinessLog()


def readiness() -> tuple[int, dict]:
    """The readiness status code and body: 503 only when the database is down."""
    # A probe is not the app's work: its query and PING make no spans.
    with suppress_instrumentation():
        problems = {"database": check_database(), "redis": check_redis()}
    for name, problem in problems.items():
        readiness_log.update(name, problem)
    checks = {name: ("down" if problem else "ok") for name, problem in problems.items()}
    if problems["database"]:
        return 503, {"status": "unavailable", "error": "database unreachable", "checks": checks}
    if problems["redis"]:
        return 200, {"status": "degraded", "error": "redis unreachable", "checks": checks}
    return 200, {"status": "ok", "checks": checks}


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
