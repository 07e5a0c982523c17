from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogsAppConfig(AppConfig):
    name = "logs_app"
    verbose_name = _("Recent activity")

    def ready(self) -> None:
        # Connects the receivers: completed requests become activity, deleted users lose their list.
        from logs_app import signals  # noqa: F401
