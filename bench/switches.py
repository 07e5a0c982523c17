"""Parts of observability switched on and off inside one running process, for `bench.inprocess --abba`.

On this noisy machine, separate processes measured minutes apart differ by more than a part
costs; blocks of requests a few hundred milliseconds apart in one process do not. Each switch
uses the libraries' public API: an instrumentor's ``instrument()`` and ``uninstrument()``, a
second Django handler built without the instrumentation's middleware, jiwoo's own settings
set on ``django.conf.settings``. Database connections are closed at every
switch (a psycopg connection keeps the cursor factory it was opened with), and the block's
first requests are not measured, so reconnecting counts in neither state.
"""

from collections.abc import Callable

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class SwitchedExporter(SpanExporter):
    """Exports through one of several exporters, chosen while the process runs."""

    def __init__(self, exporters: dict[str, SpanExporter], chosen: str) -> None:
        self.exporters = exporters
        self.chosen = self.default = chosen

    def export(self, spans) -> SpanExportResult:
        exporter = self.exporters[self.chosen]
        return SpanExportResult.SUCCESS if exporter is None else exporter.export(spans)

    def shutdown(self) -> None:
        for exporter in self.exporters.values():
            if exporter is not None:
                exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class Switch:
    """One part: how to turn it on and off; ``on`` is the state the app normally runs in."""

    def __init__(self, on: Callable[[], None], off: Callable[[], None]) -> None:
        self.on, self.off = on, off


def instrumentor_switch(instrumentor, **options) -> Switch:
    def on() -> None:
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**options)

    def off() -> None:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()

    return Switch(on, off)


def setting_switch(name: str) -> Switch:
    """A boolean setting of jiwoo's, True when on; the code reads it at every request."""
    from django.conf import settings

    return Switch(lambda: setattr(settings, name, True), lambda: setattr(settings, name, False))


def exporter_switch(exporter: SwitchedExporter, on: str, off: str) -> Switch:
    def choose(name: str) -> None:
        exporter.chosen = name

    return Switch(lambda: choose(on), lambda: choose(off))


class Handlers:
    """The WSGI application with and without the Django instrumentation's middleware."""

    def __init__(self, instrumented) -> None:
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import override_settings

        from observability.probes import HealthCheckApp

        plain = [name for name in settings.MIDDLEWARE if not name.startswith("opentelemetry.")]
        with override_settings(MIDDLEWARE=plain):
            # Django builds its middleware chain from settings.MIDDLEWARE once, here.
            self.plain = HealthCheckApp(WSGIHandler())
        self.instrumented = instrumented
        self.current = instrumented

    def switch(self) -> Switch:
        def choose(app) -> None:
            self.current = app

        return Switch(lambda: choose(self.instrumented), lambda: choose(self.plain))


class ExecuteWrapperSpans:
    """A prototype, measured and not kept (docs/BENCHMARKS.md, "Eleventh pass"): SQL spans made in
    Django's public ``connection.execute_wrapper`` with the psycopg instrumentation's names and
    attributes, around each request of the app it wraps."""

    def __init__(self, app) -> None:
        from opentelemetry import trace

        self.app = app
        self.tracer = trace.get_tracer("jiwoo.sql")

    def __call__(self, environ, start_response):
        from django.db import connection

        with connection.execute_wrapper(self.traced):
            return self.app(environ, start_response)

    def traced(self, execute, sql, params, many, context):
        from opentelemetry.trace import SpanKind

        database = context["connection"].settings_dict
        attributes = {
            "db.system": "postgresql",
            "db.name": database["NAME"],
            "db.statement": sql,
            "db.user": database["USER"],
            "server.address": database["HOST"],
            "server.port": int(database["PORT"] or 5432),
        }
        name = sql.split(None, 1)[0] if sql else "postgresql"
        with self.tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
            return execute(sql, params, many, context)


def execute_wrapper_switch(handlers: Handlers, psycopg: Switch) -> Switch:
    """On: the psycopg instrumentation's SQL spans; off: the same spans from Django's execute wrapper."""
    wrapped = ExecuteWrapperSpans(handlers.instrumented)

    def on() -> None:
        psycopg.on()
        handlers.current = handlers.instrumented

    def off() -> None:
        psycopg.off()
        handlers.current = wrapped

    return Switch(on, off)


def django_options_switch(off_options: dict) -> Switch:
    """The Django instrumentation as jiwoo instruments it (on), or with ``off_options`` instead.

    Its middleware reads the tracer, meter and exclusions from its class at every request, so
    instrumenting again changes the handlers already built.
    """
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    from observability.telemetry import EXCLUDED_URLS

    instrumentor = DjangoInstrumentor()

    def instrument(options: dict) -> None:
        instrumentor.uninstrument()
        instrumentor.instrument(**{"excluded_urls": EXCLUDED_URLS, **options})

    return Switch(lambda: instrument({}), lambda: instrument(off_options))


def metrics_views_provider():
    """A meter provider like jiwoo's that drops http.server.active_requests (an up-down counter
    the instrumentation adds to twice a request) and keeps http.server.request.duration."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.metrics.view import DropAggregation, View

    from observability.telemetry import build_resource, otlp_exporter

    return MeterProvider(
        resource=build_resource(),
        # A reader as jiwoo's has: without one, the SDK would aggregate nothing at all.
        metric_readers=[PeriodicExportingMetricReader(otlp_exporter("METRICS"))],
        views=[View(instrument_name="http.server.active_requests", aggregation=DropAggregation())],
        shutdown_on_exit=False,
    )


def _no_hook(span, request, response=None) -> None:
    pass


def switch_for(name: str, handlers: Handlers, exporter: SwitchedExporter) -> Switch:
    """The part called ``name``; ``all`` is every part of observability at once (not the candidates)."""
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.metrics import NoOpMeterProvider

    parts = {
        "django": handlers.switch,
        "psycopg": lambda: instrumentor_switch(PsycopgInstrumentor(), skip_dep_check=True),
        "redis": lambda: instrumentor_switch(RedisInstrumentor()),
        "export": lambda: exporter_switch(exporter, exporter.default, "none"),
        "log": lambda: setting_switch("REQUEST_LOG_ENABLED"),
        "activity": lambda: setting_switch("RECENT_ACTIVITY_ENABLED"),
        # Candidates. On: the library's exporter; off: jiwoo's (observability/otlp_http.py), so
        # what it "adds" is what the library's costs beyond jiwoo's.
        "exporter": lambda: exporter_switch(exporter, "library", "jiwoo"),
        "sqlwrap": lambda: execute_wrapper_switch(handlers, switch_for("psycopg", handlers, exporter)),
        # The Django instrumentation's knobs: its metrics off (meter_provider), only its
        # active-requests counter off (a view), and no exclusions (every static file a span).
        "djmetrics": lambda: django_options_switch({"meter_provider": NoOpMeterProvider()}),
        "djactive": lambda: django_options_switch({"meter_provider": metrics_views_provider()}),
        "djexcluded": lambda: django_options_switch({"excluded_urls": ""}),
        # Hooks that do nothing: what the hooks themselves cost (on: none, "added" is minus that).
        "djhooks": lambda: django_options_switch({"request_hook": _no_hook, "response_hook": _no_hook}),
    }
    if name != "all":
        return parts[name]()
    everything = [parts[part]() for part in ("django", "psycopg", "redis", "log", "activity")]
    return Switch(lambda: [part.on() for part in everything], lambda: [part.off() for part in everything])
