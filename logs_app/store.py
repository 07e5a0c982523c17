"""The recent-activity store: capped Redis lists of JSON entries, newest first.

Every entry goes to the list of everyone's activity and to its user's own list, pushed and
trimmed in one pipelined round trip. Reads take one LRANGE, whatever the history length.
"""

import logging

import orjson
from django.conf import settings
from redis.exceptions import RedisError

from jiwoo import telemetry
from jiwoo.redis_pool import get_redis

logger = logging.getLogger(__name__)

# A user's own list lives this long after their last request.
USER_LIST_TTL_SECONDS = 7 * 24 * 3600


class ActivityUnavailable(Exception):
    """Redis could not be reached, so recent activity cannot be read."""


def _all_key() -> str:
    return f"{settings.RECENT_LOGS_KEY}:all"


def _user_key(username: str) -> str:
    return f"{settings.RECENT_LOGS_KEY}:user:{username}"


def activity_record(entry: dict) -> bool:
    """Push one entry onto the capped lists; False (and a counted, logged failure) if Redis is down."""
    payload = orjson.dumps(entry)
    cap = settings.RECENT_LOGS_MAX
    pipe = get_redis().pipeline(transaction=False)
    pipe.lpush(_all_key(), payload).ltrim(_all_key(), 0, cap - 1)
    if entry.get("user"):
        key = _user_key(entry["user"])
        pipe.lpush(key, payload).ltrim(key, 0, cap - 1).expire(key, USER_LIST_TTL_SECONDS)
    try:
        pipe.execute()
    except RedisError as exc:
        telemetry.recent_activity_write_failures.add(1)
        logger.warning(
            "recent activity not recorded: %s",
            type(exc).__name__,
            extra={"event": "recent_activity.write_failed"},
        )
        return False
    return True


def activity_recent(*, limit: int, username: str | None = None) -> list[dict]:
    """The newest ``limit`` entries: everyone's, or only ``username``'s. Raises ActivityUnavailable."""
    key = _all_key() if username is None else _user_key(username)
    try:
        raw = get_redis().lrange(key, 0, limit - 1)
    except RedisError as exc:
        raise ActivityUnavailable(str(exc)) from exc
    return [orjson.loads(item) for item in raw]
