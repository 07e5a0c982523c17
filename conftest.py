"""Fixtures shared by every test: users, logged-in clients, log lines, JSON posts; the real Redis, cleaned after."""

import json
import re
import socket

import pytest
from django.conf import settings

from core.redis import breaker
from messages_app import quota
from tests.services import PgBouncer, RedisServer, redis_client

PASSWORD = "a-long-Test-passw0rd"


@pytest.fixture(autouse=True)
def _clean_redis():
    """Tests use the real Redis at REDIS_URL under their own key prefix; delete those keys after,
    and what this process remembers of them (the message-cap leases)."""
    yield
    breaker.reset()
    quota.leases.clear()
    client = redis_client(socket_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"*{settings.REDIS_KEY_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def pgbouncer(tmp_path):
    """Factory: PgBouncer in transaction mode in front of the test PostgreSQL; stopped after the test."""
    started = []

    def start(**settings) -> PgBouncer:
        pooler = PgBouncer(tmp_path, **settings)
        started.append(pooler)
        return pooler.start()

    yield start
    for pooler in started:
        pooler.stop()


@pytest.fixture
def redis_server(tmp_path):
    """Factory: a redis-server of the test's own (with a password, TLS only); stopped after the test."""
    started = []

    def start(password: str = "", tls: bool = False) -> RedisServer:
        server = RedisServer(tmp_path, password=password, tls=tls)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


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


@pytest.fixture
def log(caplog):
    """caplog with the app's INFO lines (the jiwoo.* loggers) recorded."""
    caplog.set_level("INFO", logger="jiwoo")
    return caplog


@pytest.fixture
def request_lines():
    """The http.request lines among a caplog's records: request_lines(log)."""

    def lines(caplog) -> list:
        return [r for r in caplog.records if getattr(r, "event", None) == "http.request"]

    return lines


@pytest.fixture
def post_json():
    """POST a body to the API as JSON: post_json(client, url, body); a str or bytes body is sent as it is."""

    def post(client, url, body, **extra):
        payload = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(url, payload, content_type="application/json", **extra)

    return post


@pytest.fixture
def assert_errors_described():
    """Checks that a field's input names its error list in aria-describedby, and that the list is
    on the page under that id: a screen reader reads the error with the field."""

    def check(html: str, field_id: str) -> None:
        (tag,) = re.findall(rf'<(?:input|textarea|select)[^>]*\bid="{field_id}"[^>]*>', html)
        described_by = re.search(r'aria-describedby="([^"]*)"', tag)
        assert described_by, f"{field_id} has no aria-describedby"
        error_ids = [name for name in described_by[1].split() if name.endswith("_error")]
        assert error_ids, f"{field_id} does not name its errors: {described_by[1]}"
        for error_id in error_ids:
            assert f'id="{error_id}"' in html, f"{field_id} names {error_id}, which is not on the page"

    return check
