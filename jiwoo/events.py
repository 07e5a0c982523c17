"""User actions as events: one log record, the request span's attribute, the activity entry."""

import logging

from opentelemetry import trace

logger = logging.getLogger("jiwoo.events")


def emit(request, name: str, message: str, **fields) -> None:
    """Record that the request was the user action ``name`` (e.g. ``message.create``).

    ``fields`` go into the log record; never put a secret or free text a user typed in them.
    """
    if request is not None:
        request.event_name = name
    trace.get_current_span().set_attribute("jiwoo.event", name)
    logger.info(message, extra={"event": name, **fields})
