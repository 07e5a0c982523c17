"""Django's PostgreSQL backend, with the connection health check kept out of traces.

With CONN_HEALTH_CHECKS, Django runs ``SELECT 1`` before the first query of a request to
find persistent connections that died. It is a probe, not the request's work: a span for it
in every trace is noise, and it costs as much as a real query's span.
"""

from django.db.backends.postgresql import base
from opentelemetry.instrumentation.utils import suppress_instrumentation


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        with suppress_instrumentation():
            return super().is_usable()
