"""jiwoo under gunicorn against a Redis as Azure Cache for Redis runs one: a password (an access
key, from a file) and TLS only, verified against a CA the operator names."""

import time
import uuid
from http import HTTPStatus

import pytest
import requests
from django.conf import settings

from tests.appserver import Visitor

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-Test-passw0rd"
ACCESS_KEY = "an+Azure/access=key"


def eventually(condition, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def activity_of(redis):
    """The everyone's-activity list, once the workers' writer threads have pushed it."""
    key = f"{settings.REDIS_KEY_PREFIX}:recent-activity:all"
    return eventually(lambda: redis.client().lrange(key, 0, -1))


@pytest.mark.parametrize("tls", [False, True], ids=["password", "password and TLS"])
def test_sessions_and_activity_live_in_a_redis_that_wants_a_password(app_server, redis_server, tmp_path, tls):
    redis = redis_server(password=ACCESS_KEY, tls=tls)
    key_file = tmp_path / "redis-access-key"
    key_file.write_text(ACCESS_KEY + "\n")
    url = f"{redis.url}?ssl_ca_certs={redis.ca}" if tls else redis.url
    server = app_server({"REDIS_URL": url, "REDIS_PASSWORD_FILE": str(key_file)})
    visitor = Visitor(server.url)

    signed_up = visitor.sign_up(f"cache-{uuid.uuid4().hex[:8]}", PASSWORD)
    saved = visitor.api("POST", "/api/messages", {"text": "kept in the database"})
    recent = visitor.api("GET", "/api/logs/recent")
    ready = requests.get(f"{server.url}/readyz", timeout=10).json()

    assert signed_up.status_code == HTTPStatus.OK
    assert saved.status_code == HTTPStatus.CREATED
    assert recent.status_code == HTTPStatus.OK
    assert ready == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    assert activity_of(redis), "no activity entry reached Redis"
    assert any(b"session" in key for key in redis.client().keys("*")), "no session in Redis"
    assert ACCESS_KEY not in server.log_text()


def test_a_certificate_the_system_does_not_trust_is_refused_and_said_why(app_server, redis_server, tmp_path):
    """Without ssl_ca_certs the server's certificate is checked against the system's CAs, which
    do not know the test's own: the app serves without Redis and readiness says why."""
    redis = redis_server(password=ACCESS_KEY, tls=True)
    server = app_server({"REDIS_URL": redis.url, "REDIS_PASSWORD": ACCESS_KEY})

    ready = requests.get(f"{server.url}/readyz", timeout=10)
    page = requests.get(f"{server.url}/accounts/login/", timeout=10)
    degraded = eventually(lambda: [r for r in server.log_records() if r.get("event") == "health.degraded"])

    assert ready.status_code == HTTPStatus.OK
    assert ready.json()["status"] == "degraded"
    assert page.status_code == HTTPStatus.OK
    assert degraded[0]["check"] == "redis"
    assert degraded[0]["reason"] == "TLS failed"
    assert "CERTIFICATE_VERIFY_FAILED" in degraded[0]["detail"]
