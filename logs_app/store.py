"""The recent-activity store: capped Redis lists of JSON entries, newest first.

Every entry goes to the list of everyone's activity and to its user's own list. Requests do
not wait for Redis: they append their entry to this process's pending entries, and a
writer thread pushes everything pending every 100 ms in one pipelined round trip (push and
trim per list) — one round trip for many requests. The worker's exit flushes what is left.
Reads take one LRANGE, whatever the history length, and add what this process has not
written yet.
"""

import logging
import os
import threading
import time
from collections import defaultdict, deque
from contextlib import contextmanager

import orjson
from django.conf import settings
from opentelemetry.instrumentation.utils import suppress_instrumentation
from redis.exceptions import RedisError

from logs_app import metrics
from logs_app.redis_pool import get_redis

logger = logging.getLogger(__name__)

# A user's own list lives this long after their last request.
USER_LIST_TTL_SECONDS = 7 * 24 * 3600
# Entries waiting for Redis beyond this are dropped (and counted): a dead Redis must not
# grow the worker's memory.
MAX_PENDING = 10_000
MAX_BATCH = 500


class ActivityUnavailable(Exception):
    """Redis could not be reached, so recent activity cannot be read."""


def _all_key() -> str:
    return f"{settings.RECENT_ACTIVITY_KEY}:all"


def _user_key(username: str) -> str:
    return f"{settings.RECENT_ACTIVITY_KEY}:user:{username}"


def activity_write(entries: list[dict]) -> bool:
    """Push entries (oldest first) onto the capped lists in one round trip; False if Redis is down."""
    cap = settings.RECENT_LOGS_MAX
    payloads = [orjson.dumps(entry) for entry in entries]
    by_user = defaultdict(list)
    for entry, payload in zip(entries, payloads, strict=True):
        if entry.get("user"):
            by_user[entry["user"]].append(payload)
    pipe = get_redis().pipeline(transaction=False)
    # LPUSH puts each value at the head in turn, so the newest entry ends up first.
    pipe.lpush(_all_key(), *payloads).ltrim(_all_key(), 0, cap - 1)
    for username, user_payloads in by_user.items():
        key = _user_key(username)
        pipe.lpush(key, *user_payloads).ltrim(key, 0, cap - 1).expire(key, USER_LIST_TTL_SECONDS)
    try:
        pipe.execute()
    except RedisError as exc:
        _count_failures(len(entries), type(exc).__name__)
        return False
    return True


def _count_failures(count: int, reason: str) -> None:
    metrics.write_failures.add(count)
    logger.warning(
        "%d recent-activity entries not recorded: %s",
        count,
        reason,
        extra={"event": "recent_activity.write_failed", "entries": count},
    )


class ActivityWriter:
    """This process's writer: requests append, a thread writes what piled up every interval.

    A request only appends to a deque (no thread is woken, no lock is taken); every
    ``interval`` seconds the thread writes everything pending in one round trip. The worker's exit
    flushes at once; reads include what is still pending (``paused``).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._pending: deque = deque()
        self._write_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._pid: int | None = None

    def submit(self, entry: dict) -> None:
        if self._pid != os.getpid():
            self._start()
        if len(self._pending) >= MAX_PENDING:
            _count_failures(1, "too many entries waiting for Redis")
            return
        self._pending.append(entry)

    def flush(self) -> None:
        """Write everything submitted so far, now, in the calling thread."""
        if self._pid != os.getpid() or not self._pending:
            return
        # These writes belong to no request: they make no spans.
        with self._write_lock, suppress_instrumentation():
            while self._pending:
                batch = []
                while self._pending and len(batch) < MAX_BATCH:
                    batch.append(self._pending.popleft())
                try:
                    activity_write(batch)
                except Exception:
                    logger.exception("recent-activity write failed", extra={"event": "recent_activity.writer_error"})

    @contextmanager
    def paused(self):
        """The entries not written yet (oldest first), with writing paused until the block ends.

        A read that takes them and the stored list inside the block sees every entry exactly
        once: none can move from one to the other meanwhile.
        """
        if self._pid != os.getpid():
            yield []
            return
        with self._write_lock:
            yield list(self._pending)

    def _start(self) -> None:
        # Started lazily in each process: a thread started before gunicorn forks does not survive it.
        with self._start_lock:
            if self._pid != os.getpid():
                self._pending = deque()
                threading.Thread(target=self._run, name="recent-activity-writer", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()


writer = ActivityWriter()


def activity_record(entry: dict) -> None:
    """Record one request: in the background normally, at once where settings ask (the tests)."""
    if settings.RECENT_ACTIVITY_BACKGROUND:
        writer.submit(entry)
    else:
        activity_write([entry])


def activity_recent(*, limit: int, username: str | None = None) -> list[dict]:
    """The newest ``limit`` entries: everyone's, or only ``username``'s. Raises ActivityUnavailable.

    Entries this process has not written yet are included, so a page shows the request just
    before it, without a write in the reading request.
    """
    key = _all_key() if username is None else _user_key(username)
    with writer.paused() as pending:
        try:
            raw = get_redis().lrange(key, 0, limit - 1)
        except RedisError as exc:
            raise ActivityUnavailable(str(exc)) from exc
    waiting = [entry for entry in reversed(pending) if username is None or entry.get("user") == username]
    entries = waiting + [orjson.loads(item) for item in raw]
    if waiting:
        # Newest first across both; "ts" is RFC 3339 UTC, so its text sorts as its time.
        entries.sort(key=lambda entry: entry.get("ts", ""), reverse=True)
    return entries[:limit]
