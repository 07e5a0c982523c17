"""jiwoo.otlp_wire writes the same bytes as the official OTLP encoder, for any span the SDK makes."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as library_encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import TraceState

from jiwoo.otlp_wire import OTLPSpanExporter, encode_spans

keys = st.text(string.ascii_lowercase + "._", min_size=1, max_size=12)
scalars = st.one_of(
    st.text(max_size=40).filter(lambda text: not any(0xD800 <= ord(c) <= 0xDFFF for c in text)),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)
values = st.one_of(
    scalars,
    st.lists(st.text(max_size=8), max_size=3),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=3),
    st.lists(st.booleans(), max_size=3),
)
attribute_maps = st.dictionaries(keys, values, max_size=8)


def finished_spans(make) -> list:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "jiwoo-test", "n": 3}), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    make(provider)
    return list(exporter.get_finished_spans())


def assert_same_bytes(spans) -> None:
    ours = encode_spans(spans)
    assert ours == library_encode_spans(spans).SerializePartialToString()
    # And it parses as the request a collector receives.
    assert len(ExportTraceServiceRequest.FromString(ours).resource_spans[0].scope_spans[0].spans) >= 1


@settings(max_examples=150, deadline=None)
@given(
    attributes=attribute_maps,
    event_attributes=attribute_maps,
    name=st.text(max_size=30).filter(lambda text: not any(0xD800 <= ord(c) <= 0xDFFF for c in text)),
    kind=st.sampled_from(list(SpanKind)),
    status=st.sampled_from(
        [
            None,
            Status(StatusCode.OK),
            Status(StatusCode.ERROR, "boom"),
            Status(StatusCode.ERROR),
            Status(StatusCode.UNSET),
        ]
    ),
    remote_parent=st.booleans(),
    trace_state=st.booleans(),
)
def test_same_bytes_as_the_library(attributes, event_attributes, name, kind, status, remote_parent, trace_state):
    def make(provider):
        tracer = provider.get_tracer("jiwoo.tests", "1.0", schema_url="https://opentelemetry.io/schemas/1.26.0")
        other = provider.get_tracer("other.scope")
        parent = SpanContext(
            trace_id=0x0AF7651916CD43DD8448EB211C80319C,
            span_id=0xB7AD6B7169203331,
            is_remote=remote_parent,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
            trace_state=TraceState([("vendor", "value")]) if trace_state else TraceState(),
        )
        context = set_span_in_context(NonRecordingSpan(parent))
        with tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes) as span:
            span.add_event("something happened", event_attributes)
            if status is not None:
                span.set_status(status)
            with other.start_as_current_span("child", links=[Link(parent, {"why": "linked"})]):
                pass
        with tracer.start_as_current_span("a root of its own"):
            pass

    assert_same_bytes(finished_spans(make))


def test_spans_from_two_resources_and_many_scopes_are_grouped_like_the_library():
    spans = []
    for service in ("jiwoo", "jiwoo-other"):
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource({"service.name": service}), shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        for scope in ("a", "b", "a", "c"):
            with provider.get_tracer(scope).start_as_current_span(f"{service} {scope}", attributes={"n": 1}):
                pass
        spans += exporter.get_finished_spans()
    # Interleave, so grouping depends on the encoder, not on the input's order.
    spans = spans[::2] + spans[1::2]
    assert_same_bytes(spans)


def test_an_attribute_that_cannot_be_encoded_is_left_out_as_the_library_does(caplog):
    def make(provider):
        with provider.get_tracer("t").start_as_current_span("span") as span:
            # What no SDK path lets through; the encoder is safe anyway.
            span._attributes._dict["bad"] = object()
            span._attributes._dict["too.big"] = 2**64
            span.set_attribute("good", "kept")

    spans = finished_spans(make)
    decoded = ExportTraceServiceRequest.FromString(encode_spans(spans))
    attributes = decoded.resource_spans[0].scope_spans[0].spans[0].attributes
    assert [kv.key for kv in attributes] == ["good"]
    assert "Failed to encode key bad" in caplog.text
    assert_same_bytes(spans)


def test_the_exporter_sends_the_encoded_batch(otlp_receiver):
    spans = finished_spans(lambda provider: provider.get_tracer("t").start_span("sent").end())
    exporter = OTLPSpanExporter(endpoint=f"{otlp_receiver.endpoint}/v1/traces")
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert [span["name"] for span in otlp_receiver.spans()] == ["sent"]
    exporter.shutdown()
    assert exporter.export(spans) == SpanExportResult.FAILURE


def test_a_collector_that_refuses_the_batch_is_a_failed_export(otlp_receiver):
    spans = finished_spans(lambda provider: provider.get_tracer("t").start_span("refused").end())
    # The receiver answers 404 for any other path.
    assert OTLPSpanExporter(endpoint=f"{otlp_receiver.endpoint}/elsewhere").export(spans) == SpanExportResult.FAILURE


def test_values_that_differ_every_time_do_not_grow_the_cache():
    # Client ports and addresses change with every request; the cache must stay small.
    from jiwoo import otlp_wire

    def make(provider):
        tracer = provider.get_tracer("t")
        for port in range(3 * otlp_wire._CACHE_LIMIT):
            with tracer.start_as_current_span("GET", attributes={"client.port": port, "http.route": "messages/"}):
                pass

    spans = finished_spans(make)
    assert_same_bytes(spans)
    assert 0 < len(otlp_wire._encoded_attributes) <= otlp_wire._CACHE_LIMIT


def test_equal_scopes_from_different_tracers_are_one_group_as_in_the_library():
    # The DB-API instrumentation makes a tracer (so a scope object) per connection.
    from jiwoo import otlp_wire

    def make(provider):
        for number in range(3 * otlp_wire._SCOPE_CACHE_LIMIT):
            with provider.get_tracer("opentelemetry.instrumentation.psycopg", "0.66b1").start_as_current_span("SELECT"):
                pass
            with provider.get_tracer(f"scope-{number % 3}").start_as_current_span("other"):
                pass

    spans = finished_spans(make)
    assert_same_bytes(spans)
    decoded = ExportTraceServiceRequest.FromString(encode_spans(spans))
    assert len(decoded.resource_spans[0].scope_spans) == 4
    assert len(otlp_wire._encoded_scopes) <= otlp_wire._SCOPE_CACHE_LIMIT
