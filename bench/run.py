"""`make bench`: what observability costs jiwoo, measured under load.

jiwoo runs under gunicorn (2 sync workers, production settings) against PostgreSQL and Redis,
exporting to a local OTLP sink (bench/sink.py), and wrk drives it from a second process.
Each scenario is measured in every variant, in turn, round after round, so that drift
cancels out:
- ``off``: OTEL_SDK_DISABLED=true, no request log line, no recent activity;
- ``on``: jiwoo's observability fully on (100 % sampling, OTLP export, the http.request log
  line, recent activity);
- ``stock``: the same app with OpenTelemetry's zero-code auto-instrumentation instead of
  jiwoo's telemetry module (bench/stock/), exporting to the same sink, log line and activity on;
- ``sampled``: ``on`` with head sampling, as the README advises for busy production
  (``parentbased_traceidratio`` at ``--sample-ratio``, a tenth by default): the other traces
  are neither recorded nor exported, while every log line still carries its trace id;
- ``grpc``: ``on`` with its spans exported over OTLP/gRPC to the sink's gRPC port instead of
  OTLP/HTTP (only the spans: the metrics still go over HTTP, where the chart's
  ``telemetry.protocol: grpc`` switches every signal);
- ``jiwoo-exporter`` and ``library-exporter``: ``on`` with its spans sent over OTLP/HTTP by
  jiwoo's own exporter (observability/otlp_http.py) or by the library's (OTLP_SPAN_EXPORTER);
- ``store``: ``on`` with the trace view's store as well (TRACE_VIEW_ENABLED=true: every
  request's spans also written to Redis), to see what keeping traces in the app costs;
- ``on@NAME`` for each ``--tree NAME=PATH``: ``on`` run from another checkout of jiwoo (a
  git worktree of an older commit, say), to compare a change before and after in one run.

It reports requests/s, p50/p95/p99 latency, CPU per request (from the workers'
/proc/<pid>/stat), the on/off ratios, spans received by the sink against spans created, and
worker memory; appends a Markdown table to docs/BENCHMARKS.md and writes JSON to
bench/results/. It is a benchmark, not a test: nothing here asserts a time.

    .venv/bin/python -m bench.run [--duration 10] [--rounds 2] [--variants off,on,stock] [--smoke]
    git worktree add /tmp/jiwoo-before HEAD~1 && .venv/bin/python -m bench.run --tree before=/tmp/jiwoo-before

Run it from the repository root, as a module (`make bench` does).
"""

import argparse
import sys
import tempfile
from pathlib import Path

from bench import ROOT
from bench.database import prepare_database
from bench.plot import plot
from bench.report import assemble, markdown, save
from bench.scenarios import SCENARIOS, measure, memory_run
from bench.servers import base_env, free_port, running_sink
from bench.span_cost import Floor

# Bare spans measured for the floor in each round: a second or so of this machine's time.
FLOOR_SPANS = 3000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jiwoo_bench")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    # One connection per sync worker: every worker always busy, and no request queued behind
    # another inside gunicorn, so the latencies are the app's, not a queue's.
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--primary-messages", type=int, default=200_000)
    parser.add_argument("--memory-seconds", type=int, default=60)
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="only these (repeatable)")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--smoke", action="store_true", help="a short run on little data that records nothing")
    parser.add_argument(
        "--variants",
        default="off,on,stock",
        help="comma-separated: off, on, sampled, grpc, store, jiwoo-exporter, library-exporter, stock "
        "(--smoke: off,on)",
    )
    parser.add_argument(
        "--sample-ratio", type=float, default=0.1, help="the share of traces the sampled variant records"
    )
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run `on` from another checkout of jiwoo, as the variant on@NAME (repeatable)",
    )
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmark.png", help="where the plot goes")
    parser.add_argument(
        "--on-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment with observability on, to try a setting (repeatable)",
    )
    args = parser.parse_args()
    args.on_env = dict(item.split("=", 1) for item in args.on_env)
    args.trees = {name: Path(path).resolve() for name, path in (item.split("=", 1) for item in args.tree)}
    if args.smoke:
        args.duration, args.warmup, args.rounds, args.memory_seconds = 1, 1, 1, 0
        args.messages, args.primary_messages = 2_000, 1_000
        if "--variants" not in sys.argv:
            args.variants = "off,on"
    if not 0 <= args.sample_ratio <= 1:
        parser.error(f"--sample-ratio is a share of traces, from 0 to 1; not {args.sample_ratio}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    known = {"off", "on", "sampled", "grpc", "store", "jiwoo-exporter", "library-exporter", "stock"}
    if (unknown := set(variants) - known) or "off" not in variants:
        parser.error(f"--variants takes off (always) and any of {sorted(known - {'off'})}; not {sorted(unknown)}")
    variants += [f"on@{name}" for name in args.trees]

    base = base_env(args.database_url)
    prepare_database(args.database_url, base, args.messages, args.primary_messages)
    runs: list[dict] = []
    floors: list[dict] = []
    grpc_port = free_port()
    args.grpc_url = f"http://127.0.0.1:{grpc_port}"
    with running_sink(grpc_port=grpc_port) as sink_url, tempfile.TemporaryDirectory(prefix="jiwoo-bench-") as workdir:
        # Round by round, every scenario in each: a round's numbers were all taken close together,
        # so ratios within a round (a variant against off, the page against a POST) hold while
        # the machine drifts.
        floor = Floor(sink_url)
        floor.per_span(500)  # the exporter's connection and the code warmed up, not measured
        for round_number in range(args.rounds):
            # The floor of this round: what one bare span costs, created and exported by the library.
            floors.append({"round": round_number + 1, "us_per_span": floor.per_span(FLOOR_SPANS)})
            print(f"round {round_number + 1}: the floor is {floors[-1]['us_per_span']:.1f} µs CPU a span", flush=True)
            for name in args.scenario or SCENARIOS:
                for mode in variants:
                    result = measure(name, SCENARIOS[name], mode, args, base, sink_url, Path(workdir))
                    runs.append({**result, "round": round_number + 1})
                    print(
                        f"{name:24} {mode:10} round {round_number + 1}: {result['rps']:7.0f} req/s, "
                        f"p95 {result['p95_ms']:6.2f} ms, p99 {result['p99_ms']:6.2f} ms, "
                        f"{result['cpu_us_per_request']:6.0f} µs CPU/req",
                        flush=True,
                    )
        floor.close()
        memory = memory_run(args, base, sink_url, Path(workdir)) if args.memory_seconds else None

    report = assemble(args, variants, runs, memory, floors)
    table = markdown(report)
    print("\n" + table)
    if args.smoke:
        return
    plot(report["comparison"], args.plot)
    save(report, table, args.output_dir, args.markdown)


if __name__ == "__main__":
    main()
