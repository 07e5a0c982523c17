"""Property-based tests of the JSON API: whatever arrives, never a 500 and never a half-saved record."""

import json
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages_app.models import Message

pytestmark = pytest.mark.django_db

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=15,
)
bodies = (
    json_values
    | st.dictionaries(st.sampled_from(["text", "author", "id", "extra"]), json_values, max_size=3)
    | st.builds(lambda text: {"text": text}, st.text(max_size=2100))
)


def post(client, payload: bytes):
    return client.post("/api/messages", payload, content_type="application/json")


def assert_json_error(response):
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json()["error"], str)


@EXAMPLES
@given(body=bodies)
def test_any_json_body_is_saved_whole_or_refused_with_a_400(alice_client, body):
    before = Message.objects.count()

    response = post(alice_client, json.dumps(body).encode())

    if response.status_code == HTTPStatus.CREATED:
        assert isinstance(body, dict)
        assert set(body) == {"text"}
        saved = Message.objects.get(pk=response.json()["id"])
        assert saved.text == body["text"].strip()
        assert 1 <= len(saved.text) <= 2000
        assert Message.objects.count() == before + 1
    else:
        assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
        assert_json_error(response)
        assert Message.objects.count() == before


@EXAMPLES
@given(payload=st.binary(max_size=300))
def test_any_bytes_are_refused_or_saved_never_a_500(alice_client, payload):
    before = Message.objects.count()

    response = post(alice_client, payload)

    assert response.status_code in (HTTPStatus.CREATED, HTTPStatus.BAD_REQUEST)
    if response.status_code == HTTPStatus.BAD_REQUEST:
        assert_json_error(response)
        assert Message.objects.count() == before


@pytest.mark.parametrize(
    "payload",
    [
        b'{"text": "\\ud800 lone surrogate"}',
        b'{"text": "nul \\u0000 inside"}',
        b'{"text": 1e999}',
        b'{"text": NaN}',
        b'{"text": "ok"' + b" " * 10,
        b"\xef\xbb\xbf" + b'{"text": "bom"}',
    ],
)
def test_hostile_encodings_get_a_400(alice_client, payload):
    response = post(alice_client, payload)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert_json_error(response)
    assert not Message.objects.exists()


def test_an_oversized_body_gets_a_400_and_nothing_is_saved(alice_client):
    payload = json.dumps({"text": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}).encode()

    response = post(alice_client, payload)

    # 413 since the request middleware refuses a body over the limit before it is read.
    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert_json_error(response)
    assert not Message.objects.exists()


query_values = st.text(max_size=40) | st.integers(min_value=-(10**25), max_value=10**25).map(str)


@EXAMPLES
@given(page=query_values, page_size=query_values, q=st.text(max_size=250))
def test_any_list_parameters_answer_200_or_400(alice_client, page, page_size, q):
    response = alice_client.get("/api/messages", {"page": page, "page_size": page_size, "q": q})

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST), response.content
    if response.status_code == HTTPStatus.BAD_REQUEST:
        assert_json_error(response)


@EXAMPLES
@given(limit=query_values)
def test_any_limit_answers_200_or_400(alice_client, limit):
    response = alice_client.get("/api/logs/recent", {"limit": limit})

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)


@EXAMPLES
@given(pk=st.integers(min_value=-(10**20), max_value=10**20))
def test_any_message_id_answers_404_never_500(alice_client, pk):
    response = alice_client.get(f"/api/messages/{pk}")

    assert response.status_code == HTTPStatus.NOT_FOUND
