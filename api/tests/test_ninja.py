"""The NinjaAPI: its document and docs page, and what it does for every operation (auth, CSRF, JSON, 405, 400)."""

import json
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.contrib.staticfiles import finders

from api.ninja import SERVER_LIMITS
from messages_app.models import Message
from messages_app.services import message_create

OPERATIONS = {
    ("get", "/api/messages"),
    ("post", "/api/messages"),
    ("get", "/api/messages/{pk}"),
    ("delete", "/api/messages/{pk}"),
    ("get", "/api/logs/recent"),
    ("get", "/api/traces/{trace_id}"),
    ("post", "/api/otlp/v1/traces"),
}


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_the_document_is_openapi_3_1_with_every_operation(schema):
    assert schema["openapi"].startswith("3.1.")
    assert {(method, path) for method, path, _ in operations(schema)} == OPERATIONS


def test_every_operation_documents_its_errors_in_the_one_shape(schema):
    for method, path, operation in operations(schema):
        assert any(int(status) >= HTTPStatus.BAD_REQUEST for status in operation["responses"]), (method, path)
        for status, response in operation["responses"].items():
            if status in SERVER_LIMITS:
                continue  # gunicorn's own page, before the app sees the request
            if int(status) >= HTTPStatus.BAD_REQUEST:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_every_operation_documents_the_servers_own_refusals(schema):
    for method, path, operation in operations(schema):
        for status in ("414", "431"):
            assert operation["responses"][status]["content"] == {"text/html": {"schema": {"type": "string"}}}, (
                method,
                path,
            )


BROWSER_RELAYS = {"/api/otlp/v1/traces"}


def test_only_the_browser_relays_are_open_to_anonymous_callers(schema):
    for method, path, operation in operations(schema):
        if path in BROWSER_RELAYS:
            assert "security" not in operation
        else:
            assert operation["security"] == [{"Session": []}], (method, path)
            assert HTTPStatus.UNAUTHORIZED in {int(status) for status in operation["responses"]}
    assert schema["components"]["securitySchemes"]["Session"]["in"] == "cookie"


def test_every_body_and_query_schema_forbids_unknown_fields(schema):
    # The browser-traces relay takes OTLP/JSON, whose producers may send fields of newer OTLP
    # versions: it reads the fields it knows and re-exports only those (observability/browser_traces.py).
    inputs = ["MessageIn", "MessageListQuery", "RecentQuery"]
    for name in inputs:
        assert schema["components"]["schemas"][name]["additionalProperties"] is False, name


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_code: list[str] = []
        self.styles: list[str] = []
        self.handlers: list[str] = []
        self.links: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [name for name in attributes if name.startswith("on")]
        if "style" in attributes:
            self.styles.append(attributes["style"])
        if tag == "script":
            self._in_script = attributes
            self.scripts.append(attributes)
        if tag == "style":
            self.styles.append("<style>")
        if tag == "link":
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        script = self._in_script
        if script is not None and data.strip() and script.get("type") != "application/json":
            self.inline_code.append(data)


def test_the_docs_page_runs_under_the_csp_with_no_inline_script_and_no_cdn(client):
    response = client.get("/api/docs")

    assert response.status_code == HTTPStatus.OK
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    page = _Page()
    page.feed(response.content.decode())
    assert not page.inline_code
    assert not page.handlers
    assert not page.styles
    sources = [script["src"] for script in page.scripts if "src" in script]
    assert sources
    assert sources + page.links == [url for url in sources + page.links if url.startswith("/static/")]
    for url in sources + page.links:
        assert finders.find(url.removeprefix("/static/")), url
    # The one data block is the Swagger UI settings: our document, no online validator.
    settings_block = response.content.decode().split('id="swagger-settings">')[1].split("</script>")[0]
    settings = json.loads(settings_block)
    assert settings["url"] == "/api/openapi.json"
    assert settings["validatorUrl"] is None


# What the API does for every operation, shown on the messages operations.

COLLECTION = "/api/messages"


def detail(pk: int) -> str:
    return f"/api/messages/{pk}"


@pytest.mark.django_db
def test_anonymous_gets_401_json_never_a_redirect(client, post_json):
    for response in (
        client.get(COLLECTION),
        post_json(client, COLLECTION, {"text": "x"}),
        client.get(detail(1)),
        client.get("/api/logs/recent"),
    ):
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["error"]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_unsafe_methods_need_the_csrf_token(user, password, client, post_json):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)

    rejected = post_json(csrf_client, COLLECTION, {"text": "no token"})
    assert rejected.status_code == HTTPStatus.FORBIDDEN
    assert rejected.json()["error"]
    assert not Message.objects.exists()

    csrf_client.get("/messages/")
    token = csrf_client.cookies["csrftoken"].value
    accepted = post_json(csrf_client, COLLECTION, {"text": "with token"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == HTTPStatus.CREATED


@pytest.mark.django_db
def test_other_methods_get_405_with_allow(alice_client, user):
    message = message_create(author=user, text="x")

    response = alice_client.put(detail(message.pk), "{}", content_type="application/json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "DELETE, GET"
    assert response.json()["error"]
    assert alice_client.delete(COLLECTION).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.django_db
def test_an_unknown_query_parameter_is_a_400_naming_it(alice_client):
    response = alice_client.get(COLLECTION, {"pgae": "2"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["fields"] == {"pgae": ["Unknown field."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=BoUnDaRy", "application/x-www-form-urlencoded", "text/plain"]
)
def test_a_body_that_is_not_json_by_its_media_type_is_a_415(alice_client, content_type):
    form = '--BoUnDaRy\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--BoUnDaRy--\r\n'
    body = form if content_type.startswith("multipart/") else "text=hi"

    response = alice_client.post(COLLECTION, body, content_type=content_type)

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_valid_json_under_another_media_type_is_a_415_and_saves_nothing(alice_client, content_type):
    response = alice_client.post(COLLECTION, '{"text": "hi"}', content_type=content_type)

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json() == {"error": "The request body must be JSON, sent with Content-Type: application/json."}
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_json_with_a_charset_is_json(alice_client):
    response = alice_client.post(COLLECTION, '{"text": "hi"}', content_type="application/json; charset=utf-8")

    assert response.status_code == HTTPStatus.CREATED


@pytest.mark.django_db
def test_validation_errors_are_400_with_fields_not_ninjas_422(alice_client, post_json):
    response = post_json(alice_client, COLLECTION, {"text": ["a"], "author": "bob"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"error", "fields"}
    assert response.json()["fields"]["author"] == ["Unknown field."]
