from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the service: migrations under a lock, housekeeping commands."""

    name = "operations"
