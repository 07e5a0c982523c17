"""The per-author message cap (MESSAGES_PER_USER_MAX), without a count or a round trip on most saves.

Counting an author's messages costs in proportion to how many they have, and any check that
asks Redis or the database adds a round trip to the busiest write. So the cap is kept as
headroom, how many more the author may save, in three layers:

- Redis holds each author's headroom, counted once from the database and trusted for
  HEADROOM_SECONDS; every process takes from it atomically (DECRBY).
- Far from the cap, a process takes LEASE saves at a time and hands them out from memory, so
  most saves ask nobody. Close to the cap (under LEASE_FLOOR left) every save takes exactly one.
- When Redis has nothing left, or has no headroom (expired, unreachable, the limit changed),
  the database is counted again, so deleted messages give their room back then.

The cap can be overshot by saves counted at the same moment, and by leases still held when the
headroom is counted again: at most LEASE saves a process, on a cap of 100,000 by default.
"""

import threading
import time

from django.conf import settings
from django.core.cache import cache

from messages_app.models import Message

# Saves a process takes from Redis at once while far from the cap, and how far is far.
LEASE = 20
LEASE_FLOOR = 1000
# How long a lease is good for in a process; what is left after it is forfeited, which only
# makes the author wait for the next count to get it back.
LEASE_SECONDS = 60.0
# How long the counted headroom is trusted. Messages saved outside message_create (the admin,
# a bulk import) are not taken from it, so this bounds how long they go unnoticed.
HEADROOM_SECONDS = 3600
# Leases a process keeps at most (one per author who saved in the last LEASE_SECONDS).
MAX_LEASES = 10_000


class Leases:
    """This process's leases: saves already taken from an author's headroom in Redis."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._saves: dict[str, tuple[int, float]] = {}

    def take(self, key: str) -> bool:
        """Take one save from the lease for ``key``; False when there is none (or it expired)."""
        with self._lock:
            saves, until = self._saves.get(key, (0, 0.0))
            if saves <= 0 or self._clock() >= until:
                self._saves.pop(key, None)
                return False
            self._saves[key] = (saves - 1, until)
            return True

    def grant(self, key: str, saves: int) -> None:
        with self._lock:
            if len(self._saves) >= MAX_LEASES:
                self._saves.clear()
            self._saves[key] = (saves, self._clock() + LEASE_SECONDS)

    def clear(self) -> None:
        with self._lock:
            self._saves.clear()


leases = Leases()


def may_save(author) -> bool:
    """Whether ``author`` may save one more message; if so, that save is taken from the headroom."""
    limit = settings.MESSAGES_PER_USER_MAX
    if not limit:
        return True
    key = f"messages:headroom:{limit}:{author.pk}"
    if leases.take(key):
        return True
    left = _add(key, -LEASE)
    if left is not None and left >= LEASE_FLOOR:
        leases.grant(key, LEASE - 1)  # this save is one of them
        return True
    if left is not None and left > -LEASE:
        # Close to the cap: give back all but this save's one.
        left = _add(key, LEASE - 1)
        if left is not None and left >= 0:
            return True
    return _count_headroom(key, author, limit)


def _add(key: str, delta: int) -> int | None:
    """The headroom after adding ``delta`` in Redis; None when Redis has none or cannot be reached."""
    try:
        return cache.incr(key, delta)
    except ValueError:  # no headroom kept for this author
        return None


def _count_headroom(key: str, author, limit: int) -> bool:
    saved = Message.objects.filter(author=author).order_by().values("pk")[:limit].count()
    if saved >= limit:
        cache.delete(key)
        return False
    cache.set(key, limit - saved - 1, HEADROOM_SECONDS)  # this save takes one
    return True
