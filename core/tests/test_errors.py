"""Refusals in the app's shape (JSON under /api/, the page with the trace id) and allow_methods' 405 page."""

import json
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseNotAllowed
from opentelemetry.sdk.trace import TracerProvider

from core.errors import allow_methods, is_api_request, refused
from messages_app.models import Message
from messages_app.services import message_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "api"),
    [("/api/messages", True), ("/api/", True), ("/api", False), ("/apis/x", False), ("/messages/api/", False)],
)
def test_an_api_request_is_one_under_the_api_prefix(rf, path, api):
    assert is_api_request(rf.get(path)) is api


def refuse(request):
    return refused(request, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request too large", "At most 256 KiB.")


def test_a_refusal_is_the_page_with_the_trace_id_and_json_under_the_api(rf):
    with TracerProvider().get_tracer("test").start_as_current_span("server") as span:
        page = refuse(rf.post("/accounts/login/"))
        api = refuse(rf.post("/api/messages"))
    trace_id = format(span.get_span_context().trace_id, "032x")

    assert page.status_code == api.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert page["Content-Type"].startswith("text/html")
    assert "Request too large" in page.content.decode()
    assert "At most 256 KiB." in page.content.decode()
    assert f'<code class="trace-id">{trace_id}</code>' in page.content.decode()
    assert api["Content-Type"] == "application/json"
    assert json.loads(api.content) == {"error": "At most 256 KiB."}


def test_outside_a_span_the_page_quotes_no_trace_id(rf):
    page = refuse(rf.post("/accounts/login/"))

    assert "Request too large" in page.content.decode()
    assert 'class="trace-id"' not in page.content.decode()


@allow_methods("GET", "HEAD")
def a_page(request):
    return HttpResponse("the page")


@allow_methods("POST")
def refuses_on_its_own(request):
    return HttpResponseNotAllowed(["POST"], content=b"the view's own answer")


def test_allow_methods_makes_djangos_empty_405_the_page_with_allow(rf):
    response = a_page(rf.delete("/somewhere/"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET, HEAD"
    assert response["Content-Type"].startswith("text/html")
    assert "Method not allowed" in response.content.decode()
    assert "(DELETE)" in response.content.decode()


def test_allow_methods_answers_json_with_allow_under_the_api(rf):
    response = a_page(rf.post("/api/somewhere"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET, HEAD"
    assert "(POST)" in json.loads(response.content)["error"]


def test_allow_methods_leaves_every_other_answer_as_the_view_made_it(rf):
    assert a_page(rf.get("/somewhere/")).content == b"the page"
    assert refuses_on_its_own(rf.post("/somewhere/")).content == b"the view's own answer"


WRONG_METHODS = [
    ("delete", "/messages/", "GET, HEAD, POST"),
    ("put", "/messages/", "GET, HEAD, POST"),
    ("get", "/messages/{pk}/delete/", "POST"),
    ("delete", "/logs/", "GET, HEAD"),
    ("options", "/logs/", "GET, HEAD"),
    ("patch", "/accounts/signup/", "GET, HEAD, POST"),
    ("get", "/accounts/logout/", "POST"),
    ("delete", "/", "GET, HEAD"),
]


@pytest.mark.parametrize(("method", "url", "allowed"), WRONG_METHODS)
def test_a_page_asked_with_a_method_it_does_not_take_is_the_405_page(alice_client, caplog, method, url, allowed):
    message = message_create(author=User.objects.get(username="alice"), text="kept")
    caplog.set_level("INFO", logger="jiwoo.events")

    response = getattr(alice_client, method)(url.format(pk=message.pk))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"].startswith(allowed)
    assert response["Content-Type"].startswith("text/html")
    assert "Method not allowed" in response.content.decode()
    assert Message.objects.filter(pk=message.pk).exists()
    assert not [r for r in caplog.records if getattr(r, "event", None) == "page.view"]


def test_head_is_still_answered_as_get(alice_client):
    assert alice_client.head("/messages/").status_code == HTTPStatus.OK
    assert alice_client.head("/logs/").status_code == HTTPStatus.OK
