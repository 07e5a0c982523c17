"""The benchmark's arithmetic: ratios are taken within a round, against the baseline asked for."""

import math

import pytest

from bench.report import markdown
from bench.servers import mode_env
from bench.stats import compare, over_floor, page_over_post_cpu, spread, summarise


def measured(scenario: str, mode: str, round_number: int, rps: float, p99: float, cpu: float) -> dict:
    return {
        "scenario": scenario,
        "mode": mode,
        "round": round_number,
        "rps": rps,
        "p50_ms": p99 / 2,
        "p95_ms": p99 * 0.9,
        "p99_ms": p99,
        "cpu_us_per_request": cpu,
        "spans_created": 10,
        "spans_received": 10,
        "spans_dropped": 0,
        "errors": 0,
        "worker_rss_kib": 1024,
        "spans_per_request": 0.0 if mode == "off" else 4.0,
    }


# Round 2 ran on a machine twice as slow: within a round the ratios are the same as in round 1.
RUNS = [
    measured("POST /api/messages", "off", 1, 400, 10, 2000),
    measured("POST /api/messages", "on", 1, 300, 12, 2800),
    measured("POST /api/messages", "stock", 1, 250, 30, 3000),
    measured("messages page", "off", 1, 100, 20, 6000),
    measured("POST /api/messages", "off", 2, 200, 20, 4000),
    measured("POST /api/messages", "on", 2, 150, 24, 5600),
    measured("POST /api/messages", "stock", 2, 100, 90, 6400),
    measured("messages page", "off", 2, 50, 40, 14000),
]


def test_each_variant_is_compared_with_off_within_its_round():
    rows = {row["variant"]: row for row in compare(RUNS) if row["scenario"] == "POST /api/messages"}

    assert set(rows) == {"on", "stock"}
    assert rows["on"]["rps_ratio"] == pytest.approx(0.75)
    assert rows["on"]["rps_ratio_min"] == rows["on"]["rps_ratio_max"] == pytest.approx(0.75)
    assert rows["stock"]["rps_ratio_min"] == pytest.approx(0.5)
    assert rows["stock"]["rps_ratio_max"] == pytest.approx(0.625)
    assert rows["on"]["rps"] == pytest.approx(225)
    assert rows["on"]["spans_received"] == 20


def test_a_part_that_adds_to_on_is_reported_against_on():
    runs = [
        *RUNS,
        measured("POST /api/messages", "store", 1, 270, 15, 3080),
        measured("POST /api/messages", "store", 2, 120, 36, 6720),
    ]
    report = {
        "date": "today",
        "versions": dict.fromkeys(
            ("cpu", "python", "django", "gunicorn", "opentelemetry-sdk", "postgresql", "redis", "wrk"), "?"
        ),
        "settings": {"connections": 2, "duration": 10, "warmup": 2, "rounds": 2},
        "variants": ["off", "on", "store"],
        "summary": summarise(runs),
        "against_on": {"store": compare(runs, baseline="on", variants=("store",))},
    }

    text = markdown(report)

    assert "`store` against `on`, ratios taken within a round" in text
    # Round 1: 270/300 = 0.90, 15/12 = 1.25, 3080/2800 = 1.10; round 2: 0.80, 1.50, 1.20.
    assert "| POST /api/messages | 0.85 (0.80 to 0.90) | 1.38 (1.25 to 1.50) | 1.15 (1.10 to 1.20) |" in text


def test_on_is_compared_with_another_baseline_when_asked():
    (row,) = compare(RUNS, baseline="stock", variants=("on",))

    assert (row["scenario"], row["variant"], row["baseline"], row["rounds"]) == ("POST /api/messages", "on", "stock", 2)
    assert row["rps_ratio_min"] == pytest.approx(1.2)
    assert row["rps_ratio_max"] == pytest.approx(1.5)
    assert row["p99_ratio_min"] == pytest.approx(24 / 90)
    assert row["p99_ratio_max"] == pytest.approx(0.4)


def test_the_page_is_weighed_against_a_post_of_the_same_round():
    cost = page_over_post_cpu(RUNS)

    assert cost["rounds"] == 2
    assert cost["ratio_min"] == pytest.approx(3.0)
    assert cost["ratio_max"] == pytest.approx(3.5)
    assert cost["ratio"] == pytest.approx(3.25)


def test_no_page_ratio_without_both_scenarios():
    assert page_over_post_cpu([run for run in RUNS if run["scenario"] != "messages page"]) is None


def test_a_ratio_with_no_values_is_not_a_number():
    assert all(math.isnan(value) for value in spread([], "ratio").values())


def test_what_on_adds_is_weighed_against_the_floor_of_its_round():
    # Round 2's machine is twice as slow, for the app and for bare spans alike.
    (row,) = [row for row in over_floor(RUNS, FLOORS) if row["scenario"] == "POST /api/messages"]

    assert row["rounds"] == 2
    assert row["spans_per_request"] == 4.0
    assert row["added_us_min"] == pytest.approx(800)
    assert row["added_us_max"] == pytest.approx(1600)
    assert row["floor_us_min"] == pytest.approx(400)
    assert row["ratio_min"] == row["ratio_max"] == pytest.approx(2.0)


def test_no_floor_ratio_without_on_or_without_spans():
    # The page ran off only; a scenario that makes no spans has no floor to weigh against.
    no_spans = [{**run, "spans_per_request": 0.0} for run in RUNS]

    assert [row["scenario"] for row in over_floor(RUNS, FLOORS)] == ["POST /api/messages"]
    assert over_floor(no_spans, FLOORS) == []


FLOORS = [{"round": 1, "us_per_span": 100.0}, {"round": 2, "us_per_span": 200.0}]


def test_the_report_shows_both_comparisons():
    report = {
        "date": "today",
        "versions": dict.fromkeys(
            ("cpu", "python", "django", "gunicorn", "opentelemetry-sdk", "postgresql", "redis", "wrk"), "?"
        ),
        "settings": {"connections": 2, "duration": 10, "warmup": 2, "rounds": 2, "sample_ratio": 0.25},
        "variants": ["off", "on", "stock", "sampled"],
        "summary": summarise(RUNS),
        "comparison": compare(RUNS),
        "on_against": {"stock": compare(RUNS, baseline="stock", variants=("on",))},
        "page_over_post_cpu": page_over_post_cpu(RUNS),
        "floors": FLOORS,
        "over_floor": over_floor(RUNS, FLOORS),
    }

    text = markdown(report)

    assert "2 rounds of off, on, stock, sampled (0.25); medians shown." in text
    assert "| POST /api/messages | 1.35 (1.20 to 1.50) | 0.33 (0.27 to 0.40) | 0.90 (0.88 to 0.93) |" in text
    assert "observability off, within a round: 3.25 (3.00 to 3.50) over 2 rounds." in text
    assert "measured in each round: 100 to 200 µs a span)" in text
    assert "| POST /api/messages | 4.00 | 1200 | 600 | 2.00 (2.00 to 2.00) |" in text


def test_the_variants_differ_only_where_they_should():
    base = {"DATABASE_URL": "postgres://bench"}
    off = mode_env(base, "off", "http://sink")
    on = mode_env(base, "on", "http://sink")
    sampled = mode_env(base, "sampled", "http://sink", sample_ratio=0.25)
    grpc = mode_env(base, "grpc", "http://sink", grpc_url="http://127.0.0.1:4317")

    assert off["OTEL_SDK_DISABLED"] == "true"
    assert off["DJANGO_REQUEST_LOG"] == "false"
    assert on["OTEL_TRACES_SAMPLER"] == "always_on"
    assert {key: value for key, value in sampled.items() if on.get(key) != value} == {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
    }
    with pytest.raises(ValueError, match="grpc_url"):
        mode_env(base, "grpc", "http://sink")
    # Only the spans change their way out; metrics still go to the sink over HTTP.
    assert {key: value for key, value in grpc.items() if on.get(key) != value} == {
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317",
    }


def test_the_exporter_variants_differ_from_on_only_in_the_span_exporter():
    base = {"DATABASE_URL": "postgres://bench"}
    on = mode_env(base, "on", "http://sink")

    for variant, chosen in (("jiwoo-exporter", "jiwoo"), ("library-exporter", "library")):
        env = mode_env(base, variant, "http://sink")
        assert {key: value for key, value in env.items() if on.get(key) != value} == {"OTLP_SPAN_EXPORTER": chosen}
