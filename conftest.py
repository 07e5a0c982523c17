"""Fixtures shared by every test: users, logged-in clients, and the real Redis cleaned after each test."""

import socket

import pytest
from django.conf import settings

from logs_app.redis_pool import breaker
from messages_app import quota

PASSWORD = "a-long-Test-passw0rd"


@pytest.fixture(autouse=True)
def _clean_redis():
    """Tests use the real Redis at REDIS_URL under their own key prefix; delete those keys after,
    and what this process remembers of them (the message-cap leases)."""
    yield
    breaker._open_until.clear()
    quota.leases.clear()
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"*{settings.REDIS_KEY_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str = "alice", *, staff: bool = False):
        return django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=staff)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("bob")


@pytest.fixture
def staff_user(make_user):
    return make_user("carol", staff=True)


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings, closed_port):
    """Point the cache, the sessions and recent activity at a port where no Redis answers."""
    caches = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed_port}/0"}}
    settings.CACHES = caches
    return closed_port
