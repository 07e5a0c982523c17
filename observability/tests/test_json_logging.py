"""The JSON log line: the fields docs/ARCHITECTURE.md lists, on one line, whatever the input."""

import io
import json
import logging
import random
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider

from observability.context import RequestStory, story_bound
from observability.json_logging import ContextFilter, JsonFormatter, format_timestamp, logging_config


@pytest.fixture
def emit():
    """Log through a handler configured as production configures it; return the parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter(service_name="jiwoo-test"))
    logger = logging.getLogger("jiwoo.test.emit")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)

    def log(*args, **kwargs) -> dict:
        stream.seek(0)
        stream.truncate()
        logger.info(*args, **kwargs)
        lines = stream.getvalue().rstrip("\n").split("\n")  # a line ends at \n only, as shippers read it
        assert len(lines) == 1, lines
        return json.loads(lines[0])

    yield log, logger, stream
    logger.removeHandler(handler)


def test_fields_outside_a_span(emit):
    log, _, _ = emit
    line = log("hello %s", "world", extra={"event": "page.view"})

    assert line["message"] == "hello world"
    assert line["level"] == "INFO"
    assert line["logger"] == "jiwoo.test.emit"
    assert line["service_name"] == "jiwoo-test"
    assert line["event"] == "page.view"
    assert len(line["timestamp"]) == 24
    assert line["timestamp"].endswith("Z")
    assert "trace_id" not in line
    assert "span_id" not in line


def test_trace_context_of_the_active_span(emit):
    log, _, _ = emit
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        line = log("inside")
        context = span.get_span_context()

    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_request_context_is_added(emit):
    log, _, _ = emit
    with story_bound(RequestStory(request_id="abc", client_ip="10.0.0.1", user="alice")):
        line = log("in a request")

    assert (line["user"], line["request_id"], line["client_ip"]) == ("alice", "abc", "10.0.0.1")


def test_exceptions_become_three_fields(emit):
    _, logger, stream = emit
    try:
        raise ValueError("bad value")
    except ValueError:
        logger.exception("it failed")

    line = json.loads(stream.getvalue())
    assert line["exc_type"] == "ValueError"
    assert line["exc_message"] == "bad value"
    assert "Traceback" in line["stack"]
    assert "exc_info" not in line


@pytest.mark.parametrize(
    "hostile",
    ["line one\nline two", '"}, {"level": "CRITICAL', '\r\n{"forged": true}\n', "\u2028\u0000탈출"],
)
def test_hostile_input_stays_inside_one_json_string(emit, hostile):
    log, _, _ = emit
    line = log("user said %s", hostile, extra={"username_tried": hostile})

    assert line["message"] == f"user said {hostile}"
    assert line["username_tried"] == hostile
    assert "forged" not in line
    assert line["level"] == "INFO"


def test_logging_config_sends_everything_to_one_json_handler():
    """One JSON handler for every record; the trace view's handler only keeps a request's warnings."""
    config = logging_config(level="INFO", service_name="svc")

    assert config["root"]["handlers"] == ["stdout", "trace_view"]
    assert config["handlers"]["trace_view"]["level"] == "WARNING"
    assert config["loggers"]["gunicorn.access"]["level"] == "CRITICAL"
    for name in ("django", "django.server", "gunicorn.error"):
        assert config["loggers"][name]["handlers"] == []


def datetime_timestamp(created: float) -> str:
    """The oracle: the standard library's datetime, formatted and cut to milliseconds."""
    return datetime.fromtimestamp(created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.mark.parametrize(
    "created",
    [
        0.0,
        1764171563.123,
        1764171563.9999996,  # rounds up into the next second
        1764171563.0004999,
        1764171563.9995,
        1796686526.9059994,  # where rounding the whole value instead of its fraction differs
        -1.5,
        4102444799.9999999,
    ],
)
def test_timestamps_are_what_datetime_makes_of_them(created):
    assert format_timestamp(created) == datetime_timestamp(created)


def test_timestamps_of_many_times_within_and_across_seconds():
    generator = random.Random(29)
    times = [1764171563 + generator.random() * 3 for _ in range(20_000)]
    times += [generator.uniform(0, 4e9) for _ in range(20_000)]

    assert [format_timestamp(value) for value in times] == [datetime_timestamp(value) for value in times]
