"""The migrations' search indexes: on PostgreSQL pg_trgm serves words of 3+ characters, with no pending list."""

import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from messages_app.selectors import message_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    if connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the tests against PostgreSQL (DATABASE_URL)")
        pytest.skip("the trigram index exists on PostgreSQL only")
    call_command(
        "seed_demo", users=10, messages=40_000, primary="searcher", primary_messages=2000, stdout=io.StringIO()
    )
    return get_user_model().objects.get(username="searcher")


@pytest.mark.parametrize("query", ["김민준", "ticket-0042", "이서연 커피", "coffee TICKET-12"])
def test_search_uses_the_trigram_index(seeded, query):
    plan = message_list(author=seeded, query=query).explain()

    assert "message_search_trgm_idx" in plan, plan


@pytest.mark.parametrize("query", ["서연", "지우 회의", "e el"])
def test_short_words_are_a_plain_filter_with_no_function_per_message(seeded, query):
    # Migration 0005: a condition on jiwoo_bigrams() was computed for every message of the
    # author when the pair was common (4-6 s at 200,000 messages); LIKE is cheap per message.
    plan = message_list(author=seeded, query=query).explain()

    assert "jiwoo_bigrams" not in plan, plan
    assert "bigram" not in plan, plan


def test_indexed_search_finds_what_a_scan_finds(seeded):
    total = 0
    for query in ("김민준", "서연", "서연 커피", "이서연 커피", "Coffee ticket-1", "지우 회의", "☕ 서울"):
        found = {m.pk for m in message_list(author=seeded, query=query)}
        words = query.casefold().split()
        expected = {m.pk for m in seeded.messages.all() if all(word in m.text.casefold() for word in words)}
        assert found == expected, query
        total += len(found)
    assert total > 0


def test_search_indexes_keep_no_pending_list_even_after_a_bulk_load(seeded):
    # A pending list is read in full by every search (migration 0004); seed_demo turns it on
    # for its load and must leave it off again, with nothing left waiting.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'messages_app_message'::regclass AND a.amname = 'gin'"
        )
        options = dict(cursor.fetchall())
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        cursor.execute("SELECT pending_tuples FROM pgstatginindex('message_search_trgm_idx')")
        pending = cursor.fetchone()[0]
    assert set(options) == {"message_search_trgm_idx"}, options  # the bigram index went in 0005
    assert all(opts == ["fastupdate=off"] for opts in options.values()), options
    assert pending == 0
