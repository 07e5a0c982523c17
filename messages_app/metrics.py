"""The messages' own metric. The API hands out a proxy until the SDK starts, so it is made at import."""

from opentelemetry import metrics

from core import __version__

_meter = metrics.get_meter("jiwoo.messages", __version__)

messages_created = _meter.create_counter(
    "jiwoo.messages.created", unit="{message}", description="Messages saved by users."
)
