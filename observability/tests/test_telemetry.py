"""The SDK in each process: resource, exporters, instrumentations, flushing, dropped telemetry counted once."""

import logging
import os
import subprocess
import sys

import pytest
from opentelemetry import metrics, trace

from observability import telemetry
from observability.telemetry import DroppedTelemetryFilter


def test_resource_carries_the_attributes_and_lets_the_environment_override(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "svc")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging,k8s.pod.name=pod-1")
    monkeypatch.setenv("DEPLOYMENT_ENVIRONMENT", "production")

    attributes = telemetry.build_resource().attributes

    assert attributes["service.name"] == "svc"
    assert attributes["service.version"] == telemetry.__version__
    assert attributes["service.instance.id"]
    assert attributes["deployment.environment.name"] == "staging"
    assert attributes["k8s.pod.name"] == "pod-1"


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_traces_are_exported_only_to_a_configured_endpoint(monkeypatch, env, wanted):
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert telemetry.traces_exported() is wanted


@pytest.mark.parametrize(
    ("env", "exported"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_traces_exported_follows_the_otel_variables(monkeypatch, env, exported):
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert telemetry.traces_exported() is exported


def test_grpc_protocol_picks_the_grpc_exporter(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")

    exporter = telemetry.otlp_exporter("TRACES")
    try:
        assert type(exporter).__module__.startswith("opentelemetry.exporter.otlp.proto.grpc")
    finally:
        exporter.shutdown()


def test_http_protobuf_is_the_default(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTLP_SPAN_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")

    from observability.otlp_http import OtlpHttpSpanExporter

    exporter = telemetry.otlp_exporter("TRACES")
    # Spans through jiwoo's exporter (the library's encoding, observability/tests/test_otlp_http.py);
    # metrics through the library's own.
    assert type(exporter) is OtlpHttpSpanExporter
    assert exporter.endpoint == "http://127.0.0.1:4318/v1/traces"
    assert type(telemetry.otlp_exporter("METRICS")).__module__.startswith("opentelemetry.exporter.otlp.proto.http")


def test_disabled_sdk_starts_nothing(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")

    tracer_provider, meter_provider = trace.get_tracer_provider(), metrics.get_meter_provider()

    assert telemetry.setup() is False
    assert trace.get_tracer_provider() is tracer_provider
    assert metrics.get_meter_provider() is meter_provider


def test_log_export_is_off_by_default(monkeypatch):
    monkeypatch.delenv("OTEL_LOGS_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")

    assert telemetry.log_export_enabled() is False
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "otlp")
    assert telemetry.log_export_enabled() is True


INSTRUMENTED = """
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry import metrics, trace

from core.environment import service_name
from observability import telemetry

telemetry.setup()
instrumentors = {"django": DjangoInstrumentor, "psycopg": PsycopgInstrumentor, "redis": RedisInstrumentor,
                 "sqlite3": SQLite3Instrumentor}
print(sorted(name for name, cls in instrumentors.items() if cls().is_instrumented_by_opentelemetry))
print(telemetry.spans_ended())
with trace.get_tracer("test").start_as_current_span("one"):
    pass
print(telemetry.spans_ended())
"""


@pytest.mark.parametrize(
    ("disabled", "instrumented"),
    [
        ("", ["django", "psycopg", "redis", "sqlite3"]),
        ("redis, psycopg", ["django", "sqlite3"]),
        ("django", ["psycopg", "redis", "sqlite3"]),
        ("*", []),
        ("psycopg2, django", ["psycopg", "redis", "sqlite3"]),
    ],
)
def test_the_standard_variable_leaves_instrumentations_out(disabled, instrumented):
    # A fresh interpreter: instrumenting patches libraries for the life of the process.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jiwoo.settings",
        "OTEL_SDK_DISABLED": "false",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": disabled,
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    result = subprocess.run(
        [sys.executable, "-c", INSTRUMENTED], env=env, capture_output=True, text=True, timeout=120, check=True
    )

    *_, names, spans_before, spans_after = result.stdout.strip().splitlines()
    assert names == repr(instrumented)
    assert (int(spans_before), int(spans_after)) == (0, 1)


class Provider:
    def __init__(self, answer):
        self.answer = answer
        self.flushed = False

    def force_flush(self):
        self.flushed = True
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("answers", "expected"),
    [([True, True], True), ([False, True, True], False), ([Exception("reader failed"), True], False)],
)
def test_force_flush_flushes_every_provider_whatever_one_answers(monkeypatch, answers, expected):
    providers = [Provider(answer) for answer in answers]
    monkeypatch.setattr(telemetry, "_providers", providers)

    assert telemetry.force_flush() is expected
    assert all(provider.flushed for provider in providers)


def test_dropped_telemetry_is_counted_not_repeated():
    dropped = DroppedTelemetryFilter(interval_seconds=60)

    def warn():
        record = logging.LogRecord(
            "opentelemetry", logging.WARNING, __file__, 1, "Queue full, dropping %s.", ("Span",), None
        )
        return dropped.filter(record), record

    first_passed, first = warn()
    later = [warn()[0] for _ in range(50)]

    assert first_passed
    assert first.getMessage().startswith("1 span(s) dropped")
    assert first.event == "telemetry.dropped"
    assert not any(later)
    dropped.interval_seconds = 0
    passed, summary = warn()
    assert passed
    assert summary.dropped == 51
