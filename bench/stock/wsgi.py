"""jiwoo's WSGI application without jiwoo's own telemetry set-up, for the `stock` peer."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiwoo.settings")

from django.core.wsgi import get_wsgi_application

from observability.probes import HealthCheckApp

application = HealthCheckApp(get_wsgi_application())
