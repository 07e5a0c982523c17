import os
import subprocess
import sys

import pytest

from core.environment import service_name
from observability import telemetry


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "jiwoo"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "team=a,service.name=from-attributes"}, "from-attributes"),
        ({"OTEL_SERVICE_NAME": "from-name", "OTEL_RESOURCE_ATTRIBUTES": "service.name=other"}, "from-name"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=with%20space"}, "with space"),
    ],
)
def test_service_name_follows_the_specification(monkeypatch, env, expected):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert service_name() == expected


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
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert telemetry._exporter_wanted("TRACES") is wanted


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
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = telemetry.otlp_exporter("TRACES")
    # The library's own HTTP exporter: encoding, limits, retries and self-metrics as it does them.
    assert type(exporter) is OTLPSpanExporter
    assert exporter._endpoint == "http://127.0.0.1:4318/v1/traces"
    assert type(telemetry.otlp_exporter("METRICS")).__module__.startswith("opentelemetry.exporter.otlp.proto.http")


def test_disabled_sdk_starts_nothing(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")

    assert telemetry.setup() is False
    assert telemetry._providers == []


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
from opentelemetry import trace

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
