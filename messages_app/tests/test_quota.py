"""The message cap kept as headroom (messages_app/quota.py): exact near the cap, cheap far from it."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from messages_app import quota
from messages_app.models import Message
from messages_app.services import message_create, message_delete

pytestmark = pytest.mark.django_db


def headroom_in_redis(user, limit: int):
    return cache.get(f"messages:headroom:{limit}:{user.pk}")


def test_far_from_the_cap_a_process_takes_the_headroom_a_lease_at_a_time(user, settings):
    settings.MESSAGES_PER_USER_MAX = limit = 100_000
    message_create(author=user, text="counted")
    assert headroom_in_redis(user, limit) == limit - 1

    message_create(author=user, text="leased")
    after_one_lease = headroom_in_redis(user, limit)
    for number in range(quota.LEASE - 1):
        message_create(author=user, text=f"from the lease {number}")
    after_the_lease_is_used = headroom_in_redis(user, limit)
    message_create(author=user, text="the next lease")

    assert after_one_lease == after_the_lease_is_used == limit - 1 - quota.LEASE
    assert headroom_in_redis(user, limit) == limit - 1 - 2 * quota.LEASE


def test_near_the_cap_every_save_is_counted_exactly(user, settings):
    settings.MESSAGES_PER_USER_MAX = limit = quota.LEASE_FLOOR + 10
    Message.objects.bulk_create(Message(author=user, text=f"old {n}") for n in range(quota.LEASE_FLOOR))

    def save_until_refused() -> int:
        for saved in range(20):
            try:
                message_create(author=user, text=f"new {saved}")
            except ValidationError:
                return saved
        return 20

    assert save_until_refused() == 10
    assert Message.objects.filter(author=user).count() == limit


def test_deleting_messages_gives_their_room_back(user, settings):
    settings.MESSAGES_PER_USER_MAX = 2
    first = message_create(author=user, text="one")
    message_create(author=user, text="two")
    with pytest.raises(ValidationError):
        message_create(author=user, text="three")

    message_delete(message=first)
    message_create(author=user, text="three")

    assert sorted(Message.objects.filter(author=user).values_list("text", flat=True)) == ["three", "two"]


@pytest.mark.parametrize("redis", ["up", "down"])
def test_a_lower_limit_holds_at_once_with_or_without_redis(user, settings, request, redis):
    # Redis keeps the headroom under one limit; without Redis every save counts instead.
    if redis == "down":
        request.getfixturevalue("redis_down")
    settings.MESSAGES_PER_USER_MAX = 100_000
    for number in range(3):
        message_create(author=user, text=f"message {number}")

    settings.MESSAGES_PER_USER_MAX = 3
    with pytest.raises(ValidationError):
        message_create(author=user, text="over the new limit")

    assert Message.objects.filter(author=user).count() == 3


def test_a_lease_expires(user, settings, monkeypatch):
    settings.MESSAGES_PER_USER_MAX = limit = 100_000
    now = [0.0]
    monkeypatch.setattr(quota, "leases", quota.Leases(clock=lambda: now[0]))
    message_create(author=user, text="counted")
    message_create(author=user, text="leased")

    now[0] += quota.LEASE_SECONDS
    message_create(author=user, text="after the lease expired")

    assert headroom_in_redis(user, limit) == limit - 1 - 2 * quota.LEASE
