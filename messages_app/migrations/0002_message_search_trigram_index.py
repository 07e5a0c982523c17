"""A trigram index for search on PostgreSQL: case-insensitive, any-order, every-word matching.

Search filters ``search_text LIKE '%word%'`` once per word (search_text is case-folded), and a
GIN index with pg_trgm's operator class serves LIKE with leading wildcards, for Korean as
well as English (the database's LC_CTYPE must be a UTF-8 locale, as C.UTF-8 is). pg_trgm is a
trusted extension: the database owner may create it; on Azure Database for PostgreSQL allow
it first (server parameter azure.extensions). SQLite has no such index and scans instead.
"""

from django.db import migrations

INDEX = "message_search_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON messages_app_message USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("messages_app", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
