"""Reads: a user's own messages, newest first, a page in one query, and a search as the event message.search."""

import pytest
from django.core.paginator import EmptyPage
from django.http import Http404

from messages_app.selectors import message_get, message_list, message_page
from messages_app.services import message_create

pytestmark = pytest.mark.django_db


def searches(caplog) -> list:
    return [r for r in caplog.records if getattr(r, "event", None) == "message.search"]


def test_list_is_newest_first_and_only_the_authors(user, other_user, corpus):
    texts = [m.text for m in message_list(author=user)]

    assert texts == list(reversed(corpus))
    assert "Hello world from bob" not in texts


def test_a_search_page_counts_its_matches_in_the_same_query(user, django_assert_num_queries):
    for number in range(45):
        message_create(author=user, text=f"needle {number}" if number % 3 == 0 else f"hay {number}")

    with django_assert_num_queries(1):
        page = message_page(author=user, query="NEEDLE", number=2, size=10)
        assert page.paginator.count == 15
        assert page.paginator.num_pages == 2
        assert [m.text for m in page] == [f"needle {n}" for n in (12, 9, 6, 3, 0)]


@pytest.mark.parametrize("query", ["", "needle"])
def test_a_page_is_fetched_without_joining_its_author(user, query, django_assert_num_queries):
    for number in range(25):
        message_create(author=user, text=f"needle {number}")

    with django_assert_num_queries(1 if query else 2) as queries:  # without a search, a COUNT too
        page = message_page(author=user, query=query, number=2, size=10, last_past_end=True)
        authors = {message.author.get_username() for message in page}

    assert authors == {user.get_username()}
    assert [m.text for m in page] == [f"needle {n}" for n in range(14, 4, -1)]
    assert all("auth_user" not in statement["sql"] for statement in queries.captured_queries)


def test_a_search_page_past_the_end_is_empty_page(user):
    message_create(author=user, text="needle")
    with pytest.raises(EmptyPage):
        message_page(author=user, query="needle", number=2, size=10)
    assert message_page(author=user, query="nothing", number=1, size=10).paginator.count == 0


def test_another_authors_message_is_not_found(user, other_user):
    theirs = message_create(author=other_user, text="bob's")

    with pytest.raises(Http404):
        message_get(author=user, pk=theirs.pk)
    assert message_get(author=other_user, pk=theirs.pk) == theirs


def test_a_search_is_the_event_message_search_once(user, log):
    message_create(author=user, text="needle")
    message_create(author=user, text="hay")

    message_page(author=user, query="needle", number=1, size=10)

    (line,) = searches(log)
    assert (line.query_length, line.results) == (len("needle"), 1)


@pytest.mark.parametrize("query", ["", "   "])
def test_a_page_without_a_query_is_no_search(user, log, query):
    message_create(author=user, text="needle")

    message_page(author=user, query=query, number=1, size=10)

    assert searches(log) == []


def test_a_search_page_and_a_search_api_call_each_log_one_message_search(alice_client, log):
    alice_client.get("/messages/", {"q": "word"})
    from_the_page = searches(log)
    log.clear()
    alice_client.get("/api/messages", {"q": "word"})
    from_the_api = searches(log)

    assert len(from_the_page) == len(from_the_api) == 1
