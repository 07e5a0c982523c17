"""Shared plumbing that every layer may use and that imports none of them (docs/ARCHITECTURE.md)."""

# The app's version: service.version of its telemetry and the chart's appVersion.
__version__ = "0.1.0"
