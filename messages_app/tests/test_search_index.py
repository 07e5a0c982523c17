"""On PostgreSQL the search is served by the pg_trgm index, for Korean and English words alike."""

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


@pytest.mark.parametrize("query", ["서연", "지우 회의"])
def test_two_character_words_use_the_bigram_index(seeded, query):
    # Two characters have no trigram to look up; the bigram index answers them instead.
    plan = message_list(author=seeded, query=query).explain()

    assert "message_search_bigram_idx" in plan, plan


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
    assert set(options) == {"message_search_trgm_idx", "message_search_bigram_idx"}, options
    assert all(opts == ["fastupdate=off"] for opts in options.values()), options
    assert pending == 0
