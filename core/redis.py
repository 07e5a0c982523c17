"""The Redis connection pool: short timeouts, no retries, and a circuit breaker.

Everything that uses Redis shares this pool through django-redis: the sessions and the cache,
the throttles, the message quota, the probes and recent activity. When Redis cannot be
reached, the first request to notice pays at most one connect timeout; the breaker then opens
and, until it half-opens again, every later call fails at once instead of each request
waiting for its own timeout.
"""

import logging
import threading
import time

from redis.connection import Connection, ConnectionPool, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# How long the breaker stays open before one call may try the server again.
OPEN_SECONDS = 2.0


class CircuitBreaker:
    """Per server address: open after a failure, half-open after OPEN_SECONDS."""

    def __init__(self, open_seconds: float = OPEN_SECONDS) -> None:
        self.open_seconds = open_seconds
        self._lock = threading.Lock()
        self._open_until: dict[str, float] = {}

    def allow(self, address: str) -> bool:
        """Whether a call may go to the server; lets one caller through once the wait is over."""
        with self._lock:
            until = self._open_until.get(address)
            if until is None:
                return True
            now = time.monotonic()
            if now < until:
                return False
            # Half-open: this caller probes; the others keep failing fast meanwhile.
            self._open_until[address] = now + self.open_seconds
            return True

    def record_failure(self, address: str) -> None:
        with self._lock:
            was_closed = address not in self._open_until
            self._open_until[address] = time.monotonic() + self.open_seconds
        if was_closed:
            logger.warning(
                "Redis at %s is unreachable; failing fast for %.0f s before retrying",
                address,
                self.open_seconds,
                extra={"event": "redis.unavailable"},
            )

    def record_success(self, address: str) -> None:
        with self._lock:
            was_open = self._open_until.pop(address, None) is not None
        if was_open:
            logger.info("Redis at %s is reachable again", address, extra={"event": "redis.recovered"})

    def is_open(self, address: str) -> bool:
        with self._lock:
            until = self._open_until.get(address)
            return until is not None and time.monotonic() < until

    def reset(self) -> None:
        """Close the breaker for every server, as a new process starts (the tests use it)."""
        with self._lock:
            self._open_until.clear()


breaker = CircuitBreaker()


class _BreakerMixin:
    """Consults the breaker before connecting and reports connect and read failures to it."""

    def _breaker_address(self) -> str:
        return f"{self.host}:{self.port}"

    def connect_check_health(self, *args, **kwargs):
        if self._sock:
            return None
        address = self._breaker_address()
        if not breaker.allow(address):
            raise RedisConnectionError(f"Redis at {address} is unavailable (circuit open)")
        try:
            result = super().connect_check_health(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            breaker.record_failure(address)
            raise
        breaker.record_success(address)
        return result

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):
            breaker.record_failure(self._breaker_address())
            raise


class BreakerConnection(_BreakerMixin, Connection):
    pass


class BreakerSSLConnection(_BreakerMixin, SSLConnection):
    pass


class BreakerConnectionPool(ConnectionPool):
    """A ConnectionPool whose TCP and TLS connections go through the circuit breaker."""

    _BREAKER_CLASSES = {Connection: BreakerConnection, SSLConnection: BreakerSSLConnection}

    def __init__(self, connection_class=Connection, **kwargs):
        connection_class = self._BREAKER_CLASSES.get(connection_class, connection_class)
        super().__init__(connection_class=connection_class, **kwargs)


def get_redis():
    """The shared Redis client (the same pool as the cache and the sessions)."""
    from django_redis import get_redis_connection

    return get_redis_connection("default")
