"""The API's contract: the OpenAPI document, its docs page under the CSP, and the README's table."""

import json
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.contrib.staticfiles import finders

from api.readme import README, operations_table, readme_table

OPERATIONS = {
    ("get", "/api/messages"),
    ("post", "/api/messages"),
    ("get", "/api/messages/{pk}"),
    ("delete", "/api/messages/{pk}"),
    ("get", "/api/logs/recent"),
    ("post", "/api/otlp/v1/traces"),
}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()


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
            if int(status) >= HTTPStatus.BAD_REQUEST:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


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


def test_the_readme_table_is_the_one_the_schema_makes(schema):
    """Regenerate with `DJANGO_SETTINGS_MODULE=jiwoo.test_settings python -m api.readme`."""
    assert readme_table(README.read_text(encoding="utf-8")) == operations_table(schema)


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
