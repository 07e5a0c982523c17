"""The one request limiter (sign-ups, old-password checks, the browser-span relay), on the real Redis."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from core.throttle import Throttle


def a_throttle(seconds: int = 60) -> Throttle:
    return Throttle(f"test-{uuid.uuid4().hex[:8]}", seconds=seconds)


def test_hits_are_counted_per_key_and_the_limit_is_reached_at_the_limit():
    throttle = a_throttle()

    assert [throttle.hit("a") for _ in range(3)] == [1, 2, 3]
    assert throttle.hit("b") == 1
    assert throttle.exceeded("a", 3)
    assert not throttle.exceeded("a", 4)
    assert not throttle.exceeded("b", 2)


def test_a_limit_of_zero_is_no_limit():
    throttle = a_throttle()
    throttle.hit("a")

    assert not throttle.exceeded("a", 0)


def test_without_redis_nothing_is_counted_and_nothing_is_refused(redis_down):
    throttle = a_throttle()

    assert [throttle.hit("a") for _ in range(3)] == [0, 0, 0]
    assert not throttle.exceeded("a", 1)


def test_places_taken_together_never_exceed_the_limit():
    throttle = a_throttle()
    start = threading.Barrier(20)

    def take():
        start.wait(timeout=30)
        return throttle.take("a", 7)

    with ThreadPoolExecutor(max_workers=20) as pool:
        taken = list(pool.map(lambda _: take(), range(20)))

    assert taken.count(True) == 7
    assert throttle.exceeded("a", 7)


def test_a_place_given_back_can_be_taken_again():
    throttle = a_throttle()
    assert [throttle.take("a", 2) for _ in range(3)] == [True, True, False]

    throttle.give_back("a")

    assert throttle.take("a", 2)
    assert not throttle.take("a", 2)


def test_a_limit_of_zero_takes_without_counting():
    throttle = a_throttle()

    assert all(throttle.take("a", 0) for _ in range(5))
    assert throttle.hit("a") == 1
