from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogsAppConfig(AppConfig):
    name = "logs_app"
    verbose_name = _("Recent activity")
