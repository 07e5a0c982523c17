"""WSGI entry point: telemetry first (it adds Django's tracing middleware), then Django."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiwoo.settings")

from django.core.wsgi import get_wsgi_application

from observability import telemetry
from observability.probes import HealthCheckApp

telemetry.setup()
application = HealthCheckApp(get_wsgi_application())
