from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the service: migrations under a PostgreSQL advisory lock (``migrate_locked``)."""

    name = "operations"
