"""The Redis pool: the breaker bounds what a silent Redis costs; without Redis all but recent activity works."""

import socket
import time
from http import HTTPStatus

import pytest
from django.conf import settings
from redis.exceptions import RedisError

from core.redis import CircuitBreaker, breaker
from logs_app.store import activity_write


@pytest.fixture
def silent_redis():
    """A listening socket that accepts connections (in the kernel) and never replies."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server.getsockname()[1]


def test_breaker_opens_then_lets_one_probe_through():
    cb = CircuitBreaker(open_seconds=0.05)
    assert cb.allow("a")
    cb.record_failure("a")
    assert not cb.allow("a")
    time.sleep(0.06)
    assert cb.allow("a")
    assert not cb.allow("a")
    cb.record_success("a")
    assert cb.allow("a")


def test_a_silent_redis_costs_one_timeout_then_nothing(settings, silent_redis, monkeypatch):
    """A server that never answers would hold the call forever without the timeout; after that
    one timeout the breaker refuses the next calls without trying."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{silent_redis}/0"}}
    entry = {"user": "alice", "path": "/"}
    tried = []
    allow = breaker.allow
    monkeypatch.setattr(breaker, "allow", lambda address: tried.append(allow(address)) or tried[-1])

    started = time.perf_counter()
    assert activity_write([entry]) is False
    first = time.perf_counter() - started
    for _ in range(20):
        assert activity_write([entry]) is False

    assert first < settings.REDIS_TIMEOUT_SECONDS + 5  # the timeout ended it (a busy machine adds some)
    assert tried == [True] + [False] * 20
    assert breaker.is_open(f"127.0.0.1:{silent_redis}")


def test_the_real_redis_is_not_affected():
    from core.redis import get_redis

    try:
        assert get_redis().ping()
    except RedisError:  # pragma: no cover - says what is wrong instead of a bare failure
        pytest.fail(f"Redis at {settings.REDIS_URL} must be running for the tests")


@pytest.mark.django_db
class TestRedisUnreachable:
    """REDIS_URL at a closed port: everything but recent activity works, and fast."""

    def test_pages_still_work(self, client, user, password, redis_down):
        response = client.post("/accounts/login/", {"username": user.username, "password": password})
        assert response.status_code == HTTPStatus.FOUND

        saved = client.post("/messages/", {"text": "saved while redis is down"}, follow=True)
        assert saved.status_code == HTTPStatus.OK
        assert [m.text for m in saved.context["page"]] == ["saved while redis is down"]

    def test_only_the_first_call_tries_redis_then_the_breaker_fails_fast(self, alice_client, redis_down, monkeypatch):
        """The most an outage adds is one connect attempt (at most REDIS_TIMEOUT_SECONDS), however
        many requests and calls follow while the breaker is open."""
        attempts, refused = [], []
        allow = breaker.allow

        def counting_allow(address):
            allowed = allow(address)
            (attempts if allowed else refused).append(address)
            return allowed

        monkeypatch.setattr(breaker, "allow", counting_allow)
        for url in ("/messages/", "/logs/", "/api/logs/recent", "/api/messages"):
            assert alice_client.get(url).status_code != HTTPStatus.INTERNAL_SERVER_ERROR, url  # 503 for activity

        assert len(attempts) == 1
        assert len(refused) >= 4
