"""Django's error handlers: JSON under /api/, the page with the trace id elsewhere, the 503, an unseen 400's story."""

import json
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import OperationalError
from opentelemetry.sdk.trace import TracerProvider

from observability import errors
from observability.context import RequestStory, story_bound

pytestmark = pytest.mark.django_db

HANDLERS = {
    "400": (errors.bad_request, HTTPStatus.BAD_REQUEST, "The request could not be understood"),
    "403": (errors.permission_denied, HTTPStatus.FORBIDDEN, "You do not have permission"),
    "404": (errors.page_not_found, HTTPStatus.NOT_FOUND, "There is nothing at this address"),
    "500": (errors.server_error, HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side"),
    "csrf": (errors.csrf_failure, HTTPStatus.FORBIDDEN, "The form could not be verified"),
}


def answered_in_a_span(handler, request):
    """The handler's answer to ``request`` while a span of the test's own is active, and its trace id."""
    with TracerProvider().get_tracer("test").start_as_current_span("server") as span:
        response = handler(request)
    return response, format(span.get_span_context().trace_id, "032x")


@pytest.mark.parametrize("name", HANDLERS)
def test_a_page_shows_its_text_and_the_trace_id(rf, name):
    handler, status, text = HANDLERS[name]

    response, trace_id = answered_in_a_span(handler, rf.get("/messages/"))

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert text in response.content.decode()
    assert f'<code class="trace-id">{trace_id}</code>' in response.content.decode()


@pytest.mark.parametrize("name", HANDLERS)
def test_under_the_api_the_answer_is_the_json_error(rf, name):
    handler, status, _ = HANDLERS[name]

    response, _ = answered_in_a_span(handler, rf.get("/api/messages"))

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"error"}


def test_a_server_error_caused_by_the_database_is_the_503(rf):
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        page, trace_id = answered_in_a_span(errors.server_error, rf.get("/messages/"))
        api, _ = answered_in_a_span(errors.server_error, rf.get("/api/messages"))

    assert page.status_code == api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "jiwoo is unavailable for a moment" in page.content.decode()
    assert f'<code class="trace-id">{trace_id}</code>' in page.content.decode()
    assert "unavailable" in json.loads(api.content)["error"]


def test_a_view_that_loses_the_database_answers_503_not_500(alice_client, monkeypatch):
    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("messages_app.views.message_page", lost)
    monkeypatch.setattr("messages_app.api.message_page", lost)
    alice_client.raise_request_exception = False

    page = alice_client.get("/messages/")
    api = alice_client.get("/api/messages")

    assert page.status_code == api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "jiwoo is unavailable for a moment" in page.content.decode()
    assert api.json()["error"]


def test_a_bad_request_the_middleware_never_saw_tells_its_story_once(rf, log, request_lines):
    response = errors.bad_request(rf.get("/accounts/login/", HTTP_X_REQUEST_ID="edge-1"))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["X-Request-ID"] == "edge-1"
    (line,) = request_lines(log)
    assert (line.path, line.status, line.request_id) == ("/accounts/login/", 400, "edge-1")


def test_a_bad_request_inside_a_told_request_leaves_the_story_to_the_middleware(rf, log, request_lines):
    with story_bound(RequestStory(request_id="r1", client_ip="127.0.0.1")):
        response = errors.bad_request(rf.get("/accounts/login/"))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "X-Request-ID" not in response
    assert request_lines(log) == []


def test_a_wrong_host_has_one_line_and_its_request_id(client, log, request_lines):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    (line,) = request_lines(log)
    assert response["X-Request-ID"] == line.request_id


def test_a_form_with_too_many_fields_says_so(client, log, request_lines):
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    page = client.post("/accounts/login/", fields)

    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert "too many fields (at most 1000)" in page.content.decode()
    assert request_lines(log)[-1].status == 400


def test_a_wrong_host_is_a_warning_without_a_stack_and_has_its_line(client, caplog, request_lines):
    caplog.set_level("INFO")

    response = client.get("/accounts/login/", HTTP_HOST="evil.example")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    security = [r for r in caplog.records if r.name.startswith("django.security")]
    assert security, [r.name for r in caplog.records]
    assert all(r.levelname == "WARNING" for r in security)
    assert [r.levelname for r in caplog.records if r.levelno >= 40] == []
    assert request_lines(caplog)[-1].status == 400


def test_unknown_api_path_is_json_404(alice_client):
    response = alice_client.get("/api/nothing-here")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]
