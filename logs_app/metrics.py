"""Recent activity's own metric. The API hands out a proxy until the SDK starts, so it is made at import."""

from opentelemetry import metrics

from core import __version__

_meter = metrics.get_meter("jiwoo.recent_activity", __version__)

write_failures = _meter.create_counter(
    "jiwoo.recent_activity.write_failures",
    unit="{entry}",
    description="Recent-activity entries that could not be written to Redis.",
)
