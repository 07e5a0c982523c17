"""The accounts' own metric. The API hands out a proxy until the SDK starts, so it is made at import."""

from opentelemetry import metrics

from core import __version__

_meter = metrics.get_meter("jiwoo.accounts", __version__)

logins = _meter.create_counter(
    "jiwoo.logins", unit="{login}", description="Log-in attempts, by outcome (success, failure)."
)
