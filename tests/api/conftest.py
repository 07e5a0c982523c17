"""One jiwoo under gunicorn for the API suites, and a visitor logged in to it with a few messages."""

import uuid
from http import HTTPStatus

import pytest

from tests.appserver import AppServer, Visitor

PASSWORD = "a-long-Schemathesis-passw0rd"


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    # The relay's own limits, raised so that the fuzzer tests what the relay does, not its 429.
    limits = {"BROWSER_TRACES_RATE_LIMIT_PER_SESSION": "100000", "BROWSER_TRACES_RATE_LIMIT_PER_ADDRESS": "100000"}
    server = AppServer(tmp_path_factory.mktemp("api"), env=limits, workers=2)
    try:
        yield server.start(timeout=60)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def visitor(server) -> Visitor:
    visitor = Visitor(server.url)
    username = f"st{uuid.uuid4().hex[:8]}"
    assert visitor.sign_up(username, PASSWORD).status_code == HTTPStatus.OK
    assert visitor.get("/api/messages").status_code == HTTPStatus.OK, "the sign-up did not log the user in"
    for number in range(3):
        assert visitor.api("POST", "/api/messages", {"text": f"seed {number}"}).status_code == HTTPStatus.CREATED
    return visitor
