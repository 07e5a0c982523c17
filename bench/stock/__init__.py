"""The benchmark's `stock` variant: jiwoo under OpenTelemetry's zero-code instrumentation."""
