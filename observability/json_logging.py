"""Logging for jiwoo: every record, from any logger, is one JSON object on one line of stdout.

``ContextFilter`` adds the service name, the active span's trace context and the story of the
request being handled (user, request id, client address); ``JsonFormatter`` writes the fields
of the log line (docs/ARCHITECTURE.md lists them and where each comes from). Settings and the
gunicorn config only call ``logging_config``.
"""

import logging
import math
import re
import time
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

from observability import telemetry
from observability.context import current_story

# LogRecord attributes that are not JSON and say nothing a field does not already say.
_DROPPED_ATTRS = ("request", "server_time")


def format_timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2026-11-26T15:39:23.123Z: what
    ``datetime.fromtimestamp(created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"`` gives.

    Every log line and activity entry has one, and most fall in the same second as the one
    before: the date and time of day are formatted once a second, only the milliseconds each time.
    """
    global _second
    # Microseconds rounded as datetime.fromtimestamp rounds them, then cut to milliseconds.
    fraction, seconds = math.modf(created)
    micros = round(fraction * 1_000_000)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    elif micros < 0:
        seconds, micros = seconds - 1, micros + 1_000_000
    cached = _second
    if cached[0] != seconds:
        cached = _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{cached[1]}.{micros // 1000:03d}Z"


# The last second formatted and its text, replaced whole (threads read one pair or the other).
_second: tuple[float, str] = (math.nan, "")


class ContextFilter(logging.Filter):
    """Adds service_name, trace_id/span_id and the bound request context to each record."""

    def __init__(self, service_name: str = "jiwoo") -> None:
        super().__init__()
        self.service_name = service_name

    def filter(self, record: logging.LogRecord) -> bool:
        # Values passed in `extra=` win: the browser-traces relay logs for another service.
        if not hasattr(record, "service_name"):
            record.service_name = self.service_name
        if not hasattr(record, "trace_id"):
            ids = telemetry.current_trace_ids()
            if ids is not None:
                record.trace_id, record.span_id = ids
        story = current_story()
        if story is not None:
            for key, value in story.log_fields().items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


class ClientErrorFilter(logging.Filter):
    """Django's reports of a bad request (``django.security.*``: a wrong Host, a body over the
    limit, too many fields) at WARNING, without a stack.

    Anyone can send such a request: each one an ERROR line with a 2 KB stack would let an
    anonymous client fill the logs and page whoever watches for errors. The exception's type
    and message stay; the request's ``http.request`` line says the rest.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security.") and record.levelno > logging.WARNING:
            if record.exc_info and record.exc_info[0] is not None:
                record.exc_type = record.exc_info[0].__name__
                record.exc_message = str(record.exc_info[1])
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class QueryStringFilter(logging.Filter):
    """gunicorn's lines that quote an address, without its query string: searches are never
    logged, and neither is anything else in an address. "Error handling request GET /path?query"
    (a worker timeout, a crash) has the address as an argument; "Invalid request from ip=...:
    Invalid HTTP request line: 'GET /path?query HTTP/1.1'" (a malformed request) in its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        if record.msg.startswith("Error handling request") and record.args:
            record.args = tuple(
                arg.split("?", 1)[0] + "?…" if isinstance(arg, str) and "?" in arg else arg for arg in record.args
            )
        elif record.msg.startswith("Invalid request from ip=") and "?" in record.msg:
            record.msg = _QUERY_IN_TEXT.sub("?…", record.msg)
        return True


# A query string inside a quoted request line: up to the next space or quote.
_QUERY_IN_TEXT = re.compile(r"\?[^\s'\"]*")


class JsonFormatter(OrjsonFormatter):
    """One JSON object per record with the log line's field names; exceptions as three fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reserved_attrs", None)
        super().__init__(*args, **kwargs)
        self.reserved_attrs.update(_DROPPED_ATTRS)
        self._skip_fields.update(_DROPPED_ATTRS)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["timestamp"] = format_timestamp(record.created)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        stack = message_dict.pop("exc_info", None)
        if record.exc_info and record.exc_info[0] is not None:
            log_data["exc_type"] = record.exc_info[0].__name__
            log_data["exc_message"] = str(record.exc_info[1])
        if stack:
            log_data["stack"] = stack
        stack_info = message_dict.pop("stack_info", None)
        if stack_info:
            log_data["stack"] = f"{stack}\n{stack_info}" if stack else stack_info
        super().add_fields(log_data, record, message_dict)


def logging_config(*, level: str = "INFO", service_name: str = "jiwoo") -> dict:
    """The dictConfig for Django (settings.LOGGING) and gunicorn (logconfig_dict) alike."""
    handlers = {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["context", "client_errors"],
        }
    }
    # A request's warnings, kept with its trace for the trace view (observability/trace_store.py);
    # nothing is kept while no trace store runs in the process.
    handlers["trace_view"] = {
        "class": "observability.trace_store.TraceLogHandler",
        "level": "WARNING",
        "filters": ["context", "client_errors"],
    }
    if telemetry.log_export_enabled():
        # Uses the logger provider that telemetry.setup() installs (a proxy until then).
        handlers["otlp"] = {"class": "opentelemetry.sdk._logs.LoggingHandler", "filters": ["context", "client_errors"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter, "service_name": service_name},
            "client_errors": {"()": ClientErrorFilter},
            "query_strings": {"()": QueryStringFilter},
            "dropped_telemetry": {"()": telemetry.DroppedTelemetryFilter},
        },
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": level},
        "loggers": {
            # The batch processors warn once per dropped item; say it once per interval instead.
            "opentelemetry.sdk._shared_internal": {"filters": ["dropped_telemetry"]},
            # Replace Django's own console handlers: everything goes through the root.
            "django": {"handlers": [], "level": level, "propagate": True},
            # Its 4xx warnings are written after the request's span has ended, so they carry no
            # trace context, and jiwoo's http.request record says the same; errors still show.
            "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
            "gunicorn.error": {"handlers": [], "level": level, "propagate": True, "filters": ["query_strings"]},
            # jiwoo's http.request record replaces the access log: it has the trace context.
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
