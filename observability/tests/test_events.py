"""emit(): one log line with the event, the span's jiwoo.event attribute and the request's event."""

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.context import RequestStory, current_story, story_bound
from observability.events import emit


@pytest.fixture
def spans():
    """A tracer of the test's own, whose finished spans are kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def event_lines(caplog) -> list:
    return [r for r in caplog.records if r.name == "jiwoo.events"]


def test_one_line_with_the_event_and_its_fields(log):
    emit("message.create", "message saved", message_id=7, length=5)

    (line,) = event_lines(log)
    assert (line.levelname, line.getMessage(), line.event) == ("INFO", "message saved", "message.create")
    assert (line.message_id, line.length) == (7, 5)


def test_the_span_gets_the_event_as_jiwoo_event(spans):
    tracer, exporter = spans

    with tracer.start_as_current_span("server"):
        emit("message.create", "message saved")

    (span,) = exporter.get_finished_spans()
    assert span.attributes["jiwoo.event"] == "message.create"


def test_the_requests_story_gets_the_event_and_the_last_one_wins(spans, log):
    tracer, exporter = spans
    story = RequestStory(request_id="r1", client_ip="127.0.0.1")

    with story_bound(story), tracer.start_as_current_span("server"):
        emit("user.login", "user logged in")
        emit("user.signup", "user signed up")

    assert story.event == "user.signup"
    (span,) = exporter.get_finished_spans()
    assert span.attributes["jiwoo.event"] == "user.signup"
    assert [line.event for line in event_lines(log)] == ["user.login", "user.signup"]


def test_outside_a_request_it_is_only_the_line(log):
    assert current_story() is None

    emit("page.view", "viewed")

    assert [line.event for line in event_lines(log)] == ["page.view"]
