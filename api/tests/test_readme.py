"""The README's table of operations is the one the OpenAPI document makes."""

from api.readme import README, operations_table, readme_table


def test_the_readme_table_is_the_one_the_schema_makes(schema):
    """Regenerate with `DJANGO_SETTINGS_MODULE=jiwoo.test_settings python -m api.readme`."""
    assert readme_table(README.read_text(encoding="utf-8")) == operations_table(schema)
