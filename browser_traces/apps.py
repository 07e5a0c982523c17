from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrowserTracesConfig(AppConfig):
    name = "browser_traces"
    verbose_name = _("Browser telemetry")
