"""Drop the bigram index of migration 0003, on PostgreSQL.

A condition on ``jiwoo_bigrams(search_text)`` is cheap only while PostgreSQL answers it from
the index. For a common pair of letters it chose to walk the author's messages in date order
and compute the function for each one instead (~60 µs a message): at 200,000 messages
``q=el`` took 4-6 s, and a search of many short words ran into the worker timeout. A plain
LIKE over the same messages takes 0.25 s, and a rare two-character word 0.09 s instead of
0.02 s with the index: a search's worst case matters more than its best. Without the index a
message is also saved without computing its bigrams.
"""

from importlib import import_module

from django.db import migrations

bigram_migration = import_module("messages_app.migrations.0003_message_search_bigram_index")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS message_search_bigram_idx")
        schema_editor.execute("DROP FUNCTION IF EXISTS jiwoo_bigrams(text)")


def recreate_index(apps, schema_editor):
    bigram_migration.create_index(apps, schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX {bigram_migration.INDEX} SET (fastupdate = off)")


class Migration(migrations.Migration):
    dependencies = [("messages_app", "0004_search_indexes_without_pending_list")]

    operations = [migrations.RunPython(drop_index, recreate_index, elidable=False)]
