"""Keeps `make bench` working: a two-scenario run of a second each on a small fresh database.

It asserts that the benchmark runs and reports, never how fast anything is.
"""

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_and_reports(tmp_path):
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is needed in CI (apt-get install wrk)")
        pytest.skip("wrk is not installed")
    name = f"jiwoo_bench_smoke_{uuid.uuid4().hex[:8]}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.run",
                "--smoke",
                "--database-url",
                url,
                "--scenario",
                "messages page",
                "--scenario",
                "/healthz",
                "--variants",
                "off,on,grpc",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        # The microscope runs on the same seeded database: one round of each variant.
        inprocess = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.inprocess",
                "--database-url",
                url,
                "--requests",
                "20",
                "--warmup",
                "5",
                "--rounds",
                "1",
                "--variants",
                "off,on,on-django",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        # The microscope's ABBA mode: parts switched inside one process, and the floor beside them.
        abba = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.inprocess",
                "--database-url",
                url,
                "--warmup",
                "5",
                "--rounds",
                "1",
                "--pairs",
                "2",
                "--block",
                "5",
                "--abba",
                "all,exporter,sqlwrap",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    finally:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            capture_output=True,
        )

    assert result.returncode == 0, result.stderr[-3000:]
    # The first table's rows: one per scenario, ending in "spans created / received / dropped".
    rows = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("| messages page", "| /healthz")) and re.search(r"\| \d+ / \d+ / \d+ \|$", line)
    ]
    assert len(rows) == 2, result.stdout[-3000:]
    created, received, dropped = (int(n) for n in rows[0].rsplit("|", 2)[1].split("/"))
    assert created > 0
    # Spans reached the sink; on a busy machine the bounded queue may drop a few, and says so.
    assert 0 < received <= created
    assert received + dropped <= created
    # The floor, measured in the run, and what on adds over it for the scenario that makes spans.
    assert re.search(r"round 1: the floor is [\d.]+ µs CPU a span", result.stdout), result.stdout[-3000:]
    floor_row = re.compile(r"\| messages page \| [\d.]+ \| -?\d+ \| \d+ \| -?[\d.]+ \(")
    floor_rows = [line for line in result.stdout.splitlines() if floor_row.match(line)]
    assert len(floor_rows) == 1, result.stdout[-3000:]
    # The grpc variant exported its spans to the sink's OTLP/gRPC port (a run where none arrived fails).
    grpc_rows = [line for line in result.stdout.splitlines() if line.startswith("| `grpc` | messages page")]
    assert len(grpc_rows) == 1, result.stdout[-3000:]
    assert int(grpc_rows[0].rsplit("|", 2)[1]) > 0

    assert inprocess.returncode == 0, inprocess.stderr[-3000:]
    summary = inprocess.stdout.split("minimum and median", 1)[1]
    assert [line.split()[0] for line in summary.splitlines()[1:] if line.strip()] == ["off", "on", "on-django"]

    assert abba.returncode == 0, abba.stderr[-3000:]
    table = abba.stdout.split("'added' is the median over pairs of on - off:", 1)[1].splitlines()
    rows = {line.split()[0]: line for line in table[2:5]}
    assert list(rows) == ["all", "exporter", "sqlwrap"], abba.stdout
    # Every part off leaves no spans; the candidates make as many spans as the parts they replace.
    assert rows["all"].endswith("/0.00")
    assert re.search(r"\d\.\d\d \([\d.-]+ to [\d.-]+\)", rows["all"]), rows["all"]  # overhead ÷ floor
    spans = [float(number) for number in rows["sqlwrap"].rsplit(None, 1)[1].split("/")]
    assert spans[0] > 1
    assert spans[0] == pytest.approx(spans[1], abs=0.5)
    assert "the floor: that many bare spans" in abba.stdout


def test_the_span_cost_script_runs_and_reports():
    result = subprocess.run(
        [sys.executable, "-m", "bench.span_cost", "--spans", "300", "--protocol", "both"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # It fails when the sink did not receive every span, so both exporters really exported.
    assert result.returncode == 0, result.stderr[-3000:]
    assert "encoding only: library" in result.stdout
    for protocol in ("http/protobuf", "grpc"):
        assert result.stdout.count(f"over {protocol:13}:") == 3, result.stdout
