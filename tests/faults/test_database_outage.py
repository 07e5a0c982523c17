"""The database becomes unreachable and comes back (PostgreSQL through a proxy the test cuts)."""

import os
import socket
import uuid

import pytest

from tests.appserver import AppServer, Visitor
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e
POSTGRES = ("127.0.0.1", 5432)


def postgres_reachable() -> bool:
    try:
        socket.create_connection(POSTGRES, timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def postgres_env(monkeypatch):
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        if not postgres_reachable():
            if os.environ.get("CI") == "true":
                pytest.fail("PostgreSQL is needed for the database fault test")
            pytest.skip("needs PostgreSQL on 127.0.0.1:5432")
        monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def test_database_unreachable_then_back(tmp_path, postgres_env):
    proxy = TcpProxy(POSTGRES).restore()
    server = AppServer(tmp_path)
    server.env["DATABASE_URL"] = server.env["DATABASE_URL"].replace(":5432/", f":{proxy.port}/")
    server.start()
    try:
        visitor = Visitor(server.url)
        assert visitor.sign_up(f"d_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}").status_code == 200
        assert visitor.post_form("/messages/", {"text": "before the outage"}).status_code == 200

        proxy.cut()
        ready = visitor.get("/readyz")
        page = visitor.get("/messages/")
        api = visitor.api("GET", "/api/messages")

        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "down", "redis": "ok"}
        assert page.status_code == 503
        trace_id = page.headers["traceresponse"].split("-")[1]
        assert f'<code class="trace-id">{trace_id}</code>' in page.text
        assert "Traceback" not in page.text
        assert 'href="/static/css/jiwoo.css"' in page.text  # the styled page
        assert api.status_code == 503
        assert api.json()["error"]

        proxy.restore()
        back = visitor.get("/messages/")
        assert back.status_code == 200
        assert back.url.endswith("/messages/")  # still logged in
        assert "before the outage" in back.text
        assert visitor.get("/readyz").status_code == 200
    finally:
        proxy.cut()
        proxy.restore()  # let the fresh database be dropped
        server.stop()
        proxy.cut()

    records = server.log_records()
    outage = [r for r in records if r.get("event") == "http.request" and r.get("status") == 503]
    assert outage, "the 503 requests were not logged"
