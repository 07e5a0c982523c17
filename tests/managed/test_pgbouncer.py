"""jiwoo under gunicorn behind PgBouncer in transaction mode with its default settings, as Azure
Database for PostgreSQL's built-in pooler runs: ready, every page and the API work, web requests
keep their statement timeout, and readiness says why the database refuses."""

import threading
import time
import uuid
from http import HTTPStatus

import psycopg
import pytest
import requests

from tests.appserver import AppServer, Visitor
from tests.services import postgres_url

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-Test-passw0rd"


def wait_for(condition, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {condition.__doc__ or condition}")


@pytest.fixture
def pooled_app(tmp_path, pgbouncer):
    """Factory: jiwoo on a fresh database that it reaches only through PgBouncer, its password
    in a file (DATABASE_PASSWORD_FILE); with ``tls``, a TLS-only pooler whose certificate the
    app verifies (``sslmode=verify-full&sslrootcert=system``)."""
    postgres_url()
    servers = []

    def start(tls: bool = False, **env) -> tuple[AppServer, object]:
        pooler = pgbouncer(tls=tls)
        server = AppServer(tmp_path, env=env)
        servers.append(server)
        password_file = tmp_path / f"database-password-{server.port}"
        password_file.write_text(pooler.password + "\n")
        query = {"sslmode": "verify-full", "sslrootcert": "system"} if tls else {}
        server.env["DATABASE_URL"] = pooler.url(server.database.name, password="", **query)
        if tls:
            # The "system" CAs are the file SSL_CERT_FILE names (the image names Debian's
            # bundle): here the test's own CA, which signed the pooler's certificate.
            server.env["SSL_CERT_FILE"] = str(pooler.ca)
        server.env["DATABASE_PASSWORD_FILE"] = str(password_file)
        server.env.pop("DATABASE_PASSWORD", None)
        return server.start(), pooler

    yield start
    for server in servers:
        server.stop()


def signed_up(server) -> tuple[Visitor, str]:
    visitor = Visitor(server.url)
    username = f"pooled-{uuid.uuid4().hex[:8]}"
    assert visitor.sign_up(username, PASSWORD).status_code == HTTPStatus.OK
    return visitor, username


def test_behind_the_pooler_the_app_is_ready_and_every_part_works(pooled_app):
    server, pooler = pooled_app()
    visitor, username = signed_up(server)

    ready = requests.get(f"{server.url}/readyz", timeout=10)
    form = visitor.post_form("/messages/", {"text": "through the pooler"})
    created = visitor.api("POST", "/api/messages", {"text": "and through the API"})
    found = visitor.get("/messages/", params={"q": "pooler"})
    api_found = visitor.api("GET", "/api/messages?q=through")
    deleted = visitor.api("DELETE", f"/api/messages/{created.json()['id']}")
    activity = visitor.get("/logs/")
    visitor.log_out()
    again = visitor.log_in(username, PASSWORD)

    assert ready.status_code == HTTPStatus.OK
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert form.status_code == HTTPStatus.OK
    assert "Message saved." in form.text
    assert created.status_code == HTTPStatus.CREATED
    assert "through the pooler" in found.text
    assert api_found.json()["count"] == 2
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert activity.status_code == HTTPStatus.OK
    assert again.status_code == HTTPStatus.OK
    assert "pooled-" in again.text
    assert "unsupported startup parameter" not in pooler.log_text()
    assert not [r for r in server.log_records() if r.get("level") in {"ERROR", "CRITICAL"}]


def test_a_tls_only_server_is_verified_against_the_system_cas(pooled_app):
    """`sslmode=verify-full&sslrootcert=system` checks the server's certificate and name against
    the CAs the system trusts; `sslmode=require` would accept any certificate."""
    server, pooler = pooled_app(tls=True)
    visitor, _ = signed_up(server)

    ready = requests.get(f"{server.url}/readyz", timeout=10)
    saved = visitor.api("POST", "/api/messages", {"text": "over TLS"})

    assert ready.json()["checks"]["database"] == "ok"
    assert saved.status_code == HTTPStatus.CREATED
    assert "tls=TLSv1.3" in pooler.log_text() or "tls=TLSv1.2" in pooler.log_text()


def test_a_statement_held_up_past_the_limit_is_cancelled_through_the_pooler(pooled_app):
    """A statement that waits on a lock for longer than DATABASE_STATEMENT_TIMEOUT is cancelled:
    the timeout is set in each web transaction, not by a startup parameter the pooler refuses."""
    server, _ = pooled_app(DATABASE_STATEMENT_TIMEOUT="0.3")
    visitor, _ = signed_up(server)
    direct = postgres_url().rsplit("/", 1)[0] + f"/{server.database.name}"
    released = threading.Event()

    def hold_the_table():
        with psycopg.connect(direct) as connection:
            connection.execute("LOCK TABLE messages_app_message IN ACCESS EXCLUSIVE MODE")
            locked.set()
            released.wait(30)

    locked = threading.Event()
    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        page = visitor.get("/messages/")
        api = visitor.api("GET", "/api/messages")
        waited = time.monotonic() - started
    finally:
        released.set()
        holder.join()
    after = visitor.get("/messages/")

    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "took the database too long" in page.text
    assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert waited < 8  # two requests, each cancelled after 0.3 s, not left waiting for the lock
    assert after.status_code == HTTPStatus.OK
    timeouts = [r for r in server.log_records() if r.get("event") == "db.statement_timeout"]
    assert len(timeouts) == 2


def test_readiness_says_why_the_database_refuses_without_the_password(pooled_app):
    server, pooler = pooled_app(DATABASE_CONN_MAX_AGE="0")
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == HTTPStatus.OK

    pooler.change_password("a-new-pooler-Passw0rd")

    def refused():
        """/readyz answers 503 (its body, then: a Response of a 503 is false)"""
        answer = requests.get(f"{server.url}/readyz", timeout=10)
        return answer.json() if answer.status_code == HTTPStatus.SERVICE_UNAVAILABLE else None

    body = wait_for(refused)
    degraded = wait_for(lambda: [r for r in server.log_records() if r.get("event") == "health.degraded"])

    assert body == {
        "status": "unavailable",
        "error": "database unreachable",
        "checks": {"database": "down", "redis": "ok"},
    }
    assert degraded[0]["reason"] == "authentication failed"
    assert "SASL authentication failed" in degraded[0]["detail"]
    assert degraded[0]["message"] == "readiness: database unreachable: authentication failed"
    output = server.log_text()
    assert "pooler-Passw0rd" not in output
