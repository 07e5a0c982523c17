"""The recent-activity store: capped Redis lists of JSON entries, newest first.

Every entry goes to the list of everyone's activity and to its user's own list, keyed by the
user's id (a later account with a re-used username starts with an empty list; the list is
deleted with the user, logs_app/signals.py). Requests do not wait for Redis: they append
their entry to this process's pending entries, and a writer thread pushes everything pending
every 100 ms in one pipelined round trip (push and trim per list) — one round trip for many
requests. The worker's exit flushes what is left. Reads take one LRANGE, whatever the history
length, add what this process has not written yet, and sort by ``ts``: each worker pushes its
batch when it flushes, so entries of two workers interleave in the list by flush time.

What one client can put into Redis is bounded: every string of an entry is cut to a fixed
length (a path to 512 characters), everyone's list holds RECENT_LOGS_MAX entries, and a
user's own list RECENT_LOGS_USER_MAX (expiring a week after their last request).
"""

import logging
import os
import threading
import time
from collections import defaultdict, deque
from contextlib import contextmanager
from operator import methodcaller

import orjson
from django.conf import settings
from opentelemetry.instrumentation.utils import suppress_instrumentation
from redis.exceptions import RedisError

from core.redis import get_redis
from logs_app import metrics

logger = logging.getLogger(__name__)

# A user's own list lives this long after their last request.
USER_LIST_TTL_SECONDS = 7 * 24 * 3600
# Entries waiting for Redis beyond this are dropped (and counted): a dead Redis must not
# grow the worker's memory.
MAX_PENDING = 10_000
MAX_BATCH = 500
# Stored strings are cut to these lengths; any other string field to DEFAULT_STRING_LENGTH.
STRING_LENGTHS = {"path": 512, "method": 16, "user": 150, "trace_id": 32}
DEFAULT_STRING_LENGTH = 200
# Entries of two workers' batches are out of order by at most one flush interval; a read
# looks this many entries further than it returns, so a newer entry just below the cut is found.
READ_SLACK = 50
# The sort key of a read: entry.get("ts", ""), without a Python call per entry.
_timestamp = methodcaller("get", "ts", "")


class ActivityUnavailable(Exception):
    """Redis could not be reached, so recent activity cannot be read."""


def _all_key() -> str:
    return f"{settings.RECENT_ACTIVITY_KEY}:all"


def _user_key(user_id: int) -> str:
    return f"{settings.RECENT_ACTIVITY_KEY}:user-id:{user_id}"


def user_activity_delete(user_id: int) -> None:
    """Forget a user's own list (their entries in everyone's list age out with the others)."""
    try:
        get_redis().delete(_user_key(user_id))
    except RedisError as exc:
        # It expires a week after the user's last request anyway, and no later account reads it.
        logger.warning(
            "recent activity of deleted user %s not deleted: %s",
            user_id,
            type(exc).__name__,
            extra={"event": "recent_activity.delete_failed"},
        )


def capped(entry: dict) -> dict:
    """The entry with every string cut to its stored length."""
    return {
        key: value[: STRING_LENGTHS.get(key, DEFAULT_STRING_LENGTH)] if isinstance(value, str) else value
        for key, value in entry.items()
    }


def activity_write(entries: list[dict], user_ids: list[int | None] | None = None) -> bool:
    """Push entries (oldest first) onto the capped lists in one round trip; False if Redis is down.

    ``user_ids`` (one per entry, None for anonymous requests) names the user lists they go to.
    """
    cap = settings.RECENT_LOGS_MAX
    user_cap = min(cap, settings.RECENT_LOGS_USER_MAX)
    payloads = [orjson.dumps(capped(entry)) for entry in entries]
    by_user = defaultdict(list)
    for user_id, payload in zip(user_ids or [None] * len(entries), payloads, strict=True):
        if user_id is not None:
            by_user[user_id].append(payload)
    pipe = get_redis().pipeline(transaction=False)
    # LPUSH puts each value at the head in turn, so the newest entry ends up first.
    pipe.lpush(_all_key(), *payloads).ltrim(_all_key(), 0, cap - 1)
    for user_id, user_payloads in by_user.items():
        key = _user_key(user_id)
        pipe.lpush(key, *user_payloads).ltrim(key, 0, user_cap - 1).expire(key, USER_LIST_TTL_SECONDS)
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

    def submit(self, entry: dict, user_id: int | None = None) -> None:
        if self._pid != os.getpid():
            self._start()
        if len(self._pending) >= MAX_PENDING:
            _count_failures(1, "too many entries waiting for Redis")
            return
        self._pending.append((entry, user_id))

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
                    activity_write([entry for entry, _ in batch], [user_id for _, user_id in batch])
                except Exception:
                    logger.exception("recent-activity write failed", extra={"event": "recent_activity.writer_error"})

    @contextmanager
    def paused(self):
        """The (entry, user id) pairs not written yet (oldest first), writing paused until the block ends.

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


def activity_record(entry: dict, *, user_id: int | None = None) -> None:
    """Record one request (``user_id``: whose own list it joins): in the background normally,
    at once where settings ask (the tests)."""
    if settings.RECENT_ACTIVITY_BACKGROUND:
        writer.submit(entry, user_id)
    else:
        activity_write([entry], [user_id])


def activity_recent(*, limit: int, user_id: int | None = None) -> list[dict]:
    """The newest entries, at most ``limit`` and RECENT_LOGS_MAX: everyone's, or only the user's
    ``user_id``. Raises ActivityUnavailable.

    Entries this process has not written yet are included, so a page shows the request just
    before it, without a write in the reading request.
    """
    cap = settings.RECENT_LOGS_MAX if user_id is None else min(settings.RECENT_LOGS_MAX, settings.RECENT_LOGS_USER_MAX)
    limit = min(limit, cap)
    key = _all_key() if user_id is None else _user_key(user_id)
    with writer.paused() as pending:
        try:
            raw = get_redis().lrange(key, 0, min(limit + READ_SLACK, cap) - 1)
        except RedisError as exc:
            raise ActivityUnavailable(str(exc)) from exc
    waiting = [capped(entry) for entry, owner in reversed(pending) if user_id is None or owner == user_id]
    # The stored entries are JSON objects: one array decoded in one call, not one call each.
    entries = waiting + orjson.loads(b"[" + b",".join(raw) + b"]")
    # Newest first, whichever worker wrote it; "ts" is RFC 3339 UTC, so its text sorts as its
    # time. The sort is stable: entries of one millisecond keep their order in the list.
    entries.sort(key=_timestamp, reverse=True)
    return entries[:limit]


def activity_recent_for(user, *, limit: int) -> list[dict]:
    """What ``user`` may read: everyone's entries for staff, their own otherwise. Raises
    ActivityUnavailable."""
    return activity_recent(limit=limit, user_id=None if user.is_staff else user.pk)
