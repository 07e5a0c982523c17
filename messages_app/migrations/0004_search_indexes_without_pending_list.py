"""Search indexes without a pending list, on PostgreSQL.

By default a GIN index takes new entries into a pending list (up to 4 MB) and merges them
later; every search reads the whole list first. On the benchmark a pending list of ~18,000
new messages made a rare word's search 26 ms instead of 11 ms. With ``fastupdate = off`` a
message's entries go into the index as it is saved (about 0.2 ms more per INSERT here), so a
search costs the same however many messages were saved since the last VACUUM.
``seed_demo`` switches it back on for the length of a bulk load.
"""

from django.db import migrations

INDEXES = ("message_search_trgm_idx", "message_search_bigram_idx")


def without_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # What already waits in the list goes into the index now.
        schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def with_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("messages_app", "0003_message_search_bigram_index")]

    operations = [migrations.RunPython(without_pending_list, with_pending_list, elidable=False)]
