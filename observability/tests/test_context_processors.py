"""Every page's trace context: the trace id, and the server span as traceparent only when spans are exported."""

import re

import pytest
from opentelemetry.sdk.trace import TracerProvider

from observability import context_processors

pytestmark = pytest.mark.django_db

TRACEPARENT = re.compile(r'<meta name="traceparent" content="00-([0-9a-f]{32})-([0-9a-f]{16})-01">')


def test_traceparent_is_the_active_span_when_exported(monkeypatch, rf):
    monkeypatch.setattr(context_processors, "traces_exported", lambda: True)
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("server") as span:
        values = context_processors.trace(rf.get("/"))
        ids = span.get_span_context()

    assert values["traceparent"] == f"00-{ids.trace_id:032x}-{ids.span_id:016x}-01"
    assert values["trace_id"] == f"{ids.trace_id:032x}"


def test_no_traceparent_when_not_exported(monkeypatch, rf):
    monkeypatch.setattr(context_processors, "traces_exported", lambda: False)
    tracer = TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("server"):
        values = context_processors.trace(rf.get("/"))

    assert values["traceparent"] == ""
    assert values["trace_id"]


def test_pages_render_the_server_span_and_the_bundle_only_with_export(monkeypatch, client):
    monkeypatch.setattr(context_processors, "traces_exported", lambda: True)
    # The request's server span (or, without the instrumentation, this span) is in this trace.
    with TracerProvider().get_tracer("test").start_as_current_span("caller") as caller:
        html = client.get("/accounts/login/").content.decode()
    monkeypatch.setattr(context_processors, "traces_exported", lambda: False)
    quiet = client.get("/accounts/login/").content.decode()

    trace_id, _ = TRACEPARENT.search(html).groups()
    assert trace_id == f"{caller.get_span_context().trace_id:032x}"
    assert '<script src="/static/js/rum.min.js" defer></script>' in html
    assert 'name="traceparent"' not in quiet
    assert "rum.min.js" not in quiet
    assert "events.js" not in html + quiet
