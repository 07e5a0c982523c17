import json
from http import HTTPStatus

import pytest

from messages_app.models import Message
from messages_app.services import message_create

pytestmark = pytest.mark.django_db

COLLECTION = "/api/messages"


def detail(pk: int) -> str:
    return f"/api/messages/{pk}"


def post_json(client, url, body, **extra):
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, payload, content_type="application/json", **extra)


def test_create_returns_201_and_the_object(alice_client, user):
    response = post_json(alice_client, COLLECTION, {"text": "  from the API 🚀 "})

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["text"] == "from the API 🚀"
    assert body["author"] == user.username
    assert set(body) == {"id", "text", "author", "created_at"}
    assert Message.objects.get(pk=body["id"]).text == "from the API 🚀"


def test_saving_a_message_is_one_insert_once_the_quota_is_counted(user, django_assert_num_queries):
    # Every query is a span and a round trip on the busiest path: the author is already
    # loaded, so validation does not look it up again; the per-user cap is counted on the
    # first save only (the headroom left is kept in Redis), and one INSERT needs no transaction.
    with django_assert_num_queries(2) as first_save:
        message_create(author=user, text="the first")
    with django_assert_num_queries(1) as next_save:
        message_create(author=user, text="the next")

    assert [query["sql"].split()[0] for query in first_save.captured_queries] == ["SELECT", "INSERT"]
    assert next_save.captured_queries[0]["sql"].startswith("INSERT")


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
def test_the_api_trims_before_it_counts_as_the_page_does(alice_client, text, saved):
    response = post_json(alice_client, COLLECTION, {"text": text})
    page = alice_client.post("/messages/", {"text": text})

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["text"] == saved
    assert page.status_code == HTTPStatus.FOUND
    assert list(Message.objects.values_list("text", flat=True)) == [saved, saved]


@pytest.mark.parametrize("text", ["", "   ", "a" * 2001])
def test_the_api_refuses_a_text_with_the_pages_message(alice_client, text):
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
def test_bad_bodies_get_400_with_a_message_and_save_nothing(alice_client, body, field):
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


def test_anonymous_gets_401_json_never_a_redirect(client):
    for response in (
        client.get(COLLECTION),
        post_json(client, COLLECTION, {"text": "x"}),
        client.get(detail(1)),
        client.get("/api/logs/recent"),
    ):
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["error"]
    assert not Message.objects.exists()


def test_unsafe_methods_need_the_csrf_token(user, password, client):
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


def test_other_methods_get_405_with_allow(alice_client, user):
    message = message_create(author=user, text="x")

    response = alice_client.put(detail(message.pk), "{}", content_type="application/json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "DELETE, GET"
    assert response.json()["error"]
    assert alice_client.delete(COLLECTION).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_unknown_api_path_is_json_404(alice_client):
    response = alice_client.get("/api/nothing-here")

    assert response.status_code == HTTPStatus.NOT_FOUND
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


def test_an_unknown_query_parameter_is_a_400_naming_it(alice_client):
    response = alice_client.get(COLLECTION, {"pgae": "2"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["fields"] == {"pgae": ["Unknown field."]}


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


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_valid_json_under_another_media_type_is_a_415_and_saves_nothing(alice_client, content_type):
    response = alice_client.post(COLLECTION, '{"text": "hi"}', content_type=content_type)

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json() == {"error": "The request body must be JSON, sent with Content-Type: application/json."}
    assert not Message.objects.exists()


def test_json_with_a_charset_is_json(alice_client):
    response = alice_client.post(COLLECTION, '{"text": "hi"}', content_type="application/json; charset=utf-8")

    assert response.status_code == HTTPStatus.CREATED


def test_validation_errors_are_400_with_fields_not_ninjas_422(alice_client):
    response = post_json(alice_client, COLLECTION, {"text": ["a"], "author": "bob"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"error", "fields"}
    assert response.json()["fields"]["author"] == ["Unknown field."]
