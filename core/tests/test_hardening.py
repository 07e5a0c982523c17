"""HardeningMiddleware and the upload handler: refused bodies (each with its line), database refusals, HEAD, caching."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import OperationalError

pytestmark = pytest.mark.django_db
LIST = "/messages/"


def test_a_body_over_the_limit_is_refused_before_it_is_read_with_its_line(client, log, request_lines):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    page = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    api = client.post("/api/messages", body, content_type="application/json")

    assert page.status_code == api.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "too large" in page.content.decode()
    assert "too large" in api.json()["error"]
    assert [(line.path, line.status) for line in request_lines(log)] == [
        ("/accounts/login/", 413),
        ("/api/messages", 413),
    ]


def test_a_chunked_body_is_refused_before_it_is_read_with_its_line(client, log, request_lines):
    page = client.post("/accounts/login/", "", content_type="text/plain", HTTP_TRANSFER_ENCODING="chunked")
    api = client.post("/api/messages", "", content_type="application/json", HTTP_TRANSFER_ENCODING="gzip, chunked")

    assert page.status_code == api.status_code == HTTPStatus.LENGTH_REQUIRED
    assert "Content-Length" in page.content.decode()
    assert "Content-Length" in api.json()["error"]
    assert [line.status for line in request_lines(log)] == [411, 411]


def test_a_value_the_database_cannot_take_is_a_400_not_a_500(admin_client, log, request_lines):
    """The admin's filters pass a NUL character to the database; PostgreSQL refuses it."""
    from django.db import connection

    response = admin_client.get("/admin/auth/user/", {"username": "a\x00b"})

    expected = HTTPStatus.BAD_REQUEST if connection.vendor == "postgresql" else HTTPStatus.OK
    assert response.status_code == expected
    assert request_lines(log)[-1].status == expected


@pytest.mark.parametrize("path", ["/messages/", "/logs/", "/api/messages", "/api/logs/recent"])
def test_head_is_the_gets_headers_without_a_body(alice_client, path):
    get = alice_client.get(path)
    head = alice_client.head(path)

    assert head.status_code == get.status_code == HTTPStatus.OK
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) > 0


def test_a_file_upload_is_refused_and_nothing_of_it_kept(client, log, tmp_path, request_lines):
    upload = tmp_path / "big.bin"
    upload.write_bytes(b"x" * 1000)

    with upload.open("rb") as file:
        response = client.post("/accounts/login/", {"username": "a", "password": "b", "file": file})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Files cannot be uploaded here" in response.content.decode()
    assert request_lines(log)[-1].status == 400
    # Multipart forms without a file (what the test client sends) still work.
    assert client.post("/accounts/login/", {"username": "a", "password": "b"}).status_code == HTTPStatus.OK


def test_private_pages_and_api_answers_are_not_stored_by_any_cache(client, alice_client):
    anonymous = client.get("/accounts/signup/")
    page = alice_client.get("/messages/")
    api = alice_client.get("/api/messages")
    api_anonymous = client.get("/api/messages")

    for response in (page, api, api_anonymous):
        assert "private" in response["Cache-Control"]
        assert "no-store" in response["Cache-Control"]
    assert "no-store" in anonymous["Cache-Control"]  # never_cache, as before


def test_a_cancelled_statement_is_a_503_that_says_so(alice_client, monkeypatch):
    class QueryCanceled(Exception):
        sqlstate = "57014"

    def cancelled(**kwargs):
        try:
            raise QueryCanceled("canceling statement due to statement timeout")
        except QueryCanceled as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr("messages_app.views.message_page", cancelled)

    response = alice_client.get(LIST, {"q": "e"})

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "took the database too long" in response.content.decode()
