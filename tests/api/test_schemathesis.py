"""schemathesis holds jiwoo, running under gunicorn, to its own OpenAPI document.

Every operation, with valid and invalid data (examples, coverage and fuzzing phases, in and out
of the schema), with a logged-in session (cookie + X-CSRFToken), against every check but two:
no 5xx, only documented statuses, content types, headers and bodies. Left out: whether invalid
data is refused (every case carries the session cookie in its header, so the cases "without the
session" are not without it), and whether valid data is accepted (the relay refuses batches by
rules its schema cannot state: the bundle's scopes and kinds, timestamps in the last hour); the
API's own tests check both. The run is bounded (MAX_EXAMPLES per operation, a fixed seed) to
stay within a few minutes on a busy 2-core machine. A failure prints schemathesis' report with
the curl command that reproduces it.
"""

import subprocess
import sys
from http import HTTPStatus

import pytest

pytestmark = pytest.mark.e2e

CHECKS = "all"
EXCLUDED_CHECKS = "negative_data_rejection,positive_data_acceptance"
MAX_EXAMPLES = 80
SEED = 20261126


def test_the_api_keeps_its_openapi_contract(server, visitor, tmp_path):
    cookies = "; ".join(f"{name}={value}" for name, value in visitor.session.cookies.items())
    report = tmp_path / "schemathesis.txt"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        f"{server.url}/api/openapi.json",
        "--checks",
        CHECKS,
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "too_slow",
        "--header",
        f"Cookie: {cookies}",
        "--header",
        f"X-CSRFToken: {visitor.session.cookies['csrftoken']}",
    ]
    with report.open("w") as output:
        result = subprocess.run(
            command, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT, timeout=600, check=False
        )
    text = report.read_text()
    print(text)  # pytest shows it when the test fails
    assert result.returncode == 0, text[-6000:]
    operations = sum(len(methods) for methods in visitor.get("/api/openapi.json").json()["paths"].values())
    assert f"Tested: {operations}\n" in text, text[-3000:]


@pytest.mark.parametrize("path", ["/api/messages", "/api/otlp/v1/traces"])
@pytest.mark.parametrize("files", [True, False])
def test_a_form_post_is_a_4xx_with_the_error_shape(server, visitor, path, files):
    # A real client's form body is read by the CSRF check before the API sees it (the
    # RawPostDataException that was a 500).
    token = visitor.session.cookies["csrftoken"]
    if files:
        response = visitor.session.post(
            server.url + path,
            files={"text": ("a.txt", b"hi")},
            headers={"X-CSRFToken": token},
            timeout=10,
        )
    else:
        response = visitor.session.post(
            server.url + path, data={"text": "hi", "csrfmiddlewaretoken": token}, timeout=10
        )

    assert HTTPStatus.BAD_REQUEST <= response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]


def test_a_huge_page_number_is_a_400(visitor):
    for params in ({"page": "9223372036854775807"}, {"page": "9223372036854775807", "q": "seed"}):
        response = visitor.get("/api/messages", params=params)

        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["fields"]["page"]


# The request line's limit: the longest search the schema allows reaches the app, which answers
# a longer one in its own shape; only a line over gunicorn's limit gets gunicorn's documented 414.
WIDE = "\U0001d538"  # 4 bytes in UTF-8, 12 once percent-encoded: the widest a character gets


def test_the_longest_search_the_schema_allows_reaches_the_app(visitor):
    response = visitor.get("/api/messages", params={"q": WIDE * 200, "page": "1000000", "page_size": "100"})

    assert len(response.request.url) > 2400
    assert response.status_code == HTTPStatus.BAD_REQUEST  # page 1,000,000 is past the end: the app's own 400
    assert response.headers["Content-Type"] == "application/json"


def test_a_search_longer_than_the_schema_allows_is_the_apps_json_400(visitor):
    response = visitor.get("/api/messages", params={"q": WIDE * 600})

    assert 4094 < len(response.request.url) < 8190  # over gunicorn's default limit, within jiwoo's
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["fields"]["q"]


def test_a_request_line_over_the_servers_limit_is_the_documented_414(visitor):
    response = visitor.get("/api/messages", params={"q": "a" * 9000})
    operation = visitor.get("/api/openapi.json").json()["paths"]["/api/messages"]["get"]

    assert response.status_code == HTTPStatus.REQUEST_URI_TOO_LONG
    assert response.headers["Content-Type"] == "text/html"
    assert "text/html" in operation["responses"]["414"]["content"]
    assert "text/html" in operation["responses"]["431"]["content"]
