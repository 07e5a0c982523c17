"""One account per username in any case: the sign-up form checks it, and this index holds it
when two sign-ups ("alice", "Alice") arrive at the same moment (accounts/views.py)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL(
            "CREATE UNIQUE INDEX accounts_username_any_case_uniq ON auth_user (lower(username))",
            reverse_sql="DROP INDEX accounts_username_any_case_uniq",
        )
    ]
