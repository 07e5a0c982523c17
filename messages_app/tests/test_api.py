"""The messages API (list, search, create, read, delete); property-based: whatever arrives, never a 500."""

import json
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages_app.models import Message
from messages_app.services import message_create

pytestmark = pytest.mark.django_db

COLLECTION = "/api/messages"


def detail(pk: int) -> str:
    return f"/api/messages/{pk}"


def test_create_returns_201_and_the_object(alice_client, user, post_json):
    response = post_json(alice_client, COLLECTION, {"text": "  from the API 🚀 "})

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["text"] == "from the API 🚀"
    assert body["author"] == user.username
    assert set(body) == {"id", "text", "author", "created_at"}
    assert Message.objects.get(pk=body["id"]).text == "from the API 🚀"


def test_list_paginates_and_searches(alice_client, user):
    for number in range(25):
        message_create(author=user, text=f"note {number} {'even' if number % 2 == 0 else 'odd'}")

    page2 = alice_client.get(COLLECTION, {"page": 2, "page_size": 10}).json()
    evens = alice_client.get(COLLECTION, {"q": "EVEN note"}).json()

    assert page2["count"] == 25
    assert page2["pages"] == 3
    assert page2["page"] == 2
    assert [m["text"] for m in page2["results"]] == [
        f"note {n} {'even' if n % 2 == 0 else 'odd'}" for n in range(14, 4, -1)
    ]
    assert evens["count"] == 13


def test_read_and_delete(alice_client, user):
    message = message_create(author=user, text="read me")

    assert alice_client.get(detail(message.pk)).json()["text"] == "read me"
    assert alice_client.delete(detail(message.pk)).status_code == HTTPStatus.NO_CONTENT
    assert not Message.objects.exists()
    assert alice_client.get(detail(message.pk)).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("text", "saved"),
    [("  " + "a" * 2000 + "\n", "a" * 2000), ("\t hi \n", "hi")],
    ids=["2000 characters once trimmed", "short"],
)
def test_the_api_trims_before_it_counts_as_the_page_does(alice_client, text, saved, post_json):
    response = post_json(alice_client, COLLECTION, {"text": text})
    page = alice_client.post("/messages/", {"text": text})

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["text"] == saved
    assert page.status_code == HTTPStatus.FOUND
    assert list(Message.objects.values_list("text", flat=True)) == [saved, saved]


@pytest.mark.parametrize("text", ["", "   ", "a" * 2001])
def test_the_api_refuses_a_text_with_the_pages_message(alice_client, text, post_json):
    api_errors = post_json(alice_client, COLLECTION, {"text": text}).json()["fields"]["text"]
    page_errors = alice_client.post("/messages/", {"text": text}).context["form"].errors["text"]

    assert api_errors == page_errors


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", None),
        ("", None),
        (b"\xff\xfe", None),
        ("[1, 2]", None),
        ('"text"', None),
        ({}, "text"),
        ({"text": None}, "text"),
        ({"text": 42}, "text"),
        ({"text": ["a"]}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "ok", "author": "bob"}, "author"),
    ],
)
def test_bad_bodies_get_400_with_a_message_and_save_nothing(alice_client, body, field, post_json):
    response = post_json(alice_client, COLLECTION, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    payload = response.json()
    assert payload["error"]
    if field:
        assert payload["fields"][field]
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "x"},
        {"page": "99"},
        {"page_size": "0"},
        {"page_size": "101"},
        {"page_size": "1.5"},
        {"q": "x" * 201},
    ],
)
def test_bad_query_parameters_get_400(alice_client, params):
    response = alice_client.get(COLLECTION, params)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]


def test_another_users_message_is_404_on_read_and_delete(alice_client, other_user):
    theirs = message_create(author=other_user, text="bob only")

    assert alice_client.get(detail(theirs.pk)).status_code == HTTPStatus.NOT_FOUND
    assert alice_client.delete(detail(theirs.pk)).status_code == HTTPStatus.NOT_FOUND
    assert alice_client.get(COLLECTION, {"q": "bob"}).json()["count"] == 0
    assert Message.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("page", ["9223372036854775807", "9223372036854775808", "1000001", str(10**30)])
def test_a_page_number_past_any_page_is_a_400_not_a_database_overflow(alice_client, user, page):
    message_create(author=user, text="one")

    for params in ({"page": page}, {"page": page, "q": "one"}):
        response = alice_client.get(COLLECTION, params)

        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["fields"]["page"]


def test_empty_query_parameters_mean_the_defaults(alice_client, user):
    message_create(author=user, text="one")

    body = alice_client.get(COLLECTION, {"q": "", "page": "", "page_size": ""}).json()

    assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)


# Property-based: whatever arrives, never a 500 and never a half-saved record.

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
@given(pk=st.integers(min_value=-(10**20), max_value=10**20))
def test_any_message_id_answers_404_never_500(alice_client, pk):
    response = alice_client.get(f"/api/messages/{pk}")

    assert response.status_code == HTTPStatus.NOT_FOUND
