"""A bigram index for search words of two characters, on PostgreSQL.

Trigrams cannot serve a two-character word (서연, 회의: many Korean words are two
syllables), so such a word would scan all of the author's messages. ``jiwoo_bigrams``
lists every two-character piece of every word of the case-folded text; a GIN index on it
answers ``jiwoo_bigrams(search_text) @> ARRAY['서연']`` exactly: a word without spaces
occurs in the text if and only if it is one of those pieces. SQLite scans as before.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION jiwoo_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(word, position, 2)), '{}')
    FROM regexp_split_to_table(value, '\s+') AS word,
         generate_series(1, char_length(word) - 1) AS position
$$
"""
INDEX = "message_search_bigram_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON messages_app_message USING gin (jiwoo_bigrams(search_text))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        schema_editor.execute("DROP FUNCTION IF EXISTS jiwoo_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("messages_app", "0002_message_search_trigram_index")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
