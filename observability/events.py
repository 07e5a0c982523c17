"""User actions and notable events: one log line, the request span's attribute, the request's story."""

import logging

from opentelemetry import trace

from observability.context import record_event

logger = logging.getLogger("jiwoo.events")


def emit(name: str, message: str, **fields) -> None:
    """Record that the request being handled was the user action ``name`` (e.g. ``message.create``).

    The name becomes the ``event`` of this log line, the request span's ``jiwoo.event``
    attribute and the ``event`` of the request's activity entry. ``fields`` go into the log
    line; never put a secret or free text a user typed in them.
    """
    record_event(name)
    trace.get_current_span().set_attribute("jiwoo.event", name)
    logger.info(message, extra={"event": name, **fields})
