"""Counting limits in the cache (Redis), such as sign-ups per address or the browser's span
exports per session; each feature declares its own ``Throttle``.

Counts live in Redis with their window as the expiry. When Redis cannot be reached the cache
answers nothing and the limit is lifted: these limits protect against abuse, and they never
lock a user out of the app because Redis is down (log-in throttling is django-axes', in the
database).
"""

from contextlib import suppress

from django.core.cache import cache


class Throttle:
    """At most ``limit`` hits per ``key`` within ``seconds`` of the first one.

    Counting and comparing is one step (Redis' INCR), so requests that arrive together cannot
    all slip under the limit: ``take`` claims a place before the work is done, and
    ``give_back`` returns it when the work turns out not to count (a sign-up that failed, an old
    password that was right). ``exceeded`` only asks, for a refusal before any work.
    """

    def __init__(self, name: str, *, seconds: int) -> None:
        self.name = name
        self.seconds = seconds

    def _key(self, key: str) -> str:
        return f"throttle:{self.name}:{key}"

    def exceeded(self, key: str, limit: int) -> bool:
        return limit > 0 and (cache.get(self._key(key)) or 0) >= limit

    def take(self, key: str, limit: int) -> bool:
        """Claim one of the window's ``limit`` places; False (and nothing claimed) when none is left.

        A limit of 0 is no limit; without Redis every claim succeeds.
        """
        if limit <= 0:
            return True
        if self.hit(key) > limit:
            self.give_back(key)
            return False
        return True

    def give_back(self, key: str) -> None:
        """Return a place ``take`` claimed, for work that did not count after all."""
        # ValueError: the window expired meanwhile, nothing left to return.
        with suppress(ValueError):
            cache.decr(self._key(key))

    def hit(self, key: str) -> int:
        """Count one hit; the hits in this window so far, 0 when Redis cannot be reached."""
        full_key = self._key(key)
        # add() sets the window's expiry once; incr() keeps it.
        cache.add(full_key, 0, timeout=self.seconds)
        try:
            return cache.incr(full_key) or 0
        except ValueError:
            # Expired between the two calls: start a new window.
            cache.add(full_key, 1, timeout=self.seconds)
            return 1
